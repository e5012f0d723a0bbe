package engine

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// connMetrics counts connections per account: what `watch` holds open and
// what went wrong getting or keeping them, which the per-mailbox metrics
// cannot show (a login that fails never reaches a mailbox).
type connMetrics struct {
	mu       sync.Mutex
	accounts map[string]*accountConns
	inFlight int
}

type accountConns struct {
	open                      int
	opened, loginFailures     uint64
	connErrors, notifyRefused uint64
}

func (c *connMetrics) get(account string) *accountConns {
	if c.accounts == nil {
		c.accounts = map[string]*accountConns{}
	}
	a := c.accounts[account]
	if a == nil {
		a = &accountConns{}
		c.accounts[account] = a
	}
	return a
}

// connOpened records a logged-in connection of account.
func (m *Metrics) connOpened(account string) {
	if m == nil {
		return
	}
	m.conns.mu.Lock()
	a := m.conns.get(account)
	a.open++
	a.opened++
	m.conns.mu.Unlock()
}

// connClosed records that a connection connOpened counted was closed.
func (m *Metrics) connClosed(account string) {
	if m == nil {
		return
	}
	m.conns.mu.Lock()
	m.conns.get(account).open--
	m.conns.mu.Unlock()
}

// loginFailed records a login the server refused or that failed half way.
func (m *Metrics) loginFailed(account string) {
	if m == nil {
		return
	}
	m.conns.mu.Lock()
	m.conns.get(account).loginFailures++
	m.conns.mu.Unlock()
}

// connError records a connection that could not be made or broke.
func (m *Metrics) connError(account string) {
	if m == nil {
		return
	}
	m.conns.mu.Lock()
	m.conns.get(account).connErrors++
	m.conns.mu.Unlock()
}

// notifyRefused records a NOTIFY SET the server refused (watch then keeps
// to the connection budget).
func (m *Metrics) notifyRefused(account string) {
	if m == nil {
		return
	}
	m.conns.mu.Lock()
	m.conns.get(account).notifyRefused++
	m.conns.mu.Unlock()
}

// loginsInFlight adds delta to the logins in flight.
func (m *Metrics) loginsInFlight(delta int) {
	if m == nil {
		return
	}
	m.conns.mu.Lock()
	m.conns.inFlight += delta
	m.conns.mu.Unlock()
}

// Connections returns how many connections to account are open now.
func (m *Metrics) Connections(account string) int {
	if m == nil {
		return 0
	}
	m.conns.mu.Lock()
	defer m.conns.mu.Unlock()
	return m.conns.get(account).open
}

var (
	descConnections = prometheus.NewDesc("mailrules_connections",
		"IMAP connections open to the account (watch: one with NOTIFY, at most max_connections without).", []string{"account"}, nil)
	descConnOpened = prometheus.NewDesc("mailrules_connections_opened_total",
		"IMAP connections established and logged in.", []string{"account"}, nil)
	descLoginFailures = prometheus.NewDesc("mailrules_login_failures_total",
		"Logins that failed: refused credentials, or a connection lost or timed out while logging in.", []string{"account"}, nil)
	descConnErrors = prometheus.NewDesc("mailrules_connection_errors_total",
		"Connections that could not be made or that broke (I/O errors, timeouts, BYE).", []string{"account"}, nil)
	descNotifyRefused = prometheus.NewDesc("mailrules_notify_refused_total",
		"NOTIFY SET commands the server refused; watch then keeps to max_connections.", []string{"account"}, nil)
	descLoginsInFlight = prometheus.NewDesc("mailrules_logins_in_flight",
		"Logins under way (bounded process-wide and per account).", nil, nil)
)

// connCollector exposes connMetrics to a prometheus.Registry.
type connCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c connCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnections, descConnOpened, descLoginFailures, descConnErrors, descNotifyRefused, descLoginsInFlight} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c connCollector) Collect(ch chan<- prometheus.Metric) {
	cm := &c.m.conns
	cm.mu.Lock()
	defer cm.mu.Unlock()
	for name, a := range cm.accounts {
		account := strings.ToValidUTF8(name, "\uFFFD")
		ch <- prometheus.MustNewConstMetric(descConnections, prometheus.GaugeValue, float64(a.open), account)
		ch <- prometheus.MustNewConstMetric(descConnOpened, prometheus.CounterValue, float64(a.opened), account)
		ch <- prometheus.MustNewConstMetric(descLoginFailures, prometheus.CounterValue, float64(a.loginFailures), account)
		ch <- prometheus.MustNewConstMetric(descConnErrors, prometheus.CounterValue, float64(a.connErrors), account)
		ch <- prometheus.MustNewConstMetric(descNotifyRefused, prometheus.CounterValue, float64(a.notifyRefused), account)
	}
	// Like the per-mailbox families: nothing before the first connection.
	if len(cm.accounts) > 0 || cm.inFlight > 0 {
		ch <- prometheus.MustNewConstMetric(descLoginsInFlight, prometheus.GaugeValue, float64(cm.inFlight))
	}
}
