package engine

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff yields reconnect delays that double from min up to max, each with
// up to 50% random jitter subtracted so that many daemons restarted together
// do not reconnect in step.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

func newBackoff(min, max time.Duration) *backoff {
	return &backoff{min: min, max: max, next: min}
}

// delay returns the next wait and doubles the one after it.
func (b *backoff) delay() time.Duration {
	d := b.next
	b.next = min(b.next*2, b.max)
	jitter := time.Duration(rand.Int64N(int64(d)/2 + 1))
	return d - jitter
}

// reset starts over from min after a success.
func (b *backoff) reset() {
	b.next = b.min
}

// sleep waits d or until ctx is done; it reports whether the full wait
// elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
