package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
)

// budgetLayout splits an account's mailboxes between the connections of
// its budget: the first ones listed get an IDLE connection each, and the
// rest, if any, are polled together on one more. Without IDLE every
// mailbox is polled, on one connection.
func budgetLayout(mailboxes []string, budget int, hasIdle bool) (idled, polled []string) {
	budget = max(budget, 1)
	switch {
	case !hasIdle:
		return nil, mailboxes
	case len(mailboxes) <= budget:
		return mailboxes, nil
	default:
		return mailboxes[:budget-1], mailboxes[budget-1:]
	}
}

// watchBudget watches w's mailboxes within the account's max_connections
// (budgetLayout), starting with s, a logged-in session, which the first
// connection takes over. Every connection reconnects on its own after a
// failure, closing the old one first, so the account never holds more
// than the budget, reconnects included. watchBudget returns nil when ctx
// ends, or errMailboxesChanged when a reload changed the mailbox list
// (the connections are then laid out anew).
func (e *Engine) watchBudget(ctx context.Context, s *session, w *acctWatcher, connected func()) error {
	acct, mailboxes := w.snapshot()
	budget := acct.MaxConnections
	if budget <= 0 {
		budget = config.DefaultMaxConnections
	}
	idled, polled := budgetLayout(mailboxes, budget, s.client.Has(imap.CapIdle))
	s.log.Info("connection budget", zap.Int("max_connections", budget),
		zap.Strings("idle", idled), zap.Strings("polled", polled), zap.Duration("poll_interval", pollInterval(acct)))
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	first := s
	take := func() *session { f := first; first = nil; return f }
	for _, mb := range idled {
		wg.Add(1)
		go func(sess *session) {
			defer wg.Done()
			e.watchMailbox(bctx, acct, mb, sess)
		}(take())
	}
	if len(polled) > 0 {
		wg.Add(1)
		go func(sess *session) {
			defer wg.Done()
			e.pollMailboxes(bctx, acct, polled, sess)
		}(take())
	}
	connected()
	changed := false
	select {
	case <-ctx.Done():
	case <-w.changed:
		changed = true
	}
	cancel()
	wg.Wait()
	if changed {
		return errMailboxesChanged
	}
	return nil
}

// pollInterval is the account's poll_interval, or the default.
func pollInterval(acct *config.Account) time.Duration {
	if acct.PollInterval > 0 {
		return acct.PollInterval
	}
	return config.DefaultPollInterval
}

// pollMailboxes keeps mailboxes watched by polling them on one connection
// until ctx ends, reconnecting after failures. first, if not nil, is a
// logged-in session to start with.
func (e *Engine) pollMailboxes(ctx context.Context, acct *config.Account, mailboxes []string, first *session) {
	log := e.log.With(zap.String("account", acct.Name))
	b := newBackoff(e.opts.MinBackoff, e.opts.MaxBackoff)
	for ctx.Err() == nil {
		err := e.pollOnce(ctx, acct, mailboxes, first, b.reset)
		first = nil
		if ctx.Err() != nil {
			break
		}
		for _, mb := range mailboxes {
			e.watchFailed(acct.Name, mb)
			e.opts.Metrics.setConnected(acct.Name, mb, false, err)
		}
		wait := b.delay()
		log.Warn("polling connection failed; reconnecting", zap.Error(err), zap.Duration("in", wait))
		if !sleep(ctx, wait) {
			break
		}
	}
}

// pollOnce connects (or takes first), passes over every mailbox, then
// every poll_interval asks for their STATUS (one LIST-STATUS command where
// the server has it) and passes over those with new mail, until the
// connection fails (returned) or ctx ends (nil).
func (e *Engine) pollOnce(ctx context.Context, acct *config.Account, mailboxes []string, first *session, connected func()) (err error) {
	s := first
	if s == nil {
		if s, err = e.connect(ctx, acct); err != nil {
			return err
		}
	}
	defer s.logout()
	s.setUpdates(nil)
	for _, mb := range mailboxes {
		e.opts.Metrics.setConnected(acct.Name, mb, true, nil)
	}
	defer func() {
		for _, mb := range mailboxes {
			e.opts.Metrics.setConnected(acct.Name, mb, false, err)
		}
	}()
	lastSweep := time.Now()
	due := mailboxes
	for {
		for _, mb := range due {
			if ctx.Err() != nil {
				return nil
			}
			if _, err := s.watchRound(ctx, mb); err != nil { // learn.go: learning, the flag pass, the pass
				if s.broken() {
					return err
				}
				s.log.Error("pass failed; trying again at the next poll", zap.String("mailbox", mb), zap.Error(err))
				e.watchFailed(acct.Name, mb)
			}
		}
		connected()
		if !sleep(ctx, pollInterval(acct)) {
			return nil
		}
		if due, err = e.pollDue(ctx, s, mailboxes); err != nil {
			return err
		}
		if time.Since(lastSweep) >= sweepInterval(acct) {
			lastSweep = time.Now()
			cfg := e.config()
			for _, mb := range mailboxes {
				if cfg.Rules.For(acct.Name, mb).HasScopeAll() && !slices.Contains(due, mb) {
					due = append(due, mb)
				}
			}
		}
	}
}

// pollDue asks the server for the STATUS of mailboxes and returns those
// that need a pass: new mail since the recorded highest UID, a changed
// UIDVALIDITY, a batch or messages to try again (messages waiting for a
// classifier's verdict among them), or, for a mailbox with
// flag rules, a HIGHESTMODSEQ past the one its flag passes recorded (always,
// on a server without CONDSTORE: the flag pass compares the flags itself).
func (e *Engine) pollDue(ctx context.Context, s *session, mailboxes []string) ([]string, error) {
	acct := s.acct
	names := make([]string, len(mailboxes))
	byServer := map[string]string{}
	for i, mb := range mailboxes {
		name, err := s.serverName(ctx, mb)
		if err != nil {
			return nil, err
		}
		names[i] = name
		byServer[name] = mb
	}
	// Not cancelled with ctx: cancelling a command in flight would cost
	// the connection.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout(acct))
	defer cancel()
	if s.selected != "" {
		// Dovecot answers STATUS for the selected mailbox from the
		// session's view, which a NOOP brings up to date.
		if err := s.client.Noop(cctx); err != nil {
			return nil, s.note(fmt.Errorf("noop: %w", err))
		}
	}
	statuses := map[string]*imap.StatusData{}
	items := []imap.StatusItem{imap.StatusUIDNext, imap.StatusUIDValidity, imap.StatusMessages}
	condstore := s.client.Has(imap.CapCondStore)
	if condstore {
		items = append(items, imap.StatusHighestModSeq)
	}
	rules := e.config().Rules
	if s.client.Has(imap.CapListStatus) && s.client.Has(imap.CapListExtended) {
		_, list, err := s.client.ListStatus(cctx, "", names, items...)
		if err != nil {
			return nil, s.note(fmt.Errorf("list-status: %w", err))
		}
		for _, st := range list {
			if mb, ok := byServer[st.Mailbox]; ok {
				statuses[mb] = st
			}
		}
	} else {
		for i, mb := range mailboxes {
			st, err := s.client.Status(cctx, names[i], items...)
			if err != nil {
				if s.note(err); s.broken() {
					return nil, fmt.Errorf("status %q: %w", names[i], err)
				}
				continue // the pass will say what is wrong
			}
			statuses[mb] = st
		}
	}
	var due []string
	for _, mb := range mailboxes {
		e.opts.Metrics.alive(acct.Name, mb)
		st, known, err := e.store.Get(acct.Name, mb)
		if err != nil {
			return nil, err
		}
		data := statuses[mb]
		switch {
		case data == nil || data.UIDNext == nil || data.UIDValidity == nil || !known:
			due = append(due, mb) // the pass looks properly
		case *data.UIDValidity != st.UIDValidity || *data.UIDNext > st.HighestUID+1:
			due = append(due, mb)
		case st.Pending != nil || len(st.Retry) > 0 || len(st.Deferred)+len(st.DeferredOld) > 0:
			due = append(due, mb)
		case rules.For(acct.Name, mb).HasFlagRules() && (!condstore || st.Flags == nil || st.Flags.NoModSeq || data.HighestModSeq > st.Flags.ModSeq):
			due = append(due, mb)
		}
	}
	return due, nil
}
