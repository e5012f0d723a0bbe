package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
)

// Watch runs until ctx is cancelled: every account with mailboxes that
// some rule applies to gets a watcher (scheduler.go), which holds one
// connection for all of them where the server has NOTIFY, and otherwise
// keeps to the account's max_connections: one connection per mailbox that
// does a pass, then waits for new mail (IDLE, re-issued before the
// server's 30-minute timeout) and does another pass, for the first
// mailboxes listed, and one that polls the rest with STATUS every
// poll_interval (budget.go). A broken connection is re-established
// with exponential backoff and jitter; the pass then resumes from the state
// store. [Engine.Reload] hands Watch a new configuration, which it applies
// without disturbing the mailboxes whose settings did not change (see
// Reload). When ctx is cancelled the batch in flight finishes, the
// connections log out, and Watch returns nil.
func (e *Engine) Watch(ctx context.Context) error {
	defer e.startService(ctx)()
	defer e.flushStatus()
	sup := &supervisor{e: e, ctx: ctx, running: map[string]*acctWatcher{}}
	sup.apply(e.config(), true)
	e.allWatching()
	for {
		select {
		case <-ctx.Done():
			sup.wait()
			return nil
		case req := <-e.reloads:
			req.done <- sup.apply(req.cfg, false)
			e.notifyProgress()
		}
	}
}

// watchMailbox keeps one mailbox watched on a connection of its own until
// ctx ends, reconnecting after failures. first, if not nil, is a logged-in
// session to start with.
func (e *Engine) watchMailbox(ctx context.Context, acct *config.Account, mailbox string, first *session) {
	log := e.log.With(zap.String("account", acct.Name), zap.String("mailbox", mailbox))
	b := newBackoff(e.opts.MinBackoff, e.opts.MaxBackoff)
	for ctx.Err() == nil {
		err := e.watchOnce(ctx, acct, mailbox, first, b.reset)
		first = nil
		if ctx.Err() != nil {
			break
		}
		e.watchFailed(acct.Name, mailbox)
		wait := b.delay()
		if errors.Is(err, imap.ErrAbort) {
			log.Warn("connection lost; reconnecting", zap.Error(err), zap.Duration("in", wait))
		} else {
			// A refused login, a missing mailbox, a full disk: retried
			// with the same backoff, in case it was passing.
			log.Error("pass failed; starting over", zap.Error(err), zap.Duration("in", wait))
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	log.Info("stopped watching")
}

// watchOnce connects (or takes first), then alternates passes and waits
// until the connection fails (returned) or ctx ends (nil). connected is
// called once the first pass succeeded, to reset the reconnect backoff.
func (e *Engine) watchOnce(ctx context.Context, acct *config.Account, mailbox string, first *session, connected func()) (err error) {
	// Set by the client's reader when the server reports new messages
	// outside IDLE (e.g. in a NOOP response while polling). New mail always
	// comes with EXISTS (RFC 3501 section 7.3.1); a RECENT alone is the
	// server recounting after an expunge, such as our own moves.
	var changed atomic.Bool
	wake := &atomic.Bool{} // the mailbox has flag rules: changed flags end the wait too
	updates := func(u imap.Update) {
		if u.Kind == imap.UpdateExists || flagsWake(u, wake) {
			changed.Store(true)
		}
	}
	s := first
	if s == nil {
		s, err = e.connectWith(ctx, acct, updates)
	} else {
		s.setUpdates(updates)
	}
	if err != nil {
		e.opts.Metrics.setConnected(acct.Name, mailbox, false, err)
		return err
	}
	defer s.logout()
	s.watching = true
	s.wakeOnFlags = wake
	e.opts.Metrics.setConnected(acct.Name, mailbox, true, nil)
	defer func() { e.opts.Metrics.setConnected(acct.Name, mailbox, false, err) }()
	firstPass := true
	for {
		changed.Store(false)
		wake.Store(e.config().Rules.For(acct.Name, mailbox).HasFlagRules())
		if _, err := s.watchRound(ctx, mailbox); err != nil { // learn.go
			return err
		}
		if firstPass {
			connected()
			firstPass = false
		}
		if ctx.Err() != nil {
			return nil
		}
		// With scope = "all" rules (archiving by age, say) a quiet mailbox
		// still needs a pass now and then, not only when mail arrives.
		waitCtx, stopWaiting := ctx, context.CancelFunc(func() {})
		if set := e.config().Rules.For(acct.Name, mailbox); set.HasScopeAll() || set.Len() == 0 {
			// A learn folder without rules may not exist yet: look again
			// now and then.
			waitCtx, stopWaiting = context.WithTimeout(ctx, sweepInterval(acct))
		} else if e.waiting(acct.Name, mailbox) {
			// Messages wait for a classifier's verdict: try again soon,
			// not only when mail arrives.
			waitCtx, stopWaiting = context.WithTimeout(ctx, deferredRetryInterval)
		}
		err := s.wait(waitCtx, mailbox, &changed)
		stopWaiting()
		if err != nil {
			return s.note(err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// sweepInterval is how often watch passes over a mailbox with scope = "all"
// rules when no mail arrives: the account's idle_restart (25 minutes by
// default), the rhythm at which IDLE is re-issued anyway.
func sweepInterval(acct *config.Account) time.Duration {
	if acct.IdleRestart > 0 {
		return acct.IdleRestart
	}
	return config.DefaultIdleRestart
}

// wait returns when the server reports new mail, when ctx ends (nil), or
// with the connection's error: in IDLE where the server has it, else by
// polling.
func (s *session) wait(ctx context.Context, mailbox string, changed *atomic.Bool) error {
	e, acct := s.e, s.acct
	if s.client.Has(imap.CapIdle) {
		e.opts.Metrics.setIdling(acct.Name, mailbox, true)
		defer e.opts.Metrics.setIdling(acct.Name, mailbox, false)
		return s.idle(ctx, changed)
	}
	return s.poll(ctx, mailbox, changed)
}

// idle waits in IDLE until the server announces new mail or ctx ends.
func (s *session) idle(ctx context.Context, changed *atomic.Bool) error {
	if changed.Load() {
		return nil
	}
	idleCtx, stop := context.WithCancel(ctx)
	defer stop()
	// Errors already say they came from IDLE.
	return s.client.Idle(idleCtx, func(u imap.Update) {
		switch u.Kind {
		case imap.UpdateExists:
			changed.Store(true)
			stop()
		case imap.UpdateFetch:
			if flagsWake(u, s.wakeOnFlags) { // flags.go
				changed.Store(true)
				stop()
			}
		case imap.UpdateBye:
			stop()
		}
	})
}

// poll waits poll_interval, then asks the server for news with NOOP.
func (s *session) poll(ctx context.Context, mailbox string, changed *atomic.Bool) error {
	interval := s.acct.PollInterval
	if interval <= 0 {
		interval = config.DefaultPollInterval
	}
	for !changed.Load() {
		if !sleep(ctx, interval) {
			return nil
		}
		// Not cancelled with ctx: cancelling a command in flight would
		// cost the connection.
		nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout(s.acct))
		err := s.client.Noop(nctx)
		cancel()
		if err != nil {
			return fmt.Errorf("noop: %w", err)
		}
		s.e.opts.Metrics.alive(s.acct.Name, mailbox)
	}
	return nil
}
