package classify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrAlreadyLearned is what Learn returns when the classifier already
// knew the message as that class and so learned nothing: rspamd's
// "has been already learned as spam, ignore it", spamd's TELL answered
// without DidSet. It does not wrap ErrUnavailable: the classifier got the
// message, and the caller may record it as learned.
var ErrAlreadyLearned = errors.New("message already learned")

// limiter is what every classifier shares: the concurrency slots, the
// per-request timeout and the size limit.
type limiter struct {
	name    string
	slots   chan struct{}
	timeout time.Duration
	maxSize int64
}

func newLimiter(cfg Config) limiter {
	return limiter{name: cfg.Name, slots: make(chan struct{}, cfg.Concurrency), timeout: cfg.Timeout, maxSize: cfg.MaxSize}
}

// start waits for a slot, then returns a context bounded by the timeout
// and the function that gives the slot back. Waiting for a slot counts
// against ctx only, not the timeout.
func (l *limiter) start(ctx context.Context) (context.Context, func(), error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, l.unavailable("wait for a free slot: %w", ctx.Err())
	}
	rctx, cancel := context.WithTimeout(ctx, l.timeout)
	return rctx, func() { cancel(); <-l.slots }, nil
}

// tooLarge returns the verdict for a message over the size limit, or nil.
func (l *limiter) tooLarge(msg []byte) *Verdict {
	if int64(len(msg)) <= l.maxSize {
		return nil
	}
	return &Verdict{Classifier: l.name, Skipped: true}
}

// unavailable returns an error that wraps ErrUnavailable, naming the
// classifier; format may use %w for the cause.
func (l *limiter) unavailable(format string, args ...any) error {
	return &unavailableError{name: l.name, err: fmt.Errorf(format, args...)}
}

// timeoutCause says "timed out after 30s" rather than "context deadline
// exceeded" when err comes from the request's own timeout: the context's,
// or the connection deadline set from it, which can fire a moment before
// the context reports it.
func (l *limiter) timeoutCause(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("timed out after %s: %w", l.timeout, err)
	}
	return err
}

// unavailableError is a failure to get an answer from a classifier.
type unavailableError struct {
	name string
	err  error
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("classifier %s unavailable: %v", e.name, e.err)
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the cause.
func (e *unavailableError) Unwrap() error { return e.err }

// maxErrorText is how much of a classifier's error answer goes into an
// error message.
const maxErrorText = 200

// snippet shortens a classifier's answer for an error message.
func snippet(b []byte) string {
	s := string(b)
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "..."
	}
	return fmt.Sprintf("%q", s)
}
