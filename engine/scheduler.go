package engine

import (
	"context"
	"errors"
	"slices"
	"sync"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
)

// The watch scheduler: how an account's watched mailboxes share
// connections.
//
//   - Where the server has NOTIFY (RFC 5465), one connection per account
//     watches every mailbox (watchnotify.go): NOTIFY SET names them, IDLE
//     waits, and a mailbox that reports new mail gets its pass on that same
//     connection before waiting resumes.
//   - Without NOTIFY, or when the server refuses NOTIFY SET (logged with
//     its reason), the account keeps to its connection budget,
//     max_connections (budget.go): the first mailboxes listed get an IDLE
//     connection each, the others are polled together on one connection
//     with STATUS (one LIST-STATUS command where the server has it) every
//     poll_interval.
//
// Logins go through the engine's login limiter (logins.go) either way.

// acctWatcher is the goroutine that keeps one account's mailboxes watched.
type acctWatcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	// changed receives a token when setMailboxes changed the list.
	changed chan struct{}

	mu        sync.Mutex
	acct      *config.Account
	mailboxes []string
}

func newAcctWatcher(acct *config.Account, mailboxes []string, cancel context.CancelFunc) *acctWatcher {
	return &acctWatcher{acct: acct, mailboxes: slices.Clone(mailboxes), cancel: cancel,
		done: make(chan struct{}), changed: make(chan struct{}, 1)}
}

// stop asks the watcher to finish its batch in flight and log out, without
// waiting for it.
func (w *acctWatcher) stop() { w.cancel() }

// snapshot returns the account and the mailboxes to watch now.
func (w *acctWatcher) snapshot() (*config.Account, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acct, slices.Clone(w.mailboxes)
}

// mailboxList returns the mailboxes to watch now.
func (w *acctWatcher) mailboxList() []string {
	_, mbs := w.snapshot()
	return mbs
}

// setMailboxes hands the watcher a new list of mailboxes (and the account
// as the new configuration has it, with the same settings).
func (w *acctWatcher) setMailboxes(acct *config.Account, mailboxes []string) {
	w.mu.Lock()
	same := slices.Equal(w.mailboxes, mailboxes)
	w.acct, w.mailboxes = acct, slices.Clone(mailboxes)
	w.mu.Unlock()
	if same {
		return
	}
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// errMailboxesChanged ends a budget watch whose mailbox list changed: the
// connections are laid out anew.
var errMailboxesChanged = errors.New("the watched mailboxes changed")

// notifyRefusedError is a NOTIFY SET the server refused.
type notifyRefusedError struct{ err error }

func (e *notifyRefusedError) Error() string { return "NOTIFY refused: " + e.err.Error() }
func (e *notifyRefusedError) Unwrap() error { return e.err }

// watchAccount keeps the account's mailboxes watched until ctx ends: it
// logs in once, then watches with NOTIFY on that connection, or hands it to
// the connection budget; failures reconnect with backoff.
func (e *Engine) watchAccount(ctx context.Context, w *acctWatcher) {
	b := newBackoff(e.opts.MinBackoff, e.opts.MaxBackoff)
	noNotify := false
	for ctx.Err() == nil {
		// A change while not connected is in the snapshot already.
		select {
		case <-w.changed:
		default:
		}
		acct, mailboxes := w.snapshot()
		log := e.log.With(zap.String("account", acct.Name))
		s, err := e.connect(ctx, acct)
		if err == nil && (noNotify || !s.client.Has(imap.CapNotify)) {
			if !noNotify {
				log.Info("the server has no NOTIFY: keeping to the connection budget",
					zap.Int("max_connections", acct.MaxConnections), zap.Int("mailboxes", len(mailboxes)))
				noNotify = true
			}
			err = e.watchBudget(ctx, s, w, b.reset)
			if errors.Is(err, errMailboxesChanged) {
				continue
			}
		} else if err == nil {
			err = e.watchNotify(ctx, s, w, b.reset)
			if errors.Is(err, errMailboxesChanged) {
				continue
			}
			var refused *notifyRefusedError
			if errors.As(err, &refused) {
				// The connection is fine: the budget takes it over.
				log.Warn("the server refused NOTIFY: keeping to the connection budget instead",
					zap.Error(refused.err), zap.Int("max_connections", acct.MaxConnections))
				e.opts.Metrics.notifyRefused(acct.Name)
				noNotify = true
				err = e.watchBudget(ctx, s, w, b.reset)
				if errors.Is(err, errMailboxesChanged) {
					continue
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
		for _, mb := range mailboxes {
			e.watchFailed(acct.Name, mb)
			e.opts.Metrics.setConnected(acct.Name, mb, false, err)
		}
		wait := b.delay()
		if errors.Is(err, imap.ErrAbort) {
			log.Warn("connection lost; reconnecting", zap.Error(err), zap.Duration("in", wait))
		} else {
			// A refused login, a missing mailbox, a full disk: retried
			// with the same backoff, in case it was passing.
			log.Error("watch failed; starting over", zap.Error(err), zap.Duration("in", wait))
		}
		if !sleep(ctx, wait) {
			break
		}
	}
	acct, _ := w.snapshot()
	e.log.Info("stopped watching", zap.String("account", acct.Name))
}
