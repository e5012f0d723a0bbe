package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startWatchListening starts `mailrules watch --listen 127.0.0.1:0` and
// returns the base URL of its metrics server, read from the log, once the
// first pass is done.
func (e *env) startWatchListening(t *testing.T) (baseURL string, stop func() int, log *lockedBuffer) {
	t.Helper()
	stop, log = e.startWatch(t, "--listen", "127.0.0.1:0")
	for _, line := range strings.Split(log.String(), "\n") {
		if !strings.Contains(line, `"serving metrics and health"`) {
			continue
		}
		var entry struct{ Addr string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil || entry.Addr == "" {
			t.Fatalf("log line %q: no addr (%v)", line, err)
		}
		return "http://" + entry.Addr, stop, log
	}
	t.Fatalf("watch --listen did not log its address:\n%s", log)
	return "", nil, nil
}

// httpGet fetches url and returns the status code and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// exposition is the parsed Prometheus text format: sample (name with its
// labels, exactly as written) -> value.
type exposition map[string]float64

// promSample matches one sample line of the text exposition format 0.0.4.
var promSample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})?) (-?[0-9.eE+-]+|NaN|[+-]Inf)$`)

// scrape GETs /metrics and parses it, failing the test on any line that is
// neither a HELP/TYPE comment nor a well-formed sample.
func scrape(t *testing.T, baseURL string) exposition {
	t.Helper()
	code, body := httpGet(t, baseURL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200:\n%s", code, body)
	}
	exp := exposition{}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		m := promSample.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("GET /metrics: line %q is not a valid sample:\n%s", line, body)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("GET /metrics: line %q: value: %v", line, err)
		}
		exp[m[1]] = v
	}
	return exp
}

func TestWatchMetricsAndHealth(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	base, stop, log := e.startWatchListening(t)
	labels := `account="test",mailbox="INBOX"`

	// Healthy once the first pass is recorded.
	if !waitFor(10*time.Second, func() bool { code, _ := httpGet(t, base+"/healthz"); return code == http.StatusOK }) {
		code, body := httpGet(t, base+"/healthz")
		t.Fatalf("GET /healthz after the first pass = %d %q, want 200; log:\n%s", code, body, log)
	}
	if code, body := httpGet(t, base+"/healthz"); body != "ok\n" {
		t.Fatalf("GET /healthz = %d %q, want 200 \"ok\\n\"", code, body)
	}

	observer := e.client()
	e.appendMessages("INBOX", message{id: "metrics-spam@x", headers: "X-Spam-Flag: YES"})
	if !waitFor(10*time.Second, func() bool { return e.where(observer, "metrics-spam@x", "Junk") == "Junk" }) {
		t.Fatalf("message not moved within 10s of APPEND; log:\n%s", log)
	}
	// The pass is recorded just after its moves are done.
	// client_golang writes labels in name order: action before mailbox.
	moves := `mailrules_actions_total{account="test",action="move",mailbox="INBOX"}`
	if !waitFor(5*time.Second, func() bool { return scrape(t, base)[moves] >= 1 }) {
		t.Fatalf("%s never reached 1 after the move; metrics: %v", moves, scrape(t, base))
	}
	exp := scrape(t, base)
	for sample, want := range map[string]float64{
		`mailrules_connected{` + labels + `}`:                              1,
		`mailrules_rule_matches_total{` + labels + `,rule="spam"}`:         1,
		`mailrules_messages_examined_total{` + labels + `}`:                1,
		`mailrules_passes_total{` + labels + `,result="error"}`:            0,
		`mailrules_reconnects_total{` + labels + `}`:                       0,
		`mailrules_pass_duration_seconds_bucket{` + labels + `,le="+Inf"}`: exp[`mailrules_passes_total{`+labels+`,result="ok"}`],
	} {
		if got, ok := exp[sample]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", sample, got, ok, want)
		}
	}
	if got := exp[`mailrules_passes_total{`+labels+`,result="ok"}`]; got < 2 {
		t.Errorf("ok passes = %v, want at least 2 (first pass and the one after APPEND)", got)
	}
	if ts := exp[`mailrules_last_pass_timestamp_seconds{`+labels+`}`]; time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("last pass timestamp %v is not recent", ts)
	}

	// The server drops the connection: /healthz reports it until the
	// watcher has reconnected, then reconnects_total counts it.
	if err := e.srv.KillSessions(e.user); err != nil {
		t.Fatalf("KillSessions = %v", err)
	}
	var downReason string
	reconnects := `mailrules_reconnects_total{` + labels + `}`
	ok := waitFor(20*time.Second, func() bool {
		if code, body := httpGet(t, base+"/healthz"); code == http.StatusServiceUnavailable && downReason == "" {
			downReason = body
		}
		exp := scrape(t, base)
		return exp[reconnects] >= 1 && exp[`mailrules_connected{`+labels+`}`] == 1
	})
	if !ok {
		t.Fatalf("no reconnect recorded within 20s; metrics: %v; log:\n%s", scrape(t, base), log)
	}
	if !strings.HasPrefix(downReason, "test/INBOX: ") {
		t.Errorf("GET /healthz during the outage said %q, want 503 with a reason for test/INBOX", downReason)
	}
	t.Logf("healthz while down: %q", strings.TrimSpace(downReason))
	if !waitFor(10*time.Second, func() bool { code, _ := httpGet(t, base+"/healthz"); return code == http.StatusOK }) {
		code, body := httpGet(t, base+"/healthz")
		t.Fatalf("GET /healthz after the reconnect = %d %q, want 200", code, body)
	}

	// No secret reaches the metrics.
	if code, body := httpGet(t, base+"/metrics"); code != http.StatusOK || strings.Contains(body, e.user.Password) {
		t.Fatalf("GET /metrics = %d and contains the password: %v", code, strings.Contains(body, e.user.Password))
	}

	// SIGTERM stops the watch and the metrics server with it.
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0; log:\n%s", code, log)
	}
	if _, err := (&http.Client{Timeout: 2 * time.Second}).Get(base + "/healthz"); err == nil {
		t.Fatalf("metrics server still answers after the watch exited")
	}
}

func TestListenFlag(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	if r := e.mailrules("run", "--listen", "127.0.0.1:0"); r.code != 2 {
		t.Errorf("run --listen exited %d, want 2 (watch only)\nstderr:\n%s", r.code, r.stderr)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	r := e.mailrules("watch", "--listen", busy.Addr().String())
	if r.code != 1 || !strings.Contains(r.stderr, "listen for metrics") {
		t.Errorf("watch --listen on a busy port exited %d, want 1 with \"listen for metrics\"\nstderr:\n%s", r.code, r.stderr)
	}
}
