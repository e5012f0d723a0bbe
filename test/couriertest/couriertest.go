// Package couriertest runs a throwaway Courier-IMAP server (Debian's
// courier-imap 5.0.13) for tests, on a free loopback port, configured as
// Debian configures it.
//
// courier-imap conflicts with dovecot-imapd as a Debian package, so `make
// deps` (scripts/otherservers.sh) downloads the .debs of courier-base and
// courier-imap and unpacks them under Root (/opt/mailrules-test/courier)
// with dpkg-deb -x, and apt-installs only their non-conflicting
// dependencies: courier-authlib (authdaemond), courier-authlib-userdb,
// gamin and libraries.
//
// Courier's authentication library talks to authdaemond through a
// compiled-in socket, /run/courier/authdaemon/socket, and authdaemond and
// its userdb module read the compiled-in /etc/courier/authdaemonrc and
// /etc/courier/userdb.dat. So Start needs root: it runs the server in its
// own mount and PID namespaces, where the temporary directory's etc/ and
// run/ are bind-mounted over /etc/courier and /run/courier (two empty
// directories on the host, created if missing). Several servers can run
// at once, the host's files are never touched, and when the supervising
// shell (PID 1 of the namespace) dies, the kernel kills every process it
// started, so nothing outlives Close or the test binary.
//
// Server layout and behaviour that tests may rely on (measured with
// Courier-IMAP 5.0.13 from Debian 12):
//
//   - Namespace: NAMESPACE answers (("INBOX." ".")) NIL
//     (("#shared." ".")("shared." ".")). Folders live below INBOX
//     ("INBOX.Archive", the Maildir++ directory .Archive), the separator is
//     ".", and CREATE of a top-level name ("Archive") is refused with
//     "NO Invalid mailbox name.".
//   - Authentication: LOGIN without TLS (no certificate, so no STARTTLS),
//     through authdaemond's userdb module. Passwords are stored as
//     {SHA}base64(sha1). Each user runs as "nobody" with a Maildir in the
//     temporary directory. Names are lower-case letters, digits, '_' and
//     '-'.
//   - Capabilities after login are Debian's IMAP_CAPABILITY plus what
//     Courier adds: IMAP4rev1 UIDPLUS CHILDREN NAMESPACE
//     THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE ACL
//     ACL2=UNION ENABLE UTF8=ACCEPT. There is no MOVE (use COPY, STORE
//     \Deleted and UID EXPUNGE), no LITERAL+, no CONDSTORE, no SPECIAL-USE.
//   - IDLE: with IMAP_ENHANCEDIDLE=1 (the default here; Debian ships 0)
//     IDLE's continuation request is "+ entering ENHANCED idle mode", imapd
//     watches the Maildir through Gamin (gam_server, started on demand) and
//     an EXISTS arrives within 30 ms to 1 s of another connection's APPEND.
//     With Options.NoEnhancedIdle it answers "+ entering idle mode" and
//     re-checks only every IMAP_IDLE_TIMEOUT (60 s unless
//     Options.IdleTimeout).
//   - APPEND with a date before 1970 is refused with "NO Error in IMAP
//     command received by server."; Dovecot accepts such dates. APPEND and
//     COPY to a missing folder get NO [TRYCREATE].
//   - Slow spots: a failed LOGIN is answered ("NO Login failed.") after
//     about 5 s (imaplogin sleeps; not configurable); DELETE of a folder
//     takes about 2 s.
//   - Logs: authdaemond, couriertcpd, imaplogin and imapd write to stderr,
//     which goes to the log LogTail reads (LOGIN and LOGOUT lines included).
//
// Set COURIERTEST_KEEP=1 in the environment to keep the temporary directory
// after Close.
package couriertest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

// Root is where `make deps` unpacks courier-base and courier-imap. The
// environment variable COURIERTEST_ROOT overrides it.
const Root = "/opt/mailrules-test/courier"

// Files of the apt-installed courier-authlib and courier-authlib-userdb,
// and the mount points of the compiled-in configuration and socket
// directories.
const (
	// AuthdaemondPath is courier-authlib's authentication daemon.
	AuthdaemondPath = "/usr/lib/courier/courier-authlib/authdaemond"
	// MakedatPath builds the userdb GDBM files (what makeuserdb runs).
	MakedatPath   = "/usr/lib/courier/courier-authlib/makedatprog"
	userdbModule  = "/usr/lib/courier-authlib/libauthuserdb.so.0"
	gamServerPath = "/usr/libexec/gam_server"
	etcMount      = "/etc/courier"
	runMount      = "/run/courier"
)

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 3
)

func root() string {
	if r := os.Getenv("COURIERTEST_ROOT"); r != "" {
		return r
	}
	return Root
}

func imapdPath() string       { return filepath.Join(root(), "usr/bin/imapd") }
func imaploginPath() string   { return filepath.Join(root(), "usr/lib/courier/courier/imaplogin") }
func couriertcpdPath() string { return filepath.Join(root(), "usr/sbin/couriertcpd") }

var (
	availOnce sync.Once
	availErr  error
)

// Available reports whether Courier can be started here: nil, or an error
// saying what is missing. Courier needs root (see the package doc).
func Available() error {
	availOnce.Do(func() { availErr = available() })
	return availErr
}

func available() error {
	if os.Geteuid() != 0 {
		return errors.New("courier needs root (mount namespaces for its compiled-in /etc/courier and /run/courier)")
	}
	for _, p := range []string{imapdPath(), imaploginPath(), couriertcpdPath()} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("courier not unpacked in %s (run `make deps`): %w", root(), err)
		}
	}
	for _, p := range []string{AuthdaemondPath, MakedatPath, userdbModule} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("courier-authlib or courier-authlib-userdb missing (run `make deps`): %w", err)
		}
	}
	for _, p := range []string{"/bin/bash", gamServerPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s missing (run `make deps`): %w", p, err)
		}
	}
	if _, err := mountPath(); err != nil {
		return err
	}
	for _, p := range []string{imapdPath(), imaploginPath(), couriertcpdPath(), AuthdaemondPath} {
		out, err := exec.Command("ldd", p).Output()
		if err != nil {
			return fmt.Errorf("ldd %s: %w", p, err)
		}
		for line := range strings.Lines(string(out)) {
			if strings.Contains(line, "not found") {
				return fmt.Errorf("courier %s: library missing (run `make deps`): %s", filepath.Base(p), strings.TrimSpace(line))
			}
		}
	}
	return nil
}

func mountPath() (string, error) {
	for _, p := range []string{"/usr/bin/mount", "/bin/mount"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("mount(8) missing")
}

// Options configure Start. A nil *Options is the zero value.
type Options struct {
	// NoEnhancedIdle sets IMAP_ENHANCEDIDLE=0, as Debian ships it: IDLE
	// then re-checks the Maildir every IMAP_IDLE_TIMEOUT seconds.
	NoEnhancedIdle bool
	// IdleTimeout sets IMAP_IDLE_TIMEOUT (whole seconds, at least 1);
	// 0 keeps Debian's 60 s.
	IdleTimeout time.Duration
	// Env overrides imapd settings (the variables of Debian's
	// /etc/courier/imapd, see imapd(8)); an empty value removes one. E.g.
	// {"IMAP_CAPABILITY": "IMAP4rev1 NAMESPACE IDLE"} hides UIDPLUS.
	Env map[string]string
}

// Server is a running Courier-IMAP. Its methods are safe for concurrent
// use.
type Server struct {
	dir      string
	etcDir   string // bind-mounted over /etc/courier
	runDir   string // bind-mounted over /run/courier
	homeRoot string
	logPath  string
	acct     *imapsrv.Account
	addr     string
	proc     *imapsrv.Proc

	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex // guards users, nextUser, closed and the userdb files
	closed   bool
	users    map[string]*User
	nextUser int
}

// Start configures and starts Courier in a new temporary directory and
// waits until it greets on its loopback port.
func Start(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := Available(); err != nil {
		return nil, err
	}
	s := &Server{users: map[string]*User{}}
	if err := s.prepare(); err != nil {
		s.removeDir()
		return nil, err
	}
	var err error
	for range startTries {
		var retry bool
		if retry, err = s.startOnce(opts); err == nil {
			return s, nil
		} else if !retry {
			break
		}
	}
	s.removeDir()
	return nil, err
}

func (s *Server) prepare() error {
	for _, p := range []string{etcMount, runMount} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", p, err)
		}
	}
	dir, err := imapsrv.MakeTempDir("couriertest-")
	if err != nil {
		return err
	}
	s.dir = dir
	s.etcDir = filepath.Join(dir, "etc")
	s.runDir = filepath.Join(dir, "run")
	s.homeRoot = filepath.Join(dir, "home")
	s.logPath = filepath.Join(dir, "server.log")
	if s.acct, err = imapsrv.MailAccount(); err != nil {
		return err
	}
	for _, d := range []string{s.etcDir, filepath.Join(s.runDir, "authdaemon"), s.homeRoot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.etcDir, "authdaemonrc"), []byte(authdaemonrc), 0o644); err != nil {
		return fmt.Errorf("write authdaemonrc: %w", err)
	}
	if err := os.WriteFile(s.logPath, nil, 0o644); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	return s.writeUserdb()
}

// startOnce starts authdaemond and couriertcpd on a fresh port. retry is
// true when the port was taken by someone else meanwhile.
func (s *Server) startOnce(opts *Options) (retry bool, err error) {
	port, err := imapsrv.FreePort()
	if err != nil {
		return false, err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	mount, err := mountPath()
	if err != nil {
		return false, err
	}
	q := imapsrv.ShellQuote
	script := imapsrv.Script(
		[]string{
			fmt.Sprintf("%s --bind %s %s", mount, q(s.etcDir), etcMount),
			fmt.Sprintf("%s --bind %s %s", mount, q(s.runDir), runMount),
			"rm -f /run/courier/authdaemon/socket*",
		},
		[]string{
			q(AuthdaemondPath),
			fmt.Sprintf("%s -address=127.0.0.1 -maxprocs=200 -maxperip=200 -nodnslookup -noidentlookup %d %s %s Maildir",
				q(couriertcpdPath()), port, q(imaploginPath()), q(imapdPath())),
		})
	proc, err := imapsrv.Start(script, s.dir, s.logPath, imapdEnv(opts), true)
	if err != nil {
		return false, err
	}
	s.proc = proc
	fail := func(err error) (bool, error) {
		s.proc.Stop(stopTimeout)
		s.proc = nil
		if l, lerr := net.Listen("tcp", s.addr); lerr != nil {
			return true, err // someone else holds the port
		} else {
			l.Close()
		}
		return false, fmt.Errorf("courier: %w\n%s", err, s.LogTail(4096))
	}
	if err := imapsrv.WaitGreeting(s.addr, "Courier-IMAP", proc, startTimeout); err != nil {
		return fail(err)
	}
	// Logins fail until authdaemond listens.
	socket := filepath.Join(s.runDir, "authdaemon", "socket")
	deadline := time.Now().Add(startTimeout)
	for {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("authdaemond socket %s missing after %v", socket, startTimeout))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false, nil
}

// Close stops every Courier process and removes the temporary directory
// (kept when COURIERTEST_KEEP is set). It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.proc != nil {
			s.closeErr = s.proc.Stop(stopTimeout)
		}
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		imapsrv.RemoveDir("couriertest", "COURIERTEST_KEEP", s.dir)
	})
	return s.closeErr
}

// removeDir removes the temporary directory after a failed start.
func (s *Server) removeDir() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Addr returns the plaintext IMAP address, "127.0.0.1:PORT". LOGIN works
// there without TLS.
func (s *Server) Addr() string { return s.addr }

// Dir returns the server's temporary directory.
func (s *Server) Dir() string { return s.dir }

// LogTail returns up to the last n bytes of the server's log, for failure
// messages.
func (s *Server) LogTail(n int64) string { return imapsrv.Tail(n, s.logPath) }
