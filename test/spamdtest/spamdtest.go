// Package spamdtest runs a throwaway SpamAssassin spamd for tests.
//
// Start copies the plugin loaders (*.pre) of /etc/spamassassin into a
// fresh temporary directory, writes a local.cf there (Bayes on, in a
// database of its own in that directory; no auto-learning; no DNS, Razor
// or Pyzor) and starts /usr/sbin/spamd on a free loopback port with it
// (--siteconfigpath), and on a unix socket in that directory
// (--socketpath), local tests only (-L), no user configuration (-x),
// learning allowed (--allow-tell) and connections from 127.0.0.1 only. The
// rules are the Debian package's (/usr/share/spamassassin). When the test
// runs as root, spamd's children run as "nobody". spamd logs to LogPath.
// Set SPAMDTEST_KEEP=1 to keep the directory after Close.
package spamdtest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

// Paths of Debian's spamd and SpamAssassin's site configuration.
const (
	SpamdPath   = "/usr/sbin/spamd"
	SiteConfDir = "/etc/spamassassin"
)

const (
	startTimeout = 3 * time.Minute // rules load slowly on a busy machine
	stopTimeout  = 15 * time.Second
	startTries   = 3
)

// Options configure Start. A nil *Options is the zero value.
type Options struct {
	// Children is spamd's --max-children; 0 means 2.
	Children int
}

// Server is a running spamd.
type Server struct {
	dir     string
	addr    string
	socket  string
	logPath string
	outPath string
	proc    *imapsrv.Proc

	closeOnce sync.Once
	closeErr  error
}

// Available reports why spamd cannot run here ("" when it can).
func Available() string {
	if _, err := os.Stat(SpamdPath); err != nil {
		return fmt.Sprintf("%s is not installed (make deps, or apt-get install spamd spamassassin)", SpamdPath)
	}
	return ""
}

// New starts a server for t, skips t when spamd is not installed, and
// stops the server when t ends; when t failed, the end of spamd's log
// goes into t's log.
func New(t testing.TB, opts *Options) *Server {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip("spamdtest: " + why)
	}
	begin := time.Now()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("spamdtest: %v", err)
	}
	t.Logf("spamdtest: spamd on %s started in %v", s.Addr(), time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("spamdtest: end of the log:\n%s", imapsrv.Tail(8<<10, s.logPath, s.outPath))
		}
		if err := s.Close(); err != nil {
			t.Errorf("spamdtest: %v", err)
		}
	})
	return s
}

// Start configures and starts spamd in a new temporary directory and waits
// until it answers PING.
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
	dir, err := imapsrv.MakeTempDir("spamdtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, logPath: filepath.Join(dir, "spamd.log"), outPath: filepath.Join(dir, "supervisor.out")}
	ok := false
	defer func() {
		if !ok {
			imapsrv.RemoveDir("spamdtest", "SPAMDTEST_KEEP", dir)
		}
	}()
	site, bayes, home := filepath.Join(dir, "site"), filepath.Join(dir, "bayes"), filepath.Join(dir, "home")
	for _, d := range []string{site, bayes, home} {
		if err := acct.MkdirOwned(d, 0o755); err != nil {
			return nil, err
		}
	}
	pres, _ := filepath.Glob(filepath.Join(SiteConfDir, "*.pre"))
	for _, p := range pres {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("copy site configuration: %w", err)
		}
		if err := os.WriteFile(filepath.Join(site, filepath.Base(p)), data, 0o644); err != nil {
			return nil, fmt.Errorf("copy site configuration: %w", err)
		}
	}
	local := fmt.Sprintf(`# Written by spamdtest.
use_bayes 1
bayes_auto_learn 0
bayes_path %s
bayes_file_mode 0770
lock_method flock
dns_available no
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
`, filepath.Join(bayes, "bayes"))
	if err := os.WriteFile(filepath.Join(site, "local.cf"), []byte(local), 0o644); err != nil {
		return nil, fmt.Errorf("write local.cf: %w", err)
	}
	port, err := imapsrv.FreePort()
	if err != nil {
		return nil, err
	}
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	children := opts.Children
	if children < 1 {
		children = 2
	}
	q := imapsrv.ShellQuote
	user := ""
	if acct.Chown {
		user = fmt.Sprintf("-u %s -g %s ", q(acct.Name), q(acct.Group))
	}
	s.socket = filepath.Join(dir, "spamd.sock")
	cmd := fmt.Sprintf("%s -L -x --allow-tell -i %s --allowed-ips=127.0.0.1 --socketpath=%s --socketmode=0666 %s--siteconfigpath=%s -H %s -s %s -r %s -m %d --min-children=1",
		SpamdPath, s.addr, q(s.socket), user, q(site), q(home), q(s.logPath), q(filepath.Join(dir, "spamd.pid")), children)
	proc, err := imapsrv.Start(imapsrv.Script(nil, []string{cmd}), dir, s.outPath, append(os.Environ(), "LC_ALL=C"), true)
	if err != nil {
		return nil, err
	}
	s.proc = proc
	if err := s.waitReady(startTimeout); err != nil {
		_ = proc.Stop(stopTimeout)
		return nil, fmt.Errorf("spamd did not start: %w\n%s", err, imapsrv.Tail(4<<10, s.outPath, s.logPath))
	}
	ok = true
	return s, nil
}

// waitReady waits until spamd answers PING with PONG.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ping(s.addr)
		if err == nil {
			return nil
		}
		select {
		case <-s.proc.Exited():
			return fmt.Errorf("spamd exited during startup (%v)", s.proc.Err())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG on %s after %v: %v", s.addr, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ping sends PING SPAMC/1.5 and wants "SPAMD/1.x 0 PONG".
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("PING SPAMC/1.5\r\n\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read PONG: %w", err)
	}
	if !strings.Contains(line, " 0 PONG") {
		return fmt.Errorf("answered %q to PING", strings.TrimSpace(line))
	}
	return nil
}

// Addr is spamd's host:port.
func (s *Server) Addr() string { return s.addr }

// SocketPath is spamd's unix socket, where it listens too.
func (s *Server) SocketPath() string { return s.socket }

// LogPath is spamd's log file.
func (s *Server) LogPath() string { return s.logPath }

// Close stops spamd and removes the directory.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.proc.Stop(stopTimeout)
		imapsrv.RemoveDir("spamdtest", "SPAMDTEST_KEEP", s.dir)
	})
	return s.closeErr
}
