package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/faultproxy"
)

// dovecotCapsWithoutNotify is Dovecot 2.3's capability list after login
// (NOTES.md) without NOTIFY.
const dovecotCapsWithoutNotify = "IMAP4rev1 SASL-IR ID ENABLE IDLE SORT THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+"

// connCounter samples the connections a proxy carries and keeps the
// highest count it saw.
type connCounter struct {
	peak atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
}

func countConns(p *faultproxy.Proxy) *connCounter {
	c := &connCounter{stop: make(chan struct{})}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			if n := int64(p.Conns()); n > c.peak.Load() {
				c.peak.Store(n)
			}
			select {
			case <-c.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return c
}

func (c *connCounter) done() int {
	close(c.stop)
	c.wg.Wait()
	return int(c.peak.Load())
}

// watchFolders sets up n folders besides INBOX for e's account, every one
// watched by the spam rule, and points the account at a counting proxy.
func watchFolders(t *testing.T, e *env, n int, accountExtra string) (folders []string, proxy *faultproxy.Proxy) {
	t.Helper()
	c := e.client()
	folders = []string{"INBOX"}
	for i := 1; i < n; i++ {
		name := fmt.Sprintf("F%d", i)
		if err := c.Create(t.Context(), name); err != nil {
			t.Fatalf("Create(%s) = %v", name, err)
		}
		folders = append(folders, name)
	}
	quoted := make([]string, len(folders))
	for i, f := range folders {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	e.editConfig(t, `mailboxes = ["INBOX"]`, "mailboxes = ["+strings.Join(quoted, ", ")+"]\n"+accountExtra)
	return folders, crashProxy(t, e)
}

// fileEveryFolder APPENDs one spam message to each folder and waits until
// each is in Junk; it returns the APPEND-to-moved times.
func fileEveryFolder(t *testing.T, e *env, folders []string, log *lockedBuffer, round string) []time.Duration {
	t.Helper()
	observer := e.client()
	var lat []time.Duration
	for _, f := range folders {
		id := fmt.Sprintf("%s-%s@x", round, f)
		start := time.Now()
		e.appendMessages(f, message{id: id, headers: "X-Spam-Flag: YES"})
		if !waitFor(15*time.Second, func() bool { return e.where(observer, id, "Junk") == "Junk" }) {
			t.Fatalf("%s in %s was not moved to Junk; log:\n%s", id, f, log)
		}
		lat = append(lat, time.Since(start))
	}
	return lat
}

// TestWatchNotifyTenFolders: with NOTIFY, one connection watches ten
// folders (counted at a proxy between mailrules and Dovecot), mail arriving
// in every one is filed within the notification delay plus the pass, and
// SIGTERM exits 0.
func TestWatchNotifyTenFolders(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	folders, proxy := watchFolders(t, e, 10, "")
	counter := countConns(proxy)
	base, stop, log := e.startWatchListening(t)
	lat := fileEveryFolder(t, e, folders, log, "notify")
	// The connection metrics say the same as the proxy.
	exp := scrape(t, base)
	for sample, want := range map[string]float64{
		`mailrules_connections{account="test"}`:                              1,
		`mailrules_connections_opened_total{account="test"}`:                 1,
		`mailrules_login_failures_total{account="test"}`:                     0,
		`mailrules_connection_errors_total{account="test"}`:                  0,
		`mailrules_connected{account="test",mailbox="F9"}`:                   1,
		`mailrules_passes_total{account="test",mailbox="F9",result="error"}`: 0,
	} {
		if got, ok := exp[sample]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", sample, got, ok, want)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0; log:\n%s", code, log)
	}
	if peak := counter.done(); peak != 1 {
		t.Errorf("the server saw up to %d connections from mailrules, want 1 (NOTIFY)", peak)
	}
	if !strings.Contains(log.String(), "watching with NOTIFY on one connection") {
		t.Errorf("log does not say NOTIFY is used:\n%s", log)
	}
	slices.Sort(lat)
	t.Logf("APPEND to moved over %d folders: p50 %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)-1])
	if lat[len(lat)/2] > 1500*time.Millisecond {
		t.Errorf("median APPEND-to-moved %v, want within 1.5s (Dovecot's 0.5 s + a pass); all %v", lat[len(lat)/2], lat)
	}
	want := snapshot{"Junk": {}}
	for _, f := range folders {
		want["Junk"]["notify-"+f+"@x"] = ""
	}
	if got := e.snapshot(); got.String() != want.String() {
		t.Errorf("after watch:\n%s\nwant:\n%s", got, want)
	}
}

// TestWatchBudgetWithoutNotify: on a Dovecot that hides NOTIFY, watch over
// ten folders with max_connections = 3 never holds more than 3 connections,
// reconnects after the server drops them all included, and files the mail
// of every folder (two IDLE, eight polled with LIST-STATUS).
func TestWatchBudgetWithoutNotify(t *testing.T) {
	s := startServer(t, dovecotCapsWithoutNotify)
	e := newEnvOn(t, dovecotTarget("dovecot", s, ""), spamRule, "")
	folders, proxy := watchFolders(t, e, 10, "max_connections = 3\npoll_interval = \"1s\"")
	counter := countConns(proxy)
	base, stop, log := e.startWatchListening(t)
	fileEveryFolder(t, e, folders, log, "before")
	proxy.CutAll()
	fileEveryFolder(t, e, folders, log, "after")
	// Every cut connection is a connection error, and each came back.
	exp := scrape(t, base)
	if got := exp[`mailrules_connection_errors_total{account="test"}`]; got < 3 {
		t.Errorf("mailrules_connection_errors_total = %v after cutting 3 connections, want at least 3", got)
	}
	if got := exp[`mailrules_connections{account="test"}`]; got != 3 {
		t.Errorf("mailrules_connections = %v, want 3", got)
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0; log:\n%s", code, log)
	}
	peak := counter.done()
	if peak > 3 || peak < 3 {
		t.Errorf("the server saw up to %d connections from mailrules, want exactly max_connections = 3", peak)
	}
	for _, want := range []string{"the server has no NOTIFY", `"idle":["INBOX","F1"]`, "reconnecting"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not say %s:\n%s", want, log)
		}
	}
	if n := len(e.snapshot()["Junk"]); n != 2*len(folders) {
		t.Errorf("Junk has %d messages, want %d", n, 2*len(folders))
	}
}

// TestWatchCountsFailedLogins: refused logins show in
// mailrules_login_failures_total (they used to show nowhere), and are
// retried with backoff, not in a tight loop.
func TestWatchCountsFailedLogins(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	e.editConfig(t, fmt.Sprintf("password  = { env = %q }", passwordEnv), `password  = "not-the-password"`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := e.command(ctx, "watch", "--listen", "127.0.0.1:0")
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var base string
	if !waitFor(10*time.Second, func() bool {
		for _, line := range strings.Split(log.String(), "\n") {
			var entry struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "serving metrics and health" {
				base = "http://" + entry.Addr
				return true
			}
		}
		return false
	}) {
		t.Fatalf("watch did not serve metrics:\n%s", log)
	}
	failures := `mailrules_login_failures_total{account="test"}`
	start := time.Now()
	if !waitFor(15*time.Second, func() bool { return scrape(t, base)[failures] >= 2 }) {
		t.Fatalf("%s never reached 2; metrics %v; log:\n%s", failures, scrape(t, base), log)
	}
	n := scrape(t, base)[failures]
	if elapsed := time.Since(start); n > 2+elapsed.Seconds() {
		t.Errorf("%v failed logins in %v: not backing off", n, elapsed)
	}
	if strings.Contains(log.String(), "not-the-password") {
		t.Errorf("the password reached the log")
	}
	cancel()
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("watch exited %d after SIGTERM, want 0", code)
	}
}
