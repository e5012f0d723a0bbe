// Package cyrustest runs a throwaway Cyrus IMAP server (Debian's
// cyrus-imapd 3.6) for tests, on a free loopback port, configured as Debian
// configures it.
//
// cyrus-imapd conflicts with dovecot-imapd as a Debian package, so `make
// deps` (scripts/otherservers.sh) does not install it: it downloads the
// .debs of cyrus-common and cyrus-imapd, unpacks them under Root
// (/opt/mailrules-test/cyrus) with dpkg-deb -x and apt-installs only their
// libraries and sasl2-bin. Start then runs Root's master with -C and -M
// pointing at an imapd.conf and a cyrus.conf written into a fresh temporary
// directory, with every path (configdirectory, partition, sockets, locks,
// sasldb) inside it, and LD_LIBRARY_PATH set for the unpacked libcyrus*.
// Nothing outside the temporary directory is written.
//
// Server layout and behaviour that tests may rely on (measured with Cyrus
// 3.6.1 from Debian 12):
//
//   - Namespace: altnamespace no, unixhierarchysep no (Debian's settings).
//     NAMESPACE answers (("INBOX." ".")) (("user." ".")) (("" ".")):
//     personal folders live below INBOX ("INBOX.Archive"), the hierarchy
//     separator is ".", and CREATE of a top-level name ("Archive") is
//     refused with "NO Permission denied" (it would be a shared folder).
//   - Authentication: LOGIN and AUTHENTICATE PLAIN/LOGIN without TLS
//     (allowplaintext yes; no TLS is configured, so no STARTTLS). Passwords
//     are in a sasldb file (sasl_pwcheck_method auxprop, written with
//     saslpasswd2 -f) in the realm "localhost" (servername). A wrong
//     password gets "NO Login failed: authentication failure".
//   - Users: AddUser adds the sasldb entry, then AdminName creates
//     "user.NAME" over IMAP: the user starts with an empty INBOX and all
//     rights on it. Names are lower-case letters, digits, '_' and '-'.
//     (autocreate_quota 0, as on Debian, would also create a missing INBOX
//     at the first login.)
//   - Capabilities after login: IMAP4rev1 LITERAL+ ID ENABLE ACL
//     ANNOTATE-EXPERIMENT-1 BINARY CATENATE CHILDREN CONDSTORE
//     CREATE-SPECIAL-USE ESEARCH ESORT LIST-EXTENDED LIST-MYRIGHTS
//     LIST-STATUS MAILBOX-REFERRALS METADATA MOVE MULTIAPPEND NAMESPACE
//     OBJECTID PREVIEW QRESYNC QUOTA RIGHTS=kxten SAVEDATE SEARCH=FUZZY SORT
//     SORT=DISPLAY SPECIAL-USE STATUS=SIZE THREAD=ORDEREDSUBJECT
//     THREAD=REFERENCES UIDPLUS UNSELECT URLAUTH URLAUTH=BINARY WITHIN
//     DIGEST=SHA1 LIST-METADATA NO_ATOMIC_RENAME SCAN SORT=MODSEQ SORT=UID
//     THREAD=REFS X-CREATEDMODSEQ X-REPLICATION X-SIEVE-MAILBOX XLIST XMOVE
//     LOGINDISABLED COMPRESS=DEFLATE X-QUOTA=... IDLE APPENDLIMIT=4294967295.
//     Note LOGINDISABLED after login (harmless) and no LOGINDISABLED before.
//     MOVE and UIDPLUS are there.
//   - IDLE: with idled running (the default here; Debian's cyrus.conf
//     leaves it out) imapd hears about changes through idled's socket and
//     an EXISTS arrives within about 50 ms of another connection's APPEND.
//     IDLE's continuation request is "+ idling".
//     With Options.NoIdled imapd polls every imapidlepoll (60 s unless
//     Options.IdlePoll).
//   - APPEND with a date before 1970 is refused with a BAD, "BAD Invalid
//     date-time in Append command" (the connection stays usable); Dovecot
//     accepts such dates. APPEND, COPY and MOVE to a missing folder get
//     NO [TRYCREATE].
//   - Failed logins: failedloginpause is 0 here (Cyrus's default pauses
//     3 s before answering).
//   - Processes: master drops to "nobody" (cyrus_user) when the test runs
//     as root, otherwise everything runs as the current user. As root the
//     server runs in its own PID namespace under a supervising shell, so
//     nothing outlives Close or the test binary.
//   - Logs: Cyrus logs through syslog(3), which nobody reads here; LogTail
//     only has the supervisor's and master's stderr.
//
// Set CYRUSTEST_KEEP=1 in the environment to keep the temporary directory
// after Close.
package cyrustest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

// Root is where `make deps` unpacks cyrus-common and cyrus-imapd. The
// environment variable CYRUSTEST_ROOT overrides it.
const Root = "/opt/mailrules-test/cyrus"

// AdminName is the Cyrus administrator (imapd.conf "admins") that creates
// and deletes users' mailboxes. Its password is Server.AdminPassword.
const AdminName = "cyrusadmin"

// serverName is imapd.conf's servername and the SASL realm of every user.
const serverName = "localhost"

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 3
)

func root() string {
	if r := os.Getenv("CYRUSTEST_ROOT"); r != "" {
		return r
	}
	return Root
}

func libDir() string { return filepath.Join(root(), "usr/lib/x86_64-linux-gnu") }

var (
	availOnce sync.Once
	availErr  error
)

// Available reports whether Cyrus can be started here: nil, or an error
// saying what is missing.
func Available() error {
	availOnce.Do(func() { availErr = available() })
	return availErr
}

func available() error {
	bin := filepath.Join(root(), "usr/lib/cyrus/bin")
	for _, name := range []string{"master", "imapd", "idled", "ctl_cyrusdb"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return fmt.Errorf("cyrus not unpacked in %s (run `make deps`): %w", root(), err)
		}
	}
	if _, err := os.Stat(saslpasswd2Path()); err != nil {
		return errors.New("saslpasswd2 missing (run `make deps`, which installs sasl2-bin)")
	}
	if _, err := os.Stat("/bin/bash"); err != nil {
		return fmt.Errorf("/bin/bash missing: %w", err)
	}
	// Every shared library the server needs must resolve.
	for _, name := range []string{"master", "imapd", "idled", "ctl_cyrusdb"} {
		cmd := exec.Command("ldd", filepath.Join(bin, name))
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+libDir())
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("ldd %s: %w", name, err)
		}
		for line := range strings.Lines(string(out)) {
			if strings.Contains(line, "not found") {
				return fmt.Errorf("cyrus %s: library missing (run `make deps`): %s", name, strings.TrimSpace(line))
			}
		}
	}
	return nil
}

// Options configure Start. A nil *Options is the zero value.
type Options struct {
	// NoIdled leaves idled out, as Debian's cyrus.conf does: IDLE then
	// polls every imapidlepoll.
	NoIdled bool
	// IdlePoll sets imapidlepoll, how often IDLE polls without idled (at
	// least a second); 0 keeps Cyrus's 60 s.
	IdlePoll time.Duration
	// Config overrides imapd.conf settings (an empty value removes one),
	// e.g. {"suppress_capabilities": "MOVE"}. Cyrus refuses a setting given
	// twice, so this replaces rather than appends.
	Config map[string]string
}

// Server is a running Cyrus. Its methods are safe for concurrent use.
type Server struct {
	dir     string
	logPath string
	acct    *imapsrv.Account
	params  *configParams
	addr    string
	adminPW string
	proc    *imapsrv.Proc

	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex // guards users, nextUser, closed and the sasldb
	closed   bool
	users    map[string]*User
	nextUser int
}

// Start configures and starts Cyrus in a new temporary directory and waits
// until it greets on its loopback port.
func Start(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := Available(); err != nil {
		return nil, err
	}
	s := &Server{users: map[string]*User{}}
	if err := s.prepare(opts); err != nil {
		s.removeDir()
		return nil, err
	}
	var err error
	for range startTries {
		var retry bool
		if retry, err = s.startOnce(); err == nil {
			return s, nil
		} else if !retry {
			break
		}
	}
	s.removeDir()
	return nil, err
}

func (s *Server) prepare(opts *Options) error {
	dir, err := imapsrv.MakeTempDir("cyrustest-")
	if err != nil {
		return err
	}
	s.dir = dir
	s.logPath = filepath.Join(dir, "server.log")
	if s.acct, err = imapsrv.MailAccount(); err != nil {
		return err
	}
	for _, d := range []string{"conf", "conf/socket", "conf/proc", "conf/lock", "conf/log", "spool", "sieve", "tmp"} {
		if err := s.acct.MkdirOwned(filepath.Join(dir, d), 0o750); err != nil {
			return err
		}
	}
	if err := os.WriteFile(s.logPath, nil, 0o644); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	s.params = &configParams{
		dir:      dir,
		root:     root(),
		user:     s.acct.Name,
		group:    s.acct.Group,
		idled:    !opts.NoIdled,
		idlePoll: opts.IdlePoll,
		extra:    opts.Config,
	}
	s.adminPW = randomPassword()
	if err := s.saslpasswd(AdminName, s.adminPW, false); err != nil {
		return err
	}
	return s.acct.Own(s.params.sasldbPath())
}

// startOnce writes the configuration for a fresh port and starts master.
// retry is true when the port was taken by someone else meanwhile.
func (s *Server) startOnce() (retry bool, err error) {
	port, err := imapsrv.FreePort()
	if err != nil {
		return false, err
	}
	s.params.port = port
	if err := writeConfigs(s.params); err != nil {
		return false, err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	master := filepath.Join(root(), "usr/lib/cyrus/bin/master")
	script := imapsrv.Script(nil, []string{fmt.Sprintf("%s -D -C %s -M %s -p %s",
		imapsrv.ShellQuote(master), imapsrv.ShellQuote(s.params.imapdConfPath()),
		imapsrv.ShellQuote(s.params.cyrusConfPath()), imapsrv.ShellQuote(filepath.Join(s.dir, "master.pid")))})
	env := []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"LD_LIBRARY_PATH=" + libDir(),
		"TMPDIR=" + filepath.Join(s.dir, "tmp"),
	}
	proc, err := imapsrv.Start(script, s.dir, s.logPath, env, true)
	if err != nil {
		return false, err
	}
	s.proc = proc
	if err := imapsrv.WaitGreeting(s.addr, "Cyrus IMAP", proc, startTimeout); err != nil {
		s.proc.Stop(stopTimeout)
		s.proc = nil
		// Someone else holds the port: try another one.
		if l, lerr := net.Listen("tcp", s.addr); lerr != nil {
			return true, err
		} else {
			l.Close()
		}
		return false, fmt.Errorf("cyrus: %w\n%s", err, s.LogTail(4096))
	}
	return false, nil
}

// Close stops every Cyrus process and removes the temporary directory
// (kept when CYRUSTEST_KEEP is set). It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.proc != nil {
			s.closeErr = s.proc.Stop(stopTimeout)
		}
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		imapsrv.RemoveDir("cyrustest", "CYRUSTEST_KEEP", s.dir)
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

// ConfigPath returns the generated imapd.conf.
func (s *Server) ConfigPath() string { return s.params.imapdConfPath() }

// AdminPassword returns the password of AdminName.
func (s *Server) AdminPassword() string { return s.adminPW }

// LogTail returns up to the last n bytes of what the server processes
// wrote to stderr (Cyrus itself logs to syslog), for failure messages.
func (s *Server) LogTail(n int64) string { return imapsrv.Tail(n, s.logPath) }

// adminDo logs in as AdminName and runs fn.
func (s *Server) adminDo(fn func(ctx context.Context, c *imap.Client) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := imap.Dial(ctx, s.addr, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(ctx, AdminName, s.adminPW); err != nil {
		return fmt.Errorf("admin login: %w", err)
	}
	if err := fn(ctx, c); err != nil {
		return err
	}
	return c.Logout(ctx)
}

func randomPassword() string {
	var b [9]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
