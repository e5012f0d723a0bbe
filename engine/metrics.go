package engine

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailrules/mailrules/config"
)

// passDurationBuckets are the upper bounds, in seconds, of the
// mailrules_pass_duration_seconds histogram.
var passDurationBuckets = [...]float64{0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120}

// minHealthWindow is the shortest time a watched mailbox may go without a
// sign of life before /healthz reports it.
const minHealthWindow = 30 * time.Minute

// metricsContentType is the media type of the Prometheus text exposition
// format, version 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// Metrics collects what the engine does, per account and mailbox, for
// Prometheus (ServeHTTP writes the text exposition format) and for a health
// check (CheckHealth, HealthHandler). It is safe for concurrent use. A nil
// *Metrics records nothing, so the engine calls it unconditionally.
//
// Labels carry account, mailbox, rule and action names from the
// configuration, never credentials or message data.
type Metrics struct {
	mu        sync.Mutex
	mailboxes map[mailboxKey]*mailboxMetrics
	// now is time.Now; tests replace it.
	now func() time.Time
}

type mailboxKey struct{ account, mailbox string }

// mailboxMetrics is what is known about one mailbox.
type mailboxMetrics struct {
	passesOK, passesFailed uint64
	examined, ruleErrors   uint64
	// Messages the server refused actions for, given up on, or that
	// vanished before their actions ran.
	failed, gaveUp, vanished uint64
	reconnects               uint64
	matches                  map[string]uint64 // per rule
	actions                  map[string]uint64 // per plan step kind
	// durations counts passes per bucket (not cumulative), durationSum
	// their total seconds.
	durations   [len(passDurationBuckets) + 1]uint64
	durationSum float64

	connected, everConnected bool
	// lastSuccess is when the last successful pass ended.
	lastSuccess time.Time
	// lastPassErr is the error of the last pass, "" if it succeeded.
	lastPassErr string
	// lastConnErr is why the connection was last lost.
	lastConnErr string
	// changed is when connected last changed.
	changed time.Time

	// Health of watched mailboxes.
	watched bool
	window  time.Duration
	// lastAlive is the last sign of life: a successful pass or NOOP, or
	// entering or leaving IDLE; idling is set while the connection waits
	// in IDLE (RFC 2177), which the IMAP client re-issues before the
	// server's timeout and TCP keepalive guards.
	lastAlive time.Time
	idling    bool
}

// NewMetrics returns an empty Metrics.
func NewMetrics() *Metrics {
	return &Metrics{mailboxes: map[mailboxKey]*mailboxMetrics{}, now: time.Now}
}

// get returns the record of a mailbox, creating it. m.mu must be held.
func (m *Metrics) get(account, mailbox string) *mailboxMetrics {
	k := mailboxKey{account, mailbox}
	mm := m.mailboxes[k]
	if mm == nil {
		mm = &mailboxMetrics{matches: map[string]uint64{}, actions: map[string]uint64{}}
		m.mailboxes[k] = mm
	}
	return mm
}

// healthWindow is how long a watched mailbox of acct may go without a sign
// of life: three times the longer of its poll interval and IDLE restart
// interval, and at least 30 minutes.
func healthWindow(acct *config.Account) time.Duration {
	return max(3*max(acct.PollInterval, acct.IdleRestart), minHealthWindow)
}

// watch registers a mailbox that Watch keeps an eye on, so the health check
// includes it from the start.
func (m *Metrics) watch(account, mailbox string, window time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.get(account, mailbox)
	mm.watched, mm.window = true, window
	mm.changed = m.now()
}

// unwatch takes a mailbox that Watch stopped watching (after a reload) out
// of the health check; its counters stay.
func (m *Metrics) unwatch(account, mailbox string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.get(account, mailbox)
	mm.watched, mm.connected = false, false
	mm.changed = m.now()
}

// observePass records the end of one pass. sum may be partial when err is
// set.
func (m *Metrics) observePass(account, mailbox string, sum *PassSummary, err error, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.get(account, mailbox)
	if err != nil {
		mm.passesFailed++
		mm.lastPassErr = err.Error()
	} else {
		mm.passesOK++
		mm.lastPassErr = ""
		mm.lastSuccess = m.now()
		mm.lastAlive = mm.lastSuccess
	}
	if sum != nil {
		mm.examined += uint64(sum.Examined)
		mm.ruleErrors += uint64(sum.Errors)
		mm.failed += uint64(sum.Failed)
		mm.gaveUp += uint64(sum.GaveUp)
		mm.vanished += uint64(sum.Vanished)
		for rule, n := range sum.Matched {
			mm.matches[rule] += uint64(n)
		}
		for kind, n := range sum.Actions {
			mm.actions[kind] += uint64(n)
		}
	}
	secs := elapsed.Seconds()
	i := 0
	for i < len(passDurationBuckets) && secs > passDurationBuckets[i] {
		i++
	}
	mm.durations[i]++
	mm.durationSum += secs
}

// setConnected records that the mailbox's connection came up or went down
// (err says why, nil on shutdown). A connection that comes up after an
// earlier one counts as a reconnect.
func (m *Metrics) setConnected(account, mailbox string, up bool, err error) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.get(account, mailbox)
	if up && mm.everConnected {
		mm.reconnects++
	}
	if up {
		mm.everConnected = true
	}
	if err != nil {
		mm.lastConnErr = err.Error()
	}
	mm.connected, mm.idling, mm.changed = up, false, m.now()
}

// alive records a sign of life other than a pass: a successful NOOP.
func (m *Metrics) alive(account, mailbox string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(account, mailbox).lastAlive = m.now()
}

// setIdling records that the connection entered or left IDLE.
func (m *Metrics) setIdling(account, mailbox string, idling bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.get(account, mailbox)
	mm.idling, mm.lastAlive = idling, m.now()
}

// CheckHealth returns nil when every watched mailbox is healthy: its
// connection is up, its last pass succeeded, and it showed a sign of life
// (a successful pass or NOOP, or waiting in IDLE) within its window, three
// times the longer of the account's poll_interval and idle_restart but at
// least 30 minutes. Otherwise the error lists one line per unhealthy
// mailbox, "account/mailbox: reason", in name order. With no watched
// mailbox at all it reports that.
func (m *Metrics) CheckHealth() error {
	if m == nil {
		return fmt.Errorf("no metrics")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var problems []string
	watched := 0
	for _, k := range m.sortedKeys() {
		mm := m.mailboxes[k]
		if !mm.watched {
			continue
		}
		watched++
		if reason := mm.unhealthy(now); reason != "" {
			problems = append(problems, k.account+"/"+k.mailbox+": "+reason)
		}
	}
	if watched == 0 {
		return fmt.Errorf("no mailbox is watched")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// unhealthy returns why the mailbox is unhealthy at now, "" if it is not.
func (mm *mailboxMetrics) unhealthy(now time.Time) string {
	since := now.Sub(mm.changed).Round(time.Second)
	switch {
	case !mm.connected && !mm.everConnected:
		return fmt.Sprintf("not connected yet (%s)%s", since, suffix(mm.lastConnErr))
	case !mm.connected:
		return fmt.Sprintf("connection down for %s%s", since, suffix(mm.lastConnErr))
	case mm.lastPassErr != "":
		return "last pass failed: " + mm.lastPassErr
	case mm.lastSuccess.IsZero():
		return fmt.Sprintf("no successful pass yet (connected %s ago)", since)
	case !mm.idling && now.Sub(mm.lastAlive) > mm.window:
		return fmt.Sprintf("no successful pass or poll for %s (limit %s)", now.Sub(mm.lastAlive).Round(time.Second), mm.window)
	}
	return ""
}

func suffix(lastErr string) string {
	if lastErr == "" {
		return ""
	}
	return ": " + lastErr
}

// HealthHandler serves the health check as plain text: 200 and "ok" when
// CheckHealth passes, else 503 and its reasons, one line per mailbox.
func (m *Metrics) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := m.CheckHealth(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// Handler serves /metrics (ServeHTTP) and /healthz (HealthHandler).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m)
	mux.Handle("/healthz", m.HealthHandler())
	return mux
}

// ServeHTTP writes the metrics in the Prometheus text exposition format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", metricsContentType)
	w.Header().Set("Cache-Control", "no-store")
	m.WriteTo(w) //nolint:errcheck // the client went away; nothing to do
}

// WriteTo writes the metrics to w in the Prometheus text exposition format,
// version 0.0.4: families in name order, each with its HELP and TYPE line,
// then its samples in label order, so the output is stable.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	if m != nil {
		m.mu.Lock()
		m.render(&b)
		m.mu.Unlock()
	}
	return b.WriteTo(w)
}

// sortedKeys returns the mailboxes in (account, mailbox) order. m.mu must
// be held.
func (m *Metrics) sortedKeys() []mailboxKey {
	keys := make([]mailboxKey, 0, len(m.mailboxes))
	for k := range m.mailboxes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b mailboxKey) int {
		if c := strings.Compare(a.account, b.account); c != 0 {
			return c
		}
		return strings.Compare(a.mailbox, b.mailbox)
	})
	return keys
}

// render writes every family. m.mu must be held. The families appear in
// name order.
func (m *Metrics) render(b *bytes.Buffer) {
	keys := m.sortedKeys()
	family := func(name, typ, help string, each func(k mailboxKey, mm *mailboxMetrics)) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, escapeHelp(help), name, typ)
		for _, k := range keys {
			each(k, m.mailboxes[k])
		}
	}
	// single is a family with one sample per mailbox.
	single := func(name, typ, help string, value func(mm *mailboxMetrics) string) {
		family(name, typ, help, func(k mailboxKey, mm *mailboxMetrics) { sample(b, name, k, "", "", value(mm)) })
	}
	perName := func(name, label string, counts map[string]uint64, k mailboxKey) {
		names := make([]string, 0, len(counts))
		for n := range counts {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			sample(b, name, k, label, n, formatUint(counts[n]))
		}
	}

	family("mailrules_actions_total", "counter",
		"Messages acted on, per plan step kind (flag, copy, move, delete, ...).",
		func(k mailboxKey, mm *mailboxMetrics) { perName("mailrules_actions_total", "action", mm.actions, k) })
	single("mailrules_connected", "gauge",
		"1 while the watched mailbox has a live IMAP connection, else 0.",
		func(mm *mailboxMetrics) string {
			if mm.connected {
				return "1"
			}
			return "0"
		})
	single("mailrules_last_pass_timestamp_seconds", "gauge",
		"Unix time at which the last successful pass ended (0: none yet).",
		func(mm *mailboxMetrics) string {
			if mm.lastSuccess.IsZero() {
				return "0"
			}
			return formatFloat(float64(mm.lastSuccess.UnixNano()) / 1e9)
		})
	single("mailrules_messages_examined_total", "counter",
		"Messages the rules were evaluated on.",
		func(mm *mailboxMetrics) string { return formatUint(mm.examined) })
	single("mailrules_messages_failed_total", "counter",
		"Messages whose actions the server refused; each is tried again on later passes.",
		func(mm *mailboxMetrics) string { return formatUint(mm.failed) })
	single("mailrules_messages_given_up_total", "counter",
		"Messages left alone after their actions were refused on every attempt.",
		func(mm *mailboxMetrics) string { return formatUint(mm.gaveUp) })
	single("mailrules_messages_vanished_total", "counter",
		"Messages another client expunged before their actions ran.",
		func(mm *mailboxMetrics) string { return formatUint(mm.vanished) })
	family("mailrules_pass_duration_seconds", "histogram",
		"Wall time of a pass over one mailbox.",
		func(k mailboxKey, mm *mailboxMetrics) {
			var cumulative uint64
			for i, le := range passDurationBuckets {
				cumulative += mm.durations[i]
				sample(b, "mailrules_pass_duration_seconds_bucket", k, "le", formatFloat(le), formatUint(cumulative))
			}
			cumulative += mm.durations[len(passDurationBuckets)]
			sample(b, "mailrules_pass_duration_seconds_bucket", k, "le", "+Inf", formatUint(cumulative))
			sample(b, "mailrules_pass_duration_seconds_sum", k, "", "", formatFloat(mm.durationSum))
			sample(b, "mailrules_pass_duration_seconds_count", k, "", "", formatUint(cumulative))
		})
	family("mailrules_passes_total", "counter",
		"Passes over one mailbox, by result (ok or error).",
		func(k mailboxKey, mm *mailboxMetrics) {
			sample(b, "mailrules_passes_total", k, "result", "error", formatUint(mm.passesFailed))
			sample(b, "mailrules_passes_total", k, "result", "ok", formatUint(mm.passesOK))
		})
	single("mailrules_reconnects_total", "counter",
		"Connections established after the first one (watch).",
		func(mm *mailboxMetrics) string { return formatUint(mm.reconnects) })
	single("mailrules_rule_errors_total", "counter",
		"Rule evaluations that failed on a message.",
		func(mm *mailboxMetrics) string { return formatUint(mm.ruleErrors) })
	family("mailrules_rule_matches_total", "counter",
		"Messages whose rule condition held, per rule.",
		func(k mailboxKey, mm *mailboxMetrics) { perName("mailrules_rule_matches_total", "rule", mm.matches, k) })
}

// sample writes one line: name{account="..",mailbox=".."[,label=".."]} value.
func sample(b *bytes.Buffer, name string, k mailboxKey, label, labelValue, value string) {
	b.WriteString(name)
	b.WriteString(`{account="`)
	writeLabelValue(b, k.account)
	b.WriteString(`",mailbox="`)
	writeLabelValue(b, k.mailbox)
	b.WriteByte('"')
	if label != "" {
		b.WriteString("," + label + `="`)
		writeLabelValue(b, labelValue)
		b.WriteByte('"')
	}
	b.WriteString("} ")
	b.WriteString(value)
	b.WriteByte('\n')
}

// writeLabelValue escapes a label value as the text format requires:
// backslash, double quote and line feed become \\, \" and \n. Invalid
// UTF-8 is replaced, since values must be UTF-8.
func writeLabelValue(b *bytes.Buffer, v string) {
	v = strings.ToValidUTF8(v, "\uFFFD")
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
}

// escapeHelp escapes HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }

// formatFloat writes a sample value or bucket bound the way Go parses it
// back; infinities and NaN as the format spells them.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
