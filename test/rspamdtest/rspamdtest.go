// Package rspamdtest runs a throwaway rspamd, with a redis-server for its
// Bayes statistics, for tests.
//
// Start writes a minimal configuration into a fresh temporary directory:
// Debian's /etc/rspamd/common.conf (the stock rules and modules), a normal
// worker on a free loopback port, a controller on another with a known
// password and no secure_ip (so that loopback clients must send it), Bayes
// statistics in a redis-server on a third port that keeps nothing on disk
// (--save ""), and no module that needs the network: DNS goes to a closed
// local port, and rbl, surbl, spf, dkim, dmarc, fuzzy_check, phishing
// feeds, map updates and the like are disabled, so it runs offline. The
// GTUBE test pattern is enabled (enable_test_patterns). One settings entry,
// SettingsID, shows whether a client's Settings-Id header arrives.
//
// What makes it start in seconds instead of minutes: rspamd compiles its
// list of top-level domains (about 9,600 suffixes) at every start, which
// takes two minutes on a loaded 2-core machine; the server reads a short
// list of common ones instead (Options.FullTLD restores the real one), and
// its hyperscan cache lives in a directory kept between runs
// (os.TempDir()/mailrules-rspamdtest-hs-UID).
//
// When the test runs as root, rspamd's workers and redis-server run as
// "nobody". Everything rspamd logs goes to LogPath. Set RSPAMDTEST_KEEP=1
// to keep the directory after Close.
package rspamdtest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

// Paths of the executables (Debian's rspamd and redis-server).
const (
	RspamdPath = "/usr/bin/rspamd"
	RedisPath  = "/usr/bin/redis-server"
	// ConfDir is rspamd's stock configuration.
	ConfDir = "/etc/rspamd"
)

// Password is the controller's password.
const Password = "rspamdtest-password"

// SettingsID names settings the server has: a message checked with the
// header "Settings-Id: mailrules-test" gets the action "add header"
// whatever its score.
const SettingsID = "mailrules-test"

const (
	startTimeout = 5 * time.Minute // the first start compiles every regexp with hyperscan
	stopTimeout  = 15 * time.Second
	startTries   = 3
)

// Options configure Start. A nil *Options is the zero value.
type Options struct {
	// Workers is the number of normal worker processes; 0 means 1.
	Workers int
	// FullTLD makes rspamd read its full list of top-level domains, as a
	// production rspamd does: URL detection is then exact, and the start
	// takes minutes longer.
	FullTLD bool
}

// Server is a running rspamd with its redis-server.
type Server struct {
	dir        string
	logPath    string
	outPath    string
	url        string
	controller string
	redisAddr  string
	proc       *imapsrv.Proc

	closeOnce sync.Once
	closeErr  error
}

// Available reports why rspamd cannot run here ("" when it can): the
// rspamd or redis-server executable is missing.
func Available() string {
	for _, p := range []string{RspamdPath, RedisPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Sprintf("%s is not installed (make deps, or apt-get install rspamd redis-server)", p)
		}
	}
	return ""
}

// New starts a server for t, skips t when rspamd or redis-server is not
// installed, and stops the server when t ends; when t failed, the end of
// rspamd's log goes into t's log.
func New(t testing.TB, opts *Options) *Server {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip("rspamdtest: " + why)
	}
	begin := time.Now()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("rspamdtest: %v", err)
	}
	t.Logf("rspamdtest: rspamd on %s (controller %s) started in %v", s.URL(), s.ControllerURL(), time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rspamdtest: end of the logs:\n%s", imapsrv.Tail(8<<10, s.logPath, s.outPath))
		}
		if err := s.Close(); err != nil {
			t.Errorf("rspamdtest: %v", err)
		}
	})
	return s
}

// Start configures and starts rspamd and redis-server in a new temporary
// directory and waits until the normal worker and the controller answer.
func Start(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	if why := Available(); why != "" {
		return nil, errors.New(why)
	}
	return imapsrv.StartTries(startTries, func() (*Server, error) { return start(opts) })
}

func start(opts *Options) (*Server, error) {
	acct, err := imapsrv.MailAccount()
	if err != nil {
		return nil, err
	}
	dir, err := imapsrv.MakeTempDir("rspamdtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, logPath: filepath.Join(dir, "log", "rspamd.log"), outPath: filepath.Join(dir, "supervisor.out")}
	ok := false
	defer func() {
		if !ok {
			imapsrv.RemoveDir("rspamdtest", "RSPAMDTEST_KEEP", dir)
		}
	}()
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	s.url = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	s.controller = fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	s.redisAddr = fmt.Sprintf("127.0.0.1:%d", ports[2])
	// One cache per user the tests run as: a directory another user owns
	// could not be chmodded.
	hsCache := filepath.Join(os.TempDir(), fmt.Sprintf("mailrules-rspamdtest-hs-%d", os.Geteuid()))
	for _, d := range []string{"local/local.d", "db", "run", "log", "redis"} {
		if err := acct.MkdirOwned(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := acct.MkdirOwned(hsCache, 0o755); err != nil {
		return nil, err
	}
	files := configFiles(opts, ports, hsCache, filepath.Join(dir, "tld.dat"), filepath.Join(dir, "run"))
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	if _, err := os.Create(s.logPath); err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	if err := acct.Own(s.logPath); err != nil {
		return nil, err
	}
	q := imapsrv.ShellQuote
	asUser := ""
	rspamdUser := "-i" // running as the current user, not root: nothing to drop
	if acct.Chown {
		asUser = fmt.Sprintf("setpriv --reuid=%d --regid=%d --clear-groups ", acct.UID, acct.GID)
		rspamdUser = fmt.Sprintf("-u %s -g %s", q(acct.Name), q(acct.Group))
	}
	redis := fmt.Sprintf("%s%s --bind 127.0.0.1 --port %d --save '' --appendonly no --dir %s --logfile %s",
		asUser, RedisPath, ports[2], q(filepath.Join(dir, "redis")), q(filepath.Join(dir, "log", "redis.log")))
	rspamd := fmt.Sprintf("%s -f -c %s %s --var=LOCAL_CONFDIR=%s --var=DBDIR=%s --var=RUNDIR=%s --var=LOGDIR=%s",
		RspamdPath, q(filepath.Join(dir, "rspamd.conf")), rspamdUser,
		q(filepath.Join(dir, "local")), q(filepath.Join(dir, "db")), q(filepath.Join(dir, "run")), q(filepath.Join(dir, "log")))
	script := imapsrv.Script(nil, []string{redis, rspamd})
	env := append(os.Environ(), "LC_ALL=C")
	proc, err := imapsrv.Start(script, dir, s.outPath, env, true)
	if err != nil {
		return nil, err
	}
	s.proc = proc
	if err := s.waitReady(startTimeout); err != nil {
		_ = proc.Stop(stopTimeout)
		tail := imapsrv.Tail(4<<10, s.outPath, s.logPath, filepath.Join(dir, "log", "redis.log"))
		return nil, fmt.Errorf("rspamd did not start: %w\n%s", err, tail)
	}
	ok = true
	return s, nil
}

// waitReady waits until /ping answers on the worker and the controller.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for _, base := range []string{s.url, s.controller} {
		for {
			resp, err := client.Get(base + "/ping")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			select {
			case <-s.proc.Exited():
				return fmt.Errorf("a server process exited during startup (%v)", s.proc.Err())
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s/ping: no answer after %v: %v", base, timeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// URL is the normal worker's base URL (POST /checkv2 there).
func (s *Server) URL() string { return s.url }

// ControllerURL is the controller's base URL (/learnspam, /learnham, /stat).
func (s *Server) ControllerURL() string { return s.controller }

// RedisAddr is the redis-server's host:port.
func (s *Server) RedisAddr() string { return s.redisAddr }

// LogPath is rspamd's log file.
func (s *Server) LogPath() string { return s.logPath }

// Close stops rspamd and redis-server and removes the directory.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.proc.Stop(stopTimeout)
		imapsrv.RemoveDir("rspamdtest", "RSPAMDTEST_KEEP", s.dir)
	})
	return s.closeErr
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
