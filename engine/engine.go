// Package engine runs mailrules on a configuration that package config
// loaded ([config.Config]): it connects to each account, finds the messages
// that are new since the last pass, fetches exactly what the rules read,
// evaluates the rules while the fetch streams, hands the decisions to the
// actions package and records progress in the state store. Run does one
// pass (for cron); Watch keeps going, waiting for new mail with IDLE or
// polling, and reconnects after faults.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
)

// Options changes how the engine runs. A nil *Options is the zero value.
type Options struct {
	// DryRun opens mailboxes read-only (EXAMINE), prints the plan to Out
	// and changes nothing, neither on the server nor in the state store.
	DryRun bool
	// All applies the rules to every message in each mailbox, not only to
	// the ones that arrived since the last pass.
	All bool
	// Out receives the dry-run plans; nil means io.Discard.
	Out io.Writer
	// Trace, if set, receives the IMAP protocol trace of every connection,
	// with credentials redacted.
	Trace io.Writer
	// Now returns the time a pass uses for "now" in rules; nil means
	// time.Now.
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the reconnect delay in Watch;
	// zero means 1 s and 5 min.
	MinBackoff, MaxBackoff time.Duration
	// Metrics, if set, records every pass and, in Watch, the state of each
	// watched mailbox's connection; nil records nothing.
	Metrics *Metrics
	// StatusFile, if set, is where the status of the state is published
	// after each pass, for `mailrules status` (see StatusPath).
	StatusFile string
	// Notifier, if set, hears Watch's progress (READY, STATUS, STOPPING),
	// and, every quarter of WatchdogInterval, WATCHDOG=1 while the
	// health check passes (a Metrics is then created if none is given).
	Notifier         Notifier
	WatchdogInterval time.Duration
	// MaxLogins bounds the logins in flight process-wide (each account
	// has at most 2); zero means DefaultMaxLogins.
	MaxLogins int
	// Classifiers, if set, are the classifiers that rules call with
	// classify(name) and that learning teaches, found by their Name,
	// instead of those the configuration's [[classifier]] tables make. A
	// message whose rules reach a classifier that gives no verdict is
	// left untouched and tried again on the next pass.
	Classifiers []classify.Classifier
}

// Engine carries out passes for a loaded configuration.
type Engine struct {
	// cfg is the configuration in force. Watch replaces it when a reload
	// is accepted; a pass reads the rules through it when it starts, so a
	// rules change applies from the next pass without a reconnect.
	cfg   atomic.Pointer[config.Config]
	store *Store
	log   *zap.Logger
	opts  Options
	// outMu keeps the dry-run plans of concurrent passes from interleaving.
	outMu sync.Mutex
	// reloads carries accepted configurations from Reload to the running
	// Watch.
	reloads chan reloadRequest
	// svc records passes and notifies the service manager (notify.go).
	svc service
	// logins bounds the logins in flight (logins.go).
	logins *loginLimiter
	// built holds the classifiers made for the configuration in force
	// (classifiers), buildMu serializes making them.
	built   atomic.Pointer[builtClassifiers]
	buildMu sync.Mutex
}

// config returns the configuration in force.
func (e *Engine) config() *config.Config {
	return e.cfg.Load()
}

// printPlan writes a dry run's plan under a heading to Options.Out, in one
// piece.
func (e *Engine) printPlan(heading string, plan *actions.Plan) {
	var b bytes.Buffer
	b.WriteString(heading + "\n")
	plan.Print(&b)
	e.outMu.Lock()
	defer e.outMu.Unlock()
	e.opts.Out.Write(b.Bytes()) //nolint:errcheck // a dry run's listing is best effort
}

// New returns an engine for cfg that records progress in store and logs to
// log. A nil opts is equivalent to a zero Options.
func New(cfg *config.Config, store *Store, log *zap.Logger, opts *Options) *Engine {
	e := &Engine{store: store, log: log, reloads: make(chan reloadRequest)}
	e.cfg.Store(cfg)
	if opts != nil {
		e.opts = *opts
	}
	if e.opts.Out == nil {
		e.opts.Out = io.Discard
	}
	if e.opts.Now == nil {
		e.opts.Now = time.Now
	}
	if e.opts.MinBackoff <= 0 {
		e.opts.MinBackoff = time.Second
	}
	if e.opts.MaxBackoff <= 0 {
		e.opts.MaxBackoff = 5 * time.Minute
	}
	e.svc.pub.warn = e.statusWarn
	e.logins = newLoginLimiter(e.opts.MaxLogins, e.opts.Metrics)
	return e
}

// Run does one pass over every mailbox of every account: accounts in
// parallel, the mailboxes of one account in order on one connection. A
// mailbox that fails does not stop the others; the failures are returned
// together. When ctx is cancelled (SIGTERM), the batch in flight finishes
// and no new mailbox is started.
func (e *Engine) Run(ctx context.Context) error {
	defer e.flushStatus()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, acct := range e.config().Accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.runAccount(ctx, acct); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runAccount passes over the account's mailboxes on one connection,
// reconnecting once for the next mailbox when the connection breaks.
// recordFullPass notes in the state, before any connection, that a pass
// over every message (run --all) of each of acct's mailboxes is wanted, so
// that a run --all stopped before it reached a mailbox is completed by the
// next run instead of being taken for a first pass.
func (e *Engine) recordFullPass(acct *config.Account) error {
	for _, mailbox := range acct.Mailboxes {
		st, _, err := e.store.Get(acct.Name, mailbox)
		if err != nil {
			return err
		}
		if st.FullPass {
			continue
		}
		st.FullPass = true
		if err := e.store.Put(acct.Name, mailbox, st); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) runAccount(ctx context.Context, acct *config.Account) error {
	log := e.log.With(zap.String("account", acct.Name))
	var (
		s    *session
		errs []error
	)
	defer func() {
		if s != nil {
			s.logout()
		}
	}()
	if e.opts.All && !e.opts.DryRun {
		if err := e.recordFullPass(acct); err != nil {
			return fmt.Errorf("account %q: %w", acct.Name, err)
		}
	}
	// A ham folder learns before its rules run, so that a message the
	// user took out of Junk is learned as ham before a rule looks at it;
	// learn folders no rule pass looks at come last.
	mailboxes := append([]string{}, acct.Mailboxes...)
	for _, mb := range acct.Learn.Mailboxes() {
		if !slices.ContainsFunc(mailboxes, func(m string) bool { return imap.MailboxEqual(m, mb) }) {
			mailboxes = append(mailboxes, mb)
		}
	}
	for i, mailbox := range mailboxes {
		if ctx.Err() != nil {
			log.Info("stopping before next mailbox", zap.String("mailbox", mailbox))
			break
		}
		if s == nil {
			var err error
			if s, err = e.connect(ctx, acct); err != nil {
				return fmt.Errorf("account %q: %w", acct.Name, err)
			}
		}
		if s.isLearnFolder(mailbox) && !e.opts.All {
			if err := s.learnAndReport(ctx, mailbox); err != nil {
				errs = append(errs, err)
				if s.broken() {
					s.close()
					s = nil
				}
				continue
			}
		}
		if i >= len(acct.Mailboxes) {
			continue // a learn folder only
		}
		sum, err := s.passes(ctx, mailbox) // flags.go: the flag pass, then pass
		if err != nil {
			log.Error("pass failed", zap.String("mailbox", mailbox), zap.Error(err))
			errs = append(errs, fmt.Errorf("account %q mailbox %q: %w", acct.Name, mailbox, err))
			if s.broken() {
				s.close()
				s = nil
			}
			continue
		}
		if sum.Failed > 0 {
			// Everything else was done and recorded; the exit code tells
			// cron that something needs a look.
			errs = append(errs, fmt.Errorf("account %q mailbox %q: the server refused the actions for %d messages (%d given up); see the log",
				acct.Name, mailbox, sum.Failed, sum.GaveUp))
		}
		if sum.Deferred > 0 {
			// Nothing was done to them; the next pass tries again.
			errs = append(errs, fmt.Errorf("account %q mailbox %q: %d messages left untouched for a later pass: a classifier gave no verdict; see the log",
				acct.Name, mailbox, sum.Deferred))
		}
	}
	return errors.Join(errs...)
}
