package e2e

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const spamRule = `
[[rule]]
name = "spam"
when = 'header("X-Spam-Flag") == "YES"'
move = "Junk"
`

// lockedBuffer collects a child's log while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) count(s string) int {
	return strings.Count(l.String(), s)
}

// startWatch starts `mailrules watch` with extra flags and waits for its
// first pass.
func (e *env) startWatch(t *testing.T, flags ...string) (stop func() int, log *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := e.command(ctx, append([]string{"watch", "--log-level", "debug"}, flags...)...)
	log = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start watch: %v", err)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			cmd.Wait()
			code = cmd.ProcessState.ExitCode()
		})
		return code
	}
	t.Cleanup(func() { stop() })
	if !waitFor(30*time.Second, func() bool { return log.count(`"pass done"`)+log.count(`"nothing new"`) >= 1 }) {
		t.Fatalf("watch did not finish its first pass:\n%s", log)
	}
	return stop, log
}

func TestWatchActsOnNewMailAndSurvivesServerDrop(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	stop, log := e.startWatch(t)
	observer := e.client()

	// A message APPENDed by another connection is acted on within a second
	// (Dovecot itself waits about 0.5 s before telling an IDLE client). The
	// median of three arrivals is judged, so one scheduling hiccup on a
	// loaded machine does not decide; make bench measures the latency
	// properly.
	var latencies []time.Duration
	for i := range 3 {
		id := fmt.Sprintf("live-spam-%d@x", i)
		appended := time.Now()
		e.appendMessages("INBOX", message{id: id, headers: "X-Spam-Flag: YES"})
		if !waitFor(10*time.Second, func() bool { return e.where(observer, id, "Junk") == "Junk" }) {
			t.Fatalf("message %s not moved within 10s of APPEND; log:\n%s", id, log)
		}
		latencies = append(latencies, time.Since(appended))
	}
	slices.Sort(latencies)
	t.Logf("APPEND to moved: %v", latencies)
	if latencies[1] > time.Second {
		t.Fatalf("median APPEND-to-moved %v, want within 1s (all: %v)", latencies[1], latencies)
	}

	// The server drops the connection; mail arriving meanwhile is processed
	// after the reconnect.
	if err := e.srv.KillSessions(e.user); err != nil {
		t.Fatalf("KillSessions = %v", err)
	}
	observer = e.client()
	e.appendMessages("INBOX",
		message{id: "during-outage@x", headers: "X-Spam-Flag: YES"},
		message{id: "ham@x"})
	if !waitFor(15*time.Second, func() bool { return e.where(observer, "during-outage@x", "Junk") == "Junk" }) {
		t.Fatalf("mail that arrived during the outage was not moved; log:\n%s", log)
	}
	// The log is flushed every second.
	if !waitFor(5*time.Second, func() bool { return strings.Contains(log.String(), "reconnecting") }) {
		t.Errorf("log does not mention the reconnect:\n%s", log)
	}

	// SIGTERM: the daemon logs out and exits 0.
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0; log:\n%s", code, log)
	}
	got := e.snapshot()
	want := snapshot{"INBOX": {"ham@x": ``}, "Junk": {"live-spam-0@x": ``, "live-spam-1@x": ``, "live-spam-2@x": ``, "during-outage@x": ``}}
	if got.String() != want.String() {
		t.Fatalf("after watch:\n%s\nwant:\n%s", got, want)
	}
}

func TestWatchPollsWithoutIdle(t *testing.T) {
	noIdle := startServer(t, "IMAP4rev1 LITERAL+ SASL-IR ENABLE MOVE UIDPLUS SPECIAL-USE NAMESPACE UNSELECT")
	e := newEnv(t, noIdle, spamRule, `poll_interval = "1s"`)
	_, log := e.startWatch(t)
	observer := e.client()
	e.appendMessages("INBOX", message{id: "polled-spam@x", headers: "X-Spam-Flag: YES"})
	if !waitFor(10*time.Second, func() bool { return e.where(observer, "polled-spam@x", "Junk") == "Junk" }) {
		t.Fatalf("polling watch did not move the message; log:\n%s", log)
	}
}
