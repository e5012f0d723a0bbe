package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Notifier is told how the daemon is doing, in the VAR=VALUE messages of
// systemd's notification protocol (sd_notify(3)): READY=1, WATCHDOG=1,
// STATUS=..., STOPPING=1. *sdnotify.Notifier is one.
type Notifier interface {
	Notify(state string) error
}

// service is what the engine does for its operators besides passes: it
// records each pass's outcome, publishes the status file, and, in Watch,
// tells the service manager when every mailbox is watched, how things go,
// that it is alive, and that it stops.
type service struct {
	pub publisher

	mu sync.Mutex
	// boxes are the mailboxes Watch started; started is set once all are.
	boxes   map[mailboxKey]*watchedBox
	started bool
	ready   bool
	// lastActions is what the latest pass over any mailbox acted on.
	lastActions int
	// warned keeps a failing notification socket from filling the log.
	warned sync.Once
}

// watchedBox is what the service knows of one watched mailbox.
type watchedBox struct {
	passed  bool // a pass succeeded at least once
	failing bool // the latest pass or connection attempt failed
}

// statusWarn logs a failure to publish the status file.
func (e *Engine) statusWarn(err error) {
	e.log.Warn("cannot publish the status file", zap.String("path", e.opts.StatusFile), zap.Error(err))
}

// flushStatus writes a status file publish that was put off, when Run or
// Watch ends.
func (e *Engine) flushStatus() {
	if e.opts.StatusFile == "" || e.opts.DryRun {
		return
	}
	if err := e.svc.pub.flush(e.store, e.opts.StatusFile); err != nil {
		e.statusWarn(err)
	}
}

// passEnded records how a pass over a mailbox ended: in the state store
// and the published status file (unless this is a dry run), and in the
// STATUS line of a watched mailbox.
func (e *Engine) passEnded(account, mailbox string, sum *PassSummary, err error, elapsed time.Duration) {
	if !e.opts.DryRun {
		lp := newLastPass(sum, err, time.Now(), elapsed)
		if perr := e.store.PutPass(account, mailbox, lp); perr != nil {
			e.log.Warn("cannot record the pass for mailrules status", zap.String("account", account), zap.String("mailbox", mailbox), zap.Error(perr))
		} else if e.opts.StatusFile != "" {
			if perr := e.svc.pub.publish(e.store, e.opts.StatusFile); perr != nil {
				e.statusWarn(perr)
			}
		}
	}
	s := &e.svc
	s.mu.Lock()
	b := s.boxes[mailboxKey{account, mailbox}]
	if b != nil {
		b.failing = err != nil
		b.passed = b.passed || err == nil
		s.lastActions = 0
		if sum != nil {
			for _, n := range sum.Actions {
				s.lastActions += n
			}
		}
	}
	s.mu.Unlock()
	if b != nil {
		e.notifyProgress()
	}
}

// watchFailed records that a watched mailbox's connection or pass failed
// (Watch retries it).
func (e *Engine) watchFailed(account, mailbox string) {
	s := &e.svc
	s.mu.Lock()
	b := s.boxes[mailboxKey{account, mailbox}]
	if b != nil {
		b.failing = true
	}
	s.mu.Unlock()
	if b != nil {
		e.notifyProgress()
	}
}

// startService begins Watch's side of the service: the mailboxes it
// registers with watching count towards READY=1, STOPPING=1 is sent when
// ctx ends, and, with Options.WatchdogInterval, WATCHDOG=1 every quarter
// of it while Metrics.CheckHealth (the /healthz verdict) passes. The
// returned function, called when Watch returns, sends STOPPING=1 if it was
// not yet sent and stops the watchdog.
func (e *Engine) startService(ctx context.Context) (stop func()) {
	s := &e.svc
	s.mu.Lock()
	s.boxes, s.started, s.ready = map[mailboxKey]*watchedBox{}, false, false
	s.mu.Unlock()
	if e.opts.Notifier == nil {
		return func() {}
	}
	// Sent as soon as the signal comes, and at the latest when Watch
	// returns.
	stopping := sync.OnceFunc(func() { e.notify("STOPPING=1") })
	context.AfterFunc(ctx, stopping)
	if e.opts.WatchdogInterval <= 0 {
		return stopping
	}
	if e.opts.Metrics == nil {
		// The health check lives there.
		e.opts.Metrics = NewMetrics()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// A quarter, not the customary half: one check that falls on a
		// brief reconnect then costs no restart; the service manager
		// steps in when the daemon was unhealthy for about the whole
		// WatchdogSec.
		t := time.NewTicker(max(e.opts.WatchdogInterval/4, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := e.opts.Metrics.CheckHealth(); err == nil {
					e.notify("WATCHDOG=1")
				} else {
					e.log.Debug("unhealthy; not petting the watchdog", zap.Error(err))
				}
			}
		}
	}()
	return func() {
		stopping()
		close(done)
		wg.Wait()
	}
}

// watching registers a mailbox that Watch starts.
func (e *Engine) watching(account, mailbox string) {
	s := &e.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.boxes == nil {
		s.boxes = map[mailboxKey]*watchedBox{}
	}
	s.boxes[mailboxKey{account, mailbox}] = &watchedBox{}
}

// unwatching forgets a mailbox that a reload stopped watching.
func (e *Engine) unwatching(account, mailbox string) {
	e.svc.mu.Lock()
	delete(e.svc.boxes, mailboxKey{account, mailbox})
	e.svc.mu.Unlock()
}

// allWatching records that Watch has started every mailbox it watches.
func (e *Engine) allWatching() {
	e.svc.mu.Lock()
	e.svc.started = true
	e.svc.mu.Unlock()
	e.notifyProgress()
}

// notifyProgress sends READY=1 once every watched mailbox has done its
// first pass, and the STATUS line.
func (e *Engine) notifyProgress() {
	if e.opts.Notifier == nil {
		return
	}
	s := &e.svc
	s.mu.Lock()
	passed, failing := 0, 0
	for _, b := range s.boxes {
		if b.passed {
			passed++
		}
		if b.failing {
			failing++
		}
	}
	sendReady := s.started && !s.ready && passed == len(s.boxes)
	s.ready = s.ready || sendReady
	var status string
	if s.ready {
		status = fmt.Sprintf("watching %d %s; %d %s in the last pass; %d failing",
			len(s.boxes), plural(len(s.boxes), "mailbox", "mailboxes"), s.lastActions, plural(s.lastActions, "action", "actions"), failing)
	} else {
		status = fmt.Sprintf("starting: %d of %d %s watched; %d failing", passed, len(s.boxes), plural(len(s.boxes), "mailbox", "mailboxes"), failing)
	}
	s.mu.Unlock()
	// One datagram, so the manager sees the state and its summary
	// together.
	msg := "STATUS=" + status
	if sendReady {
		msg = "READY=1\n" + msg
	}
	e.notify(msg)
}

// notify sends msg to the service manager, logging the first failure.
func (e *Engine) notify(msg string) {
	if e.opts.Notifier == nil {
		return
	}
	if err := e.opts.Notifier.Notify(msg); err != nil {
		e.svc.warned.Do(func() { e.log.Warn("cannot notify the service manager", zap.Error(err)) })
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
