package engine

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/mailrules/mailrules/config"
)

// passDurationBuckets are the upper bounds, in seconds, of the
// mailrules_pass_duration_seconds histogram.
var passDurationBuckets = [...]float64{0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120}

// minHealthWindow is the shortest time a watched mailbox may go without a
// sign of life before /healthz reports it.
const minHealthWindow = 30 * time.Minute

// metricsContentType is the media type promhttp gives the Prometheus text
// exposition format, version 0.0.4, when the scraper asks for no other:
// metric names are already valid legacy names, so escaping changes nothing.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

// Metrics collects what the engine does, per account and mailbox, for
// Prometheus (ServeHTTP serves it with promhttp from a private registry,
// together with the Go runtime and process collectors) and for a health
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

	// own holds the engine's collector only (WriteTo); registry holds it
	// and the runtime and process collectors (ServeHTTP).
	own, registry *prometheus.Registry
	once          sync.Once
	promHandler   http.Handler

	// conns counts connections per account (connmetrics.go).
	conns connMetrics
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
	deferred                 uint64
	learned                  map[string]uint64 // lessons taken, per class
	learnErrors              uint64
	matches                  map[string]uint64 // per rule
	classified               map[string]uint64 // verdicts, per classifier
	classifyErrors           map[string]uint64 // calls without a verdict, per classifier
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

// NewMetrics returns an empty Metrics with its own registries, so that
// several can live in one process (tests) without clashing.
func NewMetrics() *Metrics {
	m := &Metrics{mailboxes: map[mailboxKey]*mailboxMetrics{}, now: time.Now}
	m.own = prometheus.NewPedanticRegistry()
	m.own.MustRegister(collector{m}, connCollector{m})
	m.registry = prometheus.NewRegistry()
	m.registry.MustRegister(collector{m}, connCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// get returns the record of a mailbox, creating it. m.mu must be held.
func (m *Metrics) get(account, mailbox string) *mailboxMetrics {
	k := mailboxKey{account, mailbox}
	mm := m.mailboxes[k]
	if mm == nil {
		mm = &mailboxMetrics{matches: map[string]uint64{}, actions: map[string]uint64{},
			classified: map[string]uint64{}, classifyErrors: map[string]uint64{}, learned: map[string]uint64{}}
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
		mm.deferred += uint64(sum.Deferred)
		for name, n := range sum.Classified {
			mm.classified[name] += uint64(n)
		}
		for name, n := range sum.ClassifyErrors {
			mm.classifyErrors[name] += uint64(n)
		}
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

// observeLearn records what learning did in a mailbox.
func (m *Metrics) observeLearn(sum *LearnSummary) {
	if m == nil || sum == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.get(sum.Account, sum.Mailbox)
	if sum.Learned > 0 {
		mm.learned[sum.Class.String()] += uint64(sum.Learned)
	}
	mm.learnErrors += uint64(sum.Failed)
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

// ServeHTTP serves the metrics of the engine together with the Go runtime
// and process collectors' in the Prometheus exposition format that the
// scraper asks for (the text format by default), through promhttp.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	m.handler().ServeHTTP(w, r)
}

// handler returns the promhttp handler of the registry, made once.
func (m *Metrics) handler() http.Handler {
	if m == nil {
		return promhttp.HandlerFor(prometheus.NewRegistry(), promhttp.HandlerOpts{})
	}
	m.once.Do(func() {
		m.promHandler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	})
	return m.promHandler
}

// WriteTo writes the engine's own metrics (not the runtime and process
// ones) to w in the Prometheus text exposition format, version 0.0.4:
// families in name order, each with its HELP and TYPE line, then its
// samples in label order, so the output is stable. A family appears once
// it has a sample, that is once a mailbox has been seen.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	if m == nil {
		return 0, nil
	}
	families, err := m.own.Gather()
	if err != nil {
		return 0, fmt.Errorf("gather metrics: %w", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return 0, fmt.Errorf("encode metrics: %w", err)
		}
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

// The engine's metric families. Every one is labelled by account and
// mailbox; some by one more label.
var (
	descActions = newDesc("mailrules_actions_total",
		"Messages acted on, per plan step kind (flag, copy, move, delete, ...).", "action")
	descClassify = newDesc("mailrules_classify_total",
		"Verdicts a classifier gave on messages, per classifier.", "classifier")
	descClassifyErrors = newDesc("mailrules_classify_errors_total",
		"Classifier calls that gave no verdict (unreachable, timeout, garbage), per classifier; the message is deferred.", "classifier")
	descLearned = newDesc("mailrules_learned_total",
		"Lessons classifiers took from the user's moves, per class (spam or ham).", "class")
	descLearnErrors = newDesc("mailrules_learn_errors_total",
		"Lessons a classifier could not take; the message is looked at again on the next pass.")
	descDeferred = newDesc("mailrules_messages_deferred_total",
		"Messages left untouched for a later pass because a classifier gave no verdict.")
	descConnected = newDesc("mailrules_connected",
		"1 while the watched mailbox has a live IMAP connection, else 0.")
	descLastPass = newDesc("mailrules_last_pass_timestamp_seconds",
		"Unix time at which the last successful pass ended (0: none yet).")
	descExamined = newDesc("mailrules_messages_examined_total",
		"Messages the rules were evaluated on.")
	descFailed = newDesc("mailrules_messages_failed_total",
		"Messages whose actions the server refused; each is tried again on later passes.")
	descGivenUp = newDesc("mailrules_messages_given_up_total",
		"Messages left alone after their actions were refused on every attempt.")
	descVanished = newDesc("mailrules_messages_vanished_total",
		"Messages another client expunged before their actions ran.")
	descPassDuration = newDesc("mailrules_pass_duration_seconds",
		"Wall time of a pass over one mailbox.")
	descPasses = newDesc("mailrules_passes_total",
		"Passes over one mailbox, by result (ok or error).", "result")
	descReconnects = newDesc("mailrules_reconnects_total",
		"Connections established after the first one (watch).")
	descRuleErrors = newDesc("mailrules_rule_errors_total",
		"Rule evaluations that failed on a message.")
	descMatches = newDesc("mailrules_rule_matches_total",
		"Messages whose rule condition held, per rule.", "rule")
)

var allDescs = []*prometheus.Desc{descActions, descClassify, descClassifyErrors, descDeferred, descLearned, descLearnErrors, descConnected, descLastPass, descExamined,
	descFailed, descGivenUp, descVanished, descPassDuration, descPasses, descReconnects,
	descRuleErrors, descMatches}

func newDesc(name, help string, extraLabel ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append([]string{"account", "mailbox"}, extraLabel...), nil)
}

// collector exposes a Metrics to a prometheus.Registry: each scrape reads
// the per-mailbox records under the lock, so the numbers the health check
// uses and the ones Prometheus sees are the same.
type collector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.sortedKeys() {
		mm := m.mailboxes[k]
		// Label values must be UTF-8; names from the config may not be.
		account, mailbox := strings.ToValidUTF8(k.account, "\uFFFD"), strings.ToValidUTF8(k.mailbox, "\uFFFD")
		counter := func(d *prometheus.Desc, v uint64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{account, mailbox}, extra...)...)
		}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, account, mailbox)
		}
		perName := func(d *prometheus.Desc, counts map[string]uint64) {
			for name, n := range counts {
				counter(d, n, strings.ToValidUTF8(name, "\uFFFD"))
			}
		}

		perName(descActions, mm.actions)
		perName(descClassify, mm.classified)
		perName(descClassifyErrors, mm.classifyErrors)
		counter(descDeferred, mm.deferred)
		perName(descLearned, mm.learned)
		counter(descLearnErrors, mm.learnErrors)
		connected := 0.0
		if mm.connected {
			connected = 1
		}
		gauge(descConnected, connected)
		lastPass := 0.0
		if !mm.lastSuccess.IsZero() {
			lastPass = float64(mm.lastSuccess.UnixNano()) / 1e9
		}
		gauge(descLastPass, lastPass)
		counter(descExamined, mm.examined)
		counter(descFailed, mm.failed)
		counter(descGivenUp, mm.gaveUp)
		counter(descVanished, mm.vanished)
		buckets := make(map[float64]uint64, len(passDurationBuckets))
		var cumulative uint64
		for i, le := range passDurationBuckets {
			cumulative += mm.durations[i]
			buckets[le] = cumulative
		}
		cumulative += mm.durations[len(passDurationBuckets)]
		ch <- prometheus.MustNewConstHistogram(descPassDuration, cumulative, mm.durationSum, buckets, account, mailbox)
		counter(descPasses, mm.passesFailed, "error")
		counter(descPasses, mm.passesOK, "ok")
		counter(descReconnects, mm.reconnects)
		counter(descRuleErrors, mm.ruleErrors)
		perName(descMatches, mm.matches)
	}
}
