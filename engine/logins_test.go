package engine

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoginLimiter: never more than the process-wide bound in flight, never
// more than maxAccountLogins for one account, and the gauge follows.
func TestLoginLimiter(t *testing.T) {
	m := NewMetrics()
	l := newLoginLimiter(3, m)
	var inFlight, peak atomic.Int64
	perAccount := map[string]*atomic.Int64{"a": {}, "b": {}, "c": {}}
	var accountPeak atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		account := []string{"a", "b", "c"}[i%3]
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := l.acquire(context.Background(), account)
			if err != nil {
				t.Error(err)
				return
			}
			n := inFlight.Add(1)
			a := perAccount[account].Add(1)
			for _, p := range []struct {
				v    int64
				peak *atomic.Int64
			}{{n, &peak}, {a, &accountPeak}} {
				for old := p.peak.Load(); p.v > old && !p.peak.CompareAndSwap(old, p.v); old = p.peak.Load() {
				}
			}
			time.Sleep(2 * time.Millisecond)
			perAccount[account].Add(-1)
			inFlight.Add(-1)
			release()
			release() // twice is harmless
		}()
	}
	wg.Wait()
	if got := peak.Load(); got > 3 || got < 2 {
		t.Errorf("peak logins in flight = %d, want 2..3 (bound 3)", got)
	}
	if got := accountPeak.Load(); got > maxAccountLogins {
		t.Errorf("peak logins of one account = %d, want at most %d", got, maxAccountLogins)
	}
	m.connOpened("a")
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "mailrules_logins_in_flight 0") {
		t.Errorf("metrics after all logins: want mailrules_logins_in_flight 0:\n%s", b.String())
	}
	// A cancelled wait gives up its place.
	hold, _ := l.acquire(context.Background(), "d")
	hold2, _ := l.acquire(context.Background(), "d")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.acquire(ctx, "d"); err == nil {
		t.Errorf("acquire with a cancelled context and the account's slots taken = nil, want an error")
	}
	hold()
	hold2()
}

// TestConnectionMetrics: opened, closed, failed logins, connection errors
// and refused NOTIFY show per account.
func TestConnectionMetrics(t *testing.T) {
	m := NewMetrics()
	m.connOpened("a")
	m.connOpened("a")
	m.connClosed("a")
	m.loginFailed("a")
	m.connError("a")
	m.connError("a")
	m.notifyRefused("a")
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`mailrules_connections{account="a"} 1`,
		`mailrules_connections_opened_total{account="a"} 2`,
		`mailrules_login_failures_total{account="a"} 1`,
		`mailrules_connection_errors_total{account="a"} 2`,
		`mailrules_notify_refused_total{account="a"} 1`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, b.String())
		}
	}
	if got := m.Connections("a"); got != 1 {
		t.Errorf("Connections(a) = %d, want 1", got)
	}
}

// TestBudgetLayout: the first mailboxes get IDLE, the rest share one
// polling connection, and the total never exceeds the budget.
func TestBudgetLayout(t *testing.T) {
	boxes := []string{"INBOX", "A", "B", "C", "D", "E"}
	for _, tc := range []struct {
		budget          int
		idle            bool
		wantIdled, poll int
	}{
		{5, true, 4, 2}, {6, true, 6, 0}, {10, true, 6, 0}, {1, true, 0, 6}, {2, true, 1, 5}, {5, false, 0, 6},
	} {
		idled, polled := budgetLayout(boxes, tc.budget, tc.idle)
		if len(idled) != tc.wantIdled || len(polled) != tc.poll {
			t.Errorf("budgetLayout(%d mailboxes, %d, idle %v) = %v, %v; want %d idle, %d polled", len(boxes), tc.budget, tc.idle, idled, polled, tc.wantIdled, tc.poll)
		}
		conns := len(idled)
		if len(polled) > 0 {
			conns++
		}
		if conns > tc.budget {
			t.Errorf("budgetLayout(%d) uses %d connections", tc.budget, conns)
		}
		if len(idled) > 0 && idled[0] != "INBOX" {
			t.Errorf("budgetLayout: the first mailbox listed does not get IDLE: %v", idled)
		}
	}
}
