package engine

import (
	"context"
	"sync"
)

// Logins in flight. Thousands of logins sent at once make a server queue
// them: Dovecot drops a login that waited over 90 s for its auth process,
// the retries feed the queue, and startup never ends. A client with at
// most 32 logins in flight got 5,000 Dovecot connections up in 110 s
// without a failure on 2 cores.
const (
	// DefaultMaxLogins is how many logins (connect, TLS, authenticate)
	// the whole process has in flight at most when Options.MaxLogins is 0.
	DefaultMaxLogins = 32
	// maxAccountLogins is how many one account has in flight at most, so
	// that the connections of one account (with the budget, up to
	// max_connections) do not crowd out the others' first one.
	maxAccountLogins = 2
)

// loginLimiter bounds the logins in flight, process-wide and per account.
// The zero value is unlimited; newLoginLimiter makes a bounded one.
type loginLimiter struct {
	all chan struct{}

	mu       sync.Mutex
	accounts map[string]chan struct{}
	metrics  *Metrics
}

func newLoginLimiter(n int, m *Metrics) *loginLimiter {
	if n <= 0 {
		n = DefaultMaxLogins
	}
	return &loginLimiter{all: make(chan struct{}, n), accounts: map[string]chan struct{}{}, metrics: m}
}

// acquire waits for a login slot of account (first the account's, then the
// process's) or ctx's end; release gives both back.
func (l *loginLimiter) acquire(ctx context.Context, account string) (release func(), err error) {
	if l == nil {
		return func() {}, nil
	}
	l.mu.Lock()
	acct := l.accounts[account]
	if acct == nil {
		acct = make(chan struct{}, maxAccountLogins)
		l.accounts[account] = acct
	}
	l.mu.Unlock()
	select {
	case acct <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case l.all <- struct{}{}:
	case <-ctx.Done():
		<-acct
		return nil, ctx.Err()
	}
	l.metrics.loginsInFlight(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			l.metrics.loginsInFlight(-1)
			<-l.all
			<-acct
		})
	}, nil
}
