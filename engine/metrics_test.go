package engine

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mailrules/mailrules/classify"

	"github.com/mailrules/mailrules/config"
)

// fakeClock is a settable clock for Metrics.now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestMetrics() (*Metrics, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1700000000, 500000000)}
	m := NewMetrics()
	m.now = clock.now
	return m, clock
}

func render(t *testing.T, m *Metrics) string {
	t.Helper()
	var b strings.Builder
	n, err := m.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo = %d, %v; want %d, nil", n, err, b.Len())
	}
	return b.String()
}

func TestMetricsExposition(t *testing.T) {
	m, _ := newTestMetrics()
	m.watch("work", "INBOX", time.Hour)
	m.setConnected("work", "INBOX", true, nil)
	m.observePass("work", "INBOX", &PassSummary{
		Examined:       3,
		Matched:        map[string]int{"spam": 2, "lists": 1},
		Actions:        map[string]int{"move": 2, "flag": 1},
		Errors:         1,
		Failed:         2,
		GaveUp:         1,
		Vanished:       3,
		Deferred:       2,
		Classified:     map[string]int{"rspamd": 4},
		ClassifyErrors: map[string]int{"rspamd": 2},
	}, nil, 200*time.Millisecond)
	m.observeLearn(&LearnSummary{Account: "work", Mailbox: "INBOX", Class: classify.Ham, Learned: 1, Failed: 1})

	want := `# HELP mailrules_actions_total Messages acted on, per plan step kind (flag, copy, move, delete, ...).
# TYPE mailrules_actions_total counter
mailrules_actions_total{account="work",mailbox="INBOX",action="flag"} 1
mailrules_actions_total{account="work",mailbox="INBOX",action="move"} 2
# HELP mailrules_classify_errors_total Classifier calls that gave no verdict (unreachable, timeout, garbage), per classifier; the message is deferred.
# TYPE mailrules_classify_errors_total counter
mailrules_classify_errors_total{account="work",mailbox="INBOX",classifier="rspamd"} 2
# HELP mailrules_classify_total Verdicts a classifier gave on messages, per classifier.
# TYPE mailrules_classify_total counter
mailrules_classify_total{account="work",mailbox="INBOX",classifier="rspamd"} 4
# HELP mailrules_connected 1 while the watched mailbox has a live IMAP connection, else 0.
# TYPE mailrules_connected gauge
mailrules_connected{account="work",mailbox="INBOX"} 1
# HELP mailrules_last_pass_timestamp_seconds Unix time at which the last successful pass ended (0: none yet).
# TYPE mailrules_last_pass_timestamp_seconds gauge
mailrules_last_pass_timestamp_seconds{account="work",mailbox="INBOX"} 1.7000000005e+09
# HELP mailrules_learn_errors_total Lessons a classifier could not take; the message is looked at again on the next pass.
# TYPE mailrules_learn_errors_total counter
mailrules_learn_errors_total{account="work",mailbox="INBOX"} 1
# HELP mailrules_learned_total Lessons classifiers took from the user's moves, per class (spam or ham).
# TYPE mailrules_learned_total counter
mailrules_learned_total{account="work",mailbox="INBOX",class="ham"} 1
# HELP mailrules_messages_deferred_total Messages left untouched for a later pass because a classifier gave no verdict.
# TYPE mailrules_messages_deferred_total counter
mailrules_messages_deferred_total{account="work",mailbox="INBOX"} 2
# HELP mailrules_messages_examined_total Messages the rules were evaluated on.
# TYPE mailrules_messages_examined_total counter
mailrules_messages_examined_total{account="work",mailbox="INBOX"} 3
# HELP mailrules_messages_failed_total Messages whose actions the server refused; each is tried again on later passes.
# TYPE mailrules_messages_failed_total counter
mailrules_messages_failed_total{account="work",mailbox="INBOX"} 2
# HELP mailrules_messages_given_up_total Messages left alone after their actions were refused on every attempt.
# TYPE mailrules_messages_given_up_total counter
mailrules_messages_given_up_total{account="work",mailbox="INBOX"} 1
# HELP mailrules_messages_vanished_total Messages another client expunged before their actions ran.
# TYPE mailrules_messages_vanished_total counter
mailrules_messages_vanished_total{account="work",mailbox="INBOX"} 3
# HELP mailrules_pass_duration_seconds Wall time of a pass over one mailbox.
# TYPE mailrules_pass_duration_seconds histogram
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="0.01"} 0
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="0.05"} 0
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="0.1"} 0
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="0.5"} 1
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="1"} 1
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="5"} 1
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="30"} 1
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="120"} 1
mailrules_pass_duration_seconds_bucket{account="work",mailbox="INBOX",le="+Inf"} 1
mailrules_pass_duration_seconds_sum{account="work",mailbox="INBOX"} 0.2
mailrules_pass_duration_seconds_count{account="work",mailbox="INBOX"} 1
# HELP mailrules_passes_total Passes over one mailbox, by result (ok or error).
# TYPE mailrules_passes_total counter
mailrules_passes_total{account="work",mailbox="INBOX",result="error"} 0
mailrules_passes_total{account="work",mailbox="INBOX",result="ok"} 1
# HELP mailrules_reconnects_total Connections established after the first one (watch).
# TYPE mailrules_reconnects_total counter
mailrules_reconnects_total{account="work",mailbox="INBOX"} 0
# HELP mailrules_rule_errors_total Rule evaluations that failed on a message.
# TYPE mailrules_rule_errors_total counter
mailrules_rule_errors_total{account="work",mailbox="INBOX"} 1
# HELP mailrules_rule_matches_total Messages whose rule condition held, per rule.
# TYPE mailrules_rule_matches_total counter
mailrules_rule_matches_total{account="work",mailbox="INBOX",rule="lists"} 1
mailrules_rule_matches_total{account="work",mailbox="INBOX",rule="spam"} 2
`
	// client_golang writes labels in name order (action before mailbox),
	// so compare with each sample's labels sorted.
	if got := render(t, m); sortLabels(got) != sortLabels(want) {
		t.Fatalf("WriteTo wrote:\n%s\nwant (labels in any order):\n%s", got, want)
	}
	checkExposition(t, render(t, m))
}

func TestMetricsEmpty(t *testing.T) {
	m, _ := newTestMetrics()
	// client_golang leaves out families without samples, so an empty
	// Metrics writes nothing, but its collector describes all 17.
	if got := render(t, m); got != "" {
		t.Fatalf("empty Metrics wrote %q, want nothing", got)
	}
	descs := make(chan *prometheus.Desc, 100)
	collector{m}.Describe(descs)
	if n := len(descs); n != 17 {
		t.Fatalf("collector describes %d families, want 17", n)
	}

	var nilMetrics *Metrics
	nilMetrics.observePass("a", "b", nil, errors.New("x"), time.Second)
	nilMetrics.setConnected("a", "b", true, nil)
	nilMetrics.setIdling("a", "b", true)
	nilMetrics.alive("a", "b")
	nilMetrics.watch("a", "b", time.Hour)
	if n, err := nilMetrics.WriteTo(io.Discard); n != 0 || err != nil {
		t.Fatalf("nil Metrics WriteTo = %d, %v; want 0, nil", n, err)
	}
}

func TestMetricsLabelEscaping(t *testing.T) {
	tests := []struct {
		account, mailbox, rule string
		want                   string
	}{
		{"plain", "INBOX", "spam", `{account="plain",mailbox="INBOX",rule="spam"} 1`},
		{`quo"te`, "Lists/Go", `say "hi"`, `{account="quo\"te",mailbox="Lists/Go",rule="say \"hi\""} 1`},
		{`back\slash`, `A\B`, `c:\d`, `{account="back\\slash",mailbox="A\\B",rule="c:\\d"} 1`},
		{"new\nline", "Ünïcödé 📬", "a\nb", `{account="new\nline",mailbox="Ünïcödé 📬",rule="a\nb"} 1`},
		{"bad\xffutf8", "x", "y", `{account="bad` + "\uFFFD" + `utf8",mailbox="x",rule="y"} 1`},
	}
	for _, tt := range tests {
		m, _ := newTestMetrics()
		m.observePass(tt.account, tt.mailbox, &PassSummary{Matched: map[string]int{tt.rule: 1}}, nil, 0)
		got := render(t, m)
		if want := "mailrules_rule_matches_total" + tt.want + "\n"; !strings.Contains(got, want) {
			t.Errorf("rule %q in %q/%q: output lacks %q:\n%s", tt.rule, tt.account, tt.mailbox, want, got)
		}
		checkExposition(t, got)
	}
}

func TestMetricsHistogramBuckets(t *testing.T) {
	m, _ := newTestMetrics()
	durations := []time.Duration{
		5 * time.Millisecond, 10 * time.Millisecond /* on a bound: le is inclusive */, 300 * time.Millisecond,
		2 * time.Second, 2 * time.Second, 200 * time.Second,
	}
	var sum float64
	for _, d := range durations {
		m.observePass("a", "INBOX", &PassSummary{}, nil, d)
		sum += d.Seconds()
	}
	m.observePass("a", "INBOX", &PassSummary{}, errors.New("broken"), time.Hour)
	sum += time.Hour.Seconds()

	got := render(t, m)
	wantBuckets := []string{`le="0.01"} 2`, `le="0.05"} 2`, `le="0.1"} 2`, `le="0.5"} 3`,
		`le="1"} 3`, `le="5"} 5`, `le="30"} 5`, `le="120"} 5`, `le="+Inf"} 7`}
	var buckets []string
	for _, line := range strings.Split(got, "\n") {
		if strings.HasPrefix(line, "mailrules_pass_duration_seconds_bucket{") {
			buckets = append(buckets, line[strings.Index(line, "le="):])
		}
	}
	if !slices.Equal(buckets, wantBuckets) {
		t.Fatalf("buckets = %q, want %q", buckets, wantBuckets)
	}
	for _, want := range []string{
		fmt.Sprintf(`mailrules_pass_duration_seconds_sum{account="a",mailbox="INBOX"} %s`, strconv.FormatFloat(sum, 'g', -1, 64)),
		`mailrules_pass_duration_seconds_count{account="a",mailbox="INBOX"} 7`,
		`mailrules_passes_total{account="a",mailbox="INBOX",result="error"} 1`,
		`mailrules_passes_total{account="a",mailbox="INBOX",result="ok"} 6`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	checkExposition(t, got)
}

func TestMetricsSortedAcrossMailboxes(t *testing.T) {
	m, _ := newTestMetrics()
	for _, k := range [][2]string{{"b", "INBOX"}, {"a", "Z"}, {"a", "INBOX"}} {
		m.setConnected(k[0], k[1], true, nil)
	}
	got := render(t, m)
	want := `mailrules_connected{account="a",mailbox="INBOX"} 1
mailrules_connected{account="a",mailbox="Z"} 1
mailrules_connected{account="b",mailbox="INBOX"} 1
`
	if !strings.Contains(got, want) {
		t.Fatalf("connected samples not in (account, mailbox) order:\n%s", got)
	}
	if again := render(t, m); again != got {
		t.Fatalf("second WriteTo differs from the first:\n%s\nthen:\n%s", got, again)
	}
}

func TestMetricsReconnects(t *testing.T) {
	m, _ := newTestMetrics()
	m.setConnected("a", "INBOX", false, errors.New("connection refused")) // first attempt fails
	m.setConnected("a", "INBOX", true, nil)                               // first connection
	m.setConnected("a", "INBOX", false, errors.New("EOF"))
	m.setConnected("a", "INBOX", true, nil) // a reconnect
	m.setConnected("a", "INBOX", false, nil)
	m.setConnected("a", "INBOX", true, nil) // another
	got := render(t, m)
	for _, want := range []string{
		`mailrules_reconnects_total{account="a",mailbox="INBOX"} 2`,
		`mailrules_connected{account="a",mailbox="INBOX"} 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestMetricsHealthTransitions(t *testing.T) {
	m, clock := newTestMetrics()
	const window = 30 * time.Minute
	steps := []struct {
		name string
		do   func()
		want string // "" healthy, else a substring of the reason
	}{
		{"nothing watched", func() {}, "no mailbox is watched"},
		{"registered", func() { m.watch("a", "INBOX", window) }, "a/INBOX: not connected yet"},
		{"connect fails", func() {
			clock.advance(time.Second)
			m.setConnected("a", "INBOX", false, errors.New("dial tcp: connection refused"))
		}, "a/INBOX: not connected yet (0s): dial tcp: connection refused"},
		{"connected", func() { m.setConnected("a", "INBOX", true, nil) }, "a/INBOX: no successful pass yet"},
		{"first pass", func() { m.observePass("a", "INBOX", &PassSummary{}, nil, time.Second) }, ""},
		{"second mailbox", func() { m.watch("a", "Lists", window) }, "a/Lists: not connected yet"},
		{"second mailbox passes", func() {
			m.setConnected("a", "Lists", true, nil)
			m.observePass("a", "Lists", &PassSummary{}, nil, time.Second)
		}, ""},
		{"idle for hours", func() {
			m.setIdling("a", "INBOX", true)
			m.setIdling("a", "Lists", true)
			clock.advance(5 * time.Hour)
		}, ""},
		{"new mail ends idle", func() { m.setIdling("a", "INBOX", false) }, ""},
		{"pass fails", func() {
			m.observePass("a", "INBOX", &PassSummary{}, errors.New("fetch from \"INBOX\": EOF"), time.Second)
		}, `a/INBOX: last pass failed: fetch from "INBOX": EOF`},
		{"connection lost", func() {
			m.setConnected("a", "INBOX", false, errors.New("fetch: EOF"))
			clock.advance(3 * time.Second)
		}, "a/INBOX: connection down for 3s: fetch: EOF"},
		{"reconnected, pass still failed", func() { m.setConnected("a", "INBOX", true, nil) }, "a/INBOX: last pass failed"},
		{"pass after reconnect", func() { m.observePass("a", "INBOX", &PassSummary{}, nil, time.Second) }, ""},
		{"polling, NOOP keeps it alive", func() {
			clock.advance(window - time.Second)
			m.alive("a", "INBOX")
			clock.advance(window - time.Second)
			m.setIdling("a", "Lists", false) // Lists now polls too, fresh
		}, ""},
		{"polls stop", func() { clock.advance(2 * time.Second) }, "a/INBOX: no successful pass or poll for 30m1s (limit 30m0s)"},
		{"pass revives", func() { m.observePass("a", "INBOX", &PassSummary{}, nil, time.Second) }, ""},
		{"shutdown", func() {
			m.setConnected("a", "INBOX", false, nil)
			m.setConnected("a", "Lists", false, nil)
		}, "a/INBOX: connection down for 0s: fetch: EOF\na/Lists: connection down for 0s"},
	}
	for _, st := range steps {
		st.do()
		err := m.CheckHealth()
		switch {
		case st.want == "" && err != nil:
			t.Fatalf("after %q: CheckHealth = %v, want nil", st.name, err)
		case st.want != "" && err == nil:
			t.Fatalf("after %q: CheckHealth = nil, want an error with %q", st.name, st.want)
		case st.want != "" && !strings.Contains(err.Error(), st.want):
			t.Fatalf("after %q: CheckHealth = %q, want it to contain %q", st.name, err, st.want)
		}
	}
}

func TestHealthWindow(t *testing.T) {
	tests := []struct {
		poll, idle, want time.Duration
	}{
		{time.Minute, 25 * time.Minute, 75 * time.Minute},
		{time.Second, time.Minute, 30 * time.Minute},
		{time.Hour, 25 * time.Minute, 3 * time.Hour},
	}
	for _, tt := range tests {
		if got := healthWindow(&config.Account{PollInterval: tt.poll, IdleRestart: tt.idle}); got != tt.want {
			t.Errorf("healthWindow(poll %s, idle_restart %s) = %s, want %s", tt.poll, tt.idle, got, tt.want)
		}
	}
}

func TestMetricsHandler(t *testing.T) {
	m, _ := newTestMetrics()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	get := func(method, path string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: read body: %v", method, path, err)
		}
		return resp.StatusCode, resp.Header, string(body)
	}

	m.watch("a", "INBOX", time.Hour)
	if code, _, body := get("GET", "/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "a/INBOX: not connected yet") {
		t.Fatalf("GET /healthz before connecting = %d %q, want 503 with the reason", code, body)
	}
	m.setConnected("a", "INBOX", true, nil)
	m.observePass("a", "INBOX", &PassSummary{Actions: map[string]int{"move": 1}}, nil, time.Second)
	if code, _, body := get("GET", "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("GET /healthz = %d %q, want 200 \"ok\\n\"", code, body)
	}
	code, header, body := get("GET", "/metrics")
	if code != http.StatusOK || header.Get("Content-Type") != metricsContentType {
		t.Fatalf("GET /metrics = %d, Content-Type %q; want 200, %q", code, header.Get("Content-Type"), metricsContentType)
	}
	if want := `mailrules_actions_total{account="a",action="move",mailbox="INBOX"} 1` + "\n"; !strings.Contains(body, want) {
		t.Fatalf("GET /metrics lacks %q:\n%s", want, body)
	}
	checkExposition(t, body)
	for _, want := range []string{"# TYPE go_goroutines gauge\n", "# TYPE process_cpu_seconds_total counter\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks the runtime and process collectors' %q", want)
		}
	}
	if code, _, _ := get("POST", "/metrics"); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /metrics = %d, want 405", code)
	}
	if code, _, _ := get("GET", "/other"); code != http.StatusNotFound {
		t.Fatalf("GET /other = %d, want 404", code)
	}
}

func TestMetricsConcurrent(t *testing.T) {
	m := NewMetrics()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mb := fmt.Sprintf("box%d", i%2)
			for range 200 {
				m.setConnected("a", mb, true, nil)
				m.observePass("a", mb, &PassSummary{Examined: 1, Matched: map[string]int{"r": 1}, Actions: map[string]int{"move": 1}}, nil, time.Millisecond)
				m.setIdling("a", mb, true)
				m.CheckHealth()
				m.WriteTo(io.Discard)
			}
		}()
	}
	wg.Wait()
	got := render(t, m)
	for _, mb := range []string{"box0", "box1"} {
		want := fmt.Sprintf(`mailrules_messages_examined_total{account="a",mailbox=%q} 400`, mb)
		if !strings.Contains(got, want+"\n") {
			t.Errorf("after concurrent passes output lacks %q:\n%s", want, got)
		}
	}
}

// sampleLine is a sample line of the text exposition format: a metric name,
// optional labels, a value.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$`)

// checkExposition checks that text parses as the Prometheus text format:
// every sample line is well formed and belongs to a family declared by a
// preceding TYPE line; families appear once, in name order.
func checkExposition(t *testing.T, text string) {
	t.Helper()
	if !strings.HasSuffix(text, "\n") {
		t.Fatalf("exposition does not end in a line feed:\n%s", text)
	}
	var families []string
	current := ""
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			if !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, typ) {
				t.Fatalf("TYPE line %q: unknown type", line)
			}
			families = append(families, name)
			current = name
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		sm := sampleLine.FindStringSubmatch(line)
		if sm == nil {
			t.Fatalf("line %q is not a valid sample", line)
		}
		name := sm[1]
		if name != current && strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count") != current {
			t.Fatalf("sample %q outside its family (current family %q)", line, current)
		}
	}
	if !slices.IsSorted(families) || len(slices.Compact(slices.Clone(families))) != len(families) {
		t.Fatalf("families not unique and sorted: %q", families)
	}
}

// labelPair is one name="value" of a sample line.
var labelPair = regexp.MustCompile(`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`)

// sortLabels returns text with the labels of every sample line in name
// order, so that expositions that differ only in label order compare equal.
func sortLabels(text string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		open, close := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
		if strings.HasPrefix(line, "#") || open < 0 || close < open {
			continue
		}
		pairs := labelPair.FindAllString(line[open+1:close], -1)
		slices.Sort(pairs)
		lines[i] = line[:open+1] + strings.Join(pairs, ",") + line[close:]
	}
	return strings.Join(lines, "\n")
}
