package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
)

// notifyEvents are what the account's connection asks to hear about each
// watched mailbox: new mail (and, as RFC 5465 section 5 requires with it,
// expunges) and flag changes.
var notifyEvents = []imap.NotifyEvent{imap.EventMessageNew, imap.EventMessageExpunge, imap.EventFlagChange}

// notifyWatch is the state of one account's NOTIFY connection. The update
// handler runs on the goroutine of the command in flight, which is the
// loop's; reloads and timers come from others, hence the lock.
type notifyWatch struct {
	e *Engine
	s *session
	w *acctWatcher

	mu        sync.Mutex
	mailboxes []string          // watched, as the config names them, in its order
	byServer  map[string]string // server name -> config name
	pending   map[string]bool   // mailboxes that need a pass
	notified  map[string]bool   // pending because the server reported new mail
	seen      map[string]notifySeen
	overflow  bool
	// reconfigure is set when a reload changed the mailbox list.
	reconfigure bool
	// nextSweep is when every mailbox gets a pass (markSweeps); only the
	// loop's goroutine uses it.
	nextSweep time.Time
	stopIdle  context.CancelFunc
}

// notifySeen is the last MESSAGES and UIDNEXT a STATUS notification gave
// for a mailbox.
type notifySeen struct{ messages, uidNext uint32 }

// watchNotify watches every mailbox of w on the one connection s, which it
// logs out when it returns (ctx ended: nil; the connection failed: its
// error), except when the server refuses NOTIFY SET: then s is left open
// for the budget and a *notifyRefusedError is returned. connected is
// called after the first round of passes.
//
// A new message in the selected mailbox comes as EXISTS, one in another
// watched mailbox as a STATUS whose UIDNEXT (or MESSAGES) grew (RFC 5465
// section 5.2); either makes that mailbox's pass run next, on this
// connection, and IDLE resumes when no pass is pending. So a message in a
// folder that is not selected is acted on within the server's notification
// delay plus the pass, as in the selected one.
func (e *Engine) watchNotify(ctx context.Context, s *session, w *acctWatcher, connected func()) (err error) {
	n := &notifyWatch{e: e, s: s, w: w, pending: map[string]bool{}, notified: map[string]bool{},
		seen: map[string]notifySeen{}, stopIdle: func() {}, nextSweep: time.Now().Add(sweepInterval(s.acct))}
	refused := false
	defer func() {
		if !refused {
			s.logout()
		}
	}()
	s.setUpdates(n.update)
	acct := s.acct
	log := s.log

	if err := n.subscribe(ctx); err != nil {
		var re *notifyRefusedError
		refused = errors.As(err, &re)
		return err
	}
	n.mu.Lock()
	mailboxes := slices.Clone(n.mailboxes)
	n.mu.Unlock()
	for _, mb := range mailboxes {
		e.opts.Metrics.setConnected(acct.Name, mb, true, nil)
	}
	defer func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		for _, mb := range n.mailboxes {
			e.opts.Metrics.setConnected(acct.Name, mb, false, err)
		}
	}()
	log.Info("watching with NOTIFY on one connection", zap.Int("mailboxes", len(mailboxes)))

	// Mailbox list changes from a reload end the wait.
	reconfigured := make(chan struct{})
	defer close(reconfigured)
	go func() {
		for {
			select {
			case <-w.changed:
				n.mu.Lock()
				n.reconfigure = true
				n.stopIdle()
				n.mu.Unlock()
			case <-reconfigured:
				return
			case <-ctx.Done():
				return
			}
		}
	}()

	first := true
	for {
		if err := n.passes(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if first {
			connected()
			first = false
		}
		if err := n.home(ctx); err != nil {
			return err
		}
		sweep, err := n.wait(ctx)
		if err != nil {
			return s.note(err)
		}
		if ctx.Err() != nil {
			return nil
		}
		n.mu.Lock()
		redo, overflow := n.reconfigure, n.overflow
		n.reconfigure, n.overflow = false, false
		n.mu.Unlock()
		// A new NOTIFY SET on this connection would do for both, but
		// Dovecot 2.3 then sometimes stops reporting some mailboxes (one
		// selected during it, or after it): log in anew instead, which
		// passes over every mailbox.
		if overflow {
			log.Warn("the server stopped notifying (NOTIFICATIONOVERFLOW): reconnecting, then passing over every mailbox")
			return errMailboxesChanged
		}
		if redo {
			log.Info("the watched mailboxes changed: reconnecting to watch the new list")
			return errMailboxesChanged
		}
		if sweep {
			n.nextSweep = time.Now().Add(sweepInterval(acct))
			n.markSweeps()
		}
	}
}

// subscribe sends NOTIFY SET for the mailboxes the watcher has now, and
// marks every one for a first pass. Passes come after NOTIFY SET, so mail
// that arrives in between is not missed.
func (n *notifyWatch) subscribe(ctx context.Context) error {
	s := n.s
	_, mailboxes := n.w.snapshot()
	byServer := map[string]string{}
	var names []string
	for _, mb := range mailboxes {
		name, err := s.serverName(ctx, mb)
		if err != nil {
			return err
		}
		byServer[name] = mb
		names = append(names, name)
	}
	opts := &imap.NotifyOptions{Groups: []imap.NotifyGroup{
		{Filter: imap.NotifySelected, Events: notifyEvents},
		{Filter: imap.NotifyMailboxes, Mailboxes: names, Events: notifyEvents},
		// Renames and deletions anywhere, logged when they hit a watched
		// mailbox (Dovecot reports them only for this filter).
		{Filter: imap.NotifyPersonal, Events: []imap.NotifyEvent{imap.EventMailboxName}},
	}}
	if err := s.client.NotifySet(ctx, opts); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return &notifyRefusedError{err: err}
		}
		return s.note(fmt.Errorf("notify set: %w", err))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, mb := range mailboxes {
		n.pending[mb] = true
	}
	n.mailboxes, n.byServer = mailboxes, byServer
	return nil
}

// home selects the first mailbox listed (INBOX, usually: the one with the
// most mail) before waiting, after a pass over another one: new mail there
// then comes as EXISTS and its pass needs no SELECT, the quickest path. Mail
// in the other mailboxes comes as STATUS either way.
func (n *notifyWatch) home(ctx context.Context) error {
	n.mu.Lock()
	var first string
	if len(n.mailboxes) > 0 {
		first = n.mailboxes[0]
	}
	pending := len(n.pending) > 0
	n.mu.Unlock()
	if first == "" || pending || ctx.Err() != nil {
		return nil
	}
	name, err := n.s.serverName(ctx, first)
	if err != nil {
		return err
	}
	if n.s.selected == name || n.s.e.opts.DryRun {
		return nil
	}
	st, err := n.s.open(ctx, name)
	if err != nil {
		if n.s.broken() {
			return err
		}
		n.s.log.Warn("cannot select the first mailbox to wait in", zap.String("mailbox", first), zap.Error(err))
		return nil
	}
	// Mail that arrived while it was being selected came in the SELECT
	// answer, not as news: look at UIDNEXT.
	uidNext := st.UIDNext
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.handled(first, &imap.StatusData{UIDNext: &uidNext, UIDValidity: &st.UIDValidity}) {
		n.markLocked(first)
	}
	return nil
}

// update takes the server's unsolicited data: it marks the mailboxes that
// have new mail and ends the IDLE so that their passes run.
func (n *notifyWatch) update(u imap.Update) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch u.Kind {
	case imap.UpdateExists, imap.UpdateFetch:
		// The client's selected mailbox, not s.selected: a dry run
		// examines. A FETCH (changed flags) matters only to flag rules.
		if sel := n.s.client.Mailbox(); sel != nil {
			if mb, ok := n.byServer[sel.Name]; ok && (u.Kind == imap.UpdateExists || n.hasFlagRules(mb)) {
				n.markLocked(mb)
			}
		}
	case imap.UpdateStatus:
		mb, ok := n.byServer[u.Status.Mailbox]
		n.s.log.Debug("notified", zap.String("server_mailbox", u.Status.Mailbox), zap.Bool("watched", ok))
		if !ok {
			return
		}
		old, known := n.seen[mb]
		now := old
		if u.Status.Messages != nil {
			now.messages = *u.Status.Messages
		}
		if u.Status.UIDNext != nil {
			now.uidNext = *u.Status.UIDNext
		}
		n.seen[mb] = now
		// A flag change or an expunge leaves UIDNEXT alone and MESSAGES
		// the same or lower: nothing to pass over. Without UIDNEXT the
		// pass finds out (one STATUS when the mailbox is not selected).
		switch {
		case !known:
			// The first news of this mailbox (Dovecot reports every
			// mailbox the first round of passes opened): new only if the
			// state has not seen that far.
			if !n.handled(mb, u.Status) {
				n.markLocked(mb)
			}
		case u.Status.UIDNext == nil || now.uidNext != old.uidNext || now.messages > old.messages:
			n.markLocked(mb)
		case n.hasFlagRules(mb):
			// Flags changed or messages went: the flag pass asks for
			// what changed since its MODSEQ (one STATUS if nothing did).
			n.markLocked(mb)
		}
	case imap.UpdateOverflow:
		n.overflow = true
		n.stopIdle()
	case imap.UpdateMailbox:
		for _, name := range []string{u.List.Name, u.List.OldName} {
			if mb, ok := n.byServer[name]; ok {
				n.s.log.Warn("a watched mailbox was renamed or deleted on the server",
					zap.String("mailbox", mb), zap.String("now", u.List.Name), zap.Strings("attributes", u.List.Attrs))
			}
		}
	case imap.UpdateBye:
		n.stopIdle()
	}
}

// handled reports whether the state store shows that mailbox mb's passes
// have seen every UID below the UIDNEXT st reports (same UIDVALIDITY, no
// batch or message pending).
func (n *notifyWatch) handled(mb string, st *imap.StatusData) bool {
	if st.UIDNext == nil || n.pending[mb] {
		return false
	}
	rec, ok, err := n.e.store.Get(n.s.acct.Name, mb)
	if err != nil || !ok || rec.Pending != nil || len(rec.Retry) > 0 {
		return false
	}
	if st.UIDValidity != nil && *st.UIDValidity != rec.UIDValidity {
		return false
	}
	return *st.UIDNext <= rec.HighestUID+1
}

// hasFlagRules reports whether mailbox mb has rules with "flags" in on.
func (n *notifyWatch) hasFlagRules(mb string) bool {
	return n.e.config().Rules.For(n.s.acct.Name, mb).HasFlagRules()
}

func (n *notifyWatch) markLocked(mb string) {
	n.pending[mb] = true
	n.notified[mb] = true
	n.stopIdle()
}

// markSweeps marks every mailbox for a pass, as every sweepInterval
// (idle_restart, 25 minutes) comes round: mailboxes with scope = "all"
// rules need one even when quiet, and for the others it costs one STATUS
// and bounds how long mail could wait if the server ever failed to report
// it.
func (n *notifyWatch) markSweeps() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, mb := range n.mailboxes {
		n.pending[mb] = true
	}
}

// next takes the first pending mailbox in config order ("" when none is),
// and whether the server reported new mail in it.
func (n *notifyWatch) next() (mailbox string, notified bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, mb := range n.mailboxes {
		if n.pending[mb] {
			notified = n.notified[mb]
			delete(n.pending, mb)
			delete(n.notified, mb)
			return mb, notified
		}
	}
	return "", false
}

// passes runs the pending passes, one mailbox after the other, until none
// is pending or ctx ends. A pass that fails without breaking the
// connection is logged and tried again at the next notification; a broken
// connection ends the watch.
func (n *notifyWatch) passes(ctx context.Context) error {
	s, e := n.s, n.e
	for ctx.Err() == nil {
		mb, notified := n.next()
		if mb == "" {
			return nil
		}
		// The server said there is new mail: no STATUS to ask first, the
		// pass selects the mailbox at once. Otherwise (a first pass, a
		// sweep) one STATUS spares a quiet mailbox a SELECT.
		s.watching = notified
		_, err := s.watchRound(ctx, mb) // learn.go: learning, the flag pass, the pass
		s.watching = false
		if err != nil {
			if s.broken() {
				return err
			}
			s.log.Error("pass failed; trying again at the next change", zap.String("mailbox", mb), zap.Error(err))
			e.watchFailed(s.acct.Name, mb)
		}
	}
	return nil
}

// wait waits in IDLE (or, on a server without IDLE, by polling with NOOP)
// until a mailbox needs a pass, the watch must be set up again, or ctx
// ends. sweep reports that the wait ended because the mailboxes with
// scope = "all" rules are due.
func (n *notifyWatch) wait(ctx context.Context) (sweep bool, err error) {
	s, e, acct := n.s, n.e, n.s.acct
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var due atomic.Bool
	t := time.AfterFunc(time.Until(n.nextSweep), func() { due.Store(true); cancel() })
	defer t.Stop()
	n.mu.Lock()
	if len(n.pending) > 0 || n.overflow || n.reconfigure {
		n.mu.Unlock()
		return false, nil
	}
	n.stopIdle = cancel
	mailboxes := slices.Clone(n.mailboxes)
	n.mu.Unlock()
	// Messages that wait for a classifier's verdict are tried again soon,
	// not only when mail arrives.
	var retry []string
	for _, mb := range mailboxes {
		if e.waiting(acct.Name, mb) {
			retry = append(retry, mb)
		}
	}
	if len(retry) > 0 {
		rt := time.AfterFunc(deferredRetryInterval, func() {
			n.mu.Lock()
			for _, mb := range retry {
				n.pending[mb] = true
			}
			n.mu.Unlock()
			cancel()
		})
		defer rt.Stop()
	}
	defer func() {
		n.mu.Lock()
		n.stopIdle = func() {}
		n.mu.Unlock()
	}()

	if !s.client.Has(imap.CapIdle) {
		interval := acct.PollInterval
		if interval <= 0 {
			interval = config.DefaultPollInterval
		}
		for sleep(waitCtx, interval) {
			// Not cancelled with ctx: cancelling a command in flight
			// would cost the connection.
			nctx, ncancel := context.WithTimeout(context.WithoutCancel(ctx), timeout(acct))
			err := s.client.Noop(nctx)
			ncancel()
			if err != nil {
				return false, fmt.Errorf("noop: %w", err)
			}
			for _, mb := range mailboxes {
				e.opts.Metrics.alive(acct.Name, mb)
			}
		}
		return due.Load(), nil
	}
	for _, mb := range mailboxes {
		e.opts.Metrics.setIdling(acct.Name, mb, true)
	}
	err = s.client.Idle(waitCtx, nil)
	for _, mb := range mailboxes {
		e.opts.Metrics.setIdling(acct.Name, mb, false)
	}
	if err != nil {
		return false, err
	}
	return due.Load(), nil
}
