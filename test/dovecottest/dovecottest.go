// Package dovecottest runs a throwaway Dovecot IMAP server for tests.
//
// Start writes a self-contained dovecot.conf into a fresh temporary
// directory and starts /usr/sbin/dovecot in the foreground on two free
// loopback ports: Addr is plaintext IMAP offering STARTTLS, TLSAddr is
// implicit TLS. The certificate is self-signed and generated on the fly;
// TLSConfig trusts it. Users are created at runtime (NewUser, AddUser) in a
// passwd-file of their own that Dovecot reads at the first login, each with
// an empty Maildir.
//
// Server layout and behaviour that tests may rely on:
//
//   - Authentication: LOGIN and AUTHENTICATE PLAIN, LOGIN and CRAM-MD5, all
//     allowed without TLS (loopback only). Failed logins get no growing
//     penalty (auth_failure_delay 0, anvil auth penalty off); Dovecot still
//     answers a failed LOGIN after about half a second.
//   - Storage: Maildir++ (a folder "A.B" is the directory ".A.B"), hierarchy
//     separator "." (Options.Separator can make it "/"). Mailbox "Trash" has the \Trash special-use attribute and
//     is created and subscribed automatically at login; "Junk", "Sent",
//     "Drafts" and "Archive" carry \Junk, \Sent, \Drafts and \Archive but
//     exist only once a test creates them.
//   - Capabilities are Dovecot's defaults (IDLE, MOVE, UIDPLUS, CONDSTORE,
//     SPECIAL-USE, LITERAL+, SASL-IR, ENABLE, ...) unless Options.Capability
//     overrides them.
//   - Mail processes run as "nobody" when the test runs as root (Dovecot
//     refuses to serve mail as uid 0), otherwise as the current user.
//   - Everything Dovecot logs goes to LogPath, except processes started
//     through Command, which log to their stderr.
//   - Messages loaded with AddMessages are \Recent for the first session
//     that sees them.
//
// Set DOVECOTTEST_KEEP=1 in the environment to keep the temporary directory
// after Close for inspection.
package dovecottest

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

// Paths of the Dovecot executables (Debian's dovecot-core/dovecot-imapd).
const (
	DovecotPath = "/usr/sbin/dovecot"
	IMAPPath    = "/usr/lib/dovecot/imap"
)

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 4 // a free port can be taken between probing and binding
	// logDrainGrace is how long Close lets the log process drain after
	// every other Dovecot process has exited.
	logDrainGrace = 100 * time.Millisecond
)

// Options configure Start. A nil *Options is the zero value: Dovecot's
// default capabilities, no plugins, nothing extra.
type Options struct {
	// Capability, when non-empty, replaces Dovecot's capability list
	// (imap_capability), e.g. "IMAP4rev1 IDLE" to hide MOVE and UIDPLUS.
	// Dovecot still adds STARTTLS and AUTH= before login.
	Capability string
	// Plugins enables Dovecot plugins with their IMAP commands:
	// "acl" (acl + imap_acl, RFC 4314, vfile backend),
	// "quota" (quota + imap_quota, RFC 2087, count backend with a 1 GiB
	// storage rule; SETQUOTA is refused by Dovecot for non-admin users),
	// "metadata" (mail_attribute_dict + imap_metadata, RFC 5464).
	Plugins []string
	// Prefix is the personal namespace's prefix (NAMESPACE, RFC 2342):
	// "" (the default) or e.g. "INBOX.", as Courier and Cyrus have it,
	// where every mailbox but INBOX lives under INBOX (INBOX.Trash).
	Prefix string
	// Separator is the hierarchy separator IMAP clients see: "." (the
	// default, Dovecot's default for Maildir++) or "/".
	Separator string
	// ExtraConfig is appended verbatim to dovecot.conf. Sections with the
	// name of a generated one (e.g. "namespace inbox { ... }") are merged
	// into it by Dovecot.
	ExtraConfig string
}

// Server is a running Dovecot. Its methods are safe for concurrent use.
type Server struct {
	dir       string
	confPath  string
	logPath   string
	outPath   string // the master's own stdout/stderr
	passwdDir string // one passwd-file per user
	homeRoot  string
	addr      string
	tlsAddr   string
	tlsConfig *tls.Config
	mailUID   int
	mailGID   int
	chown     bool // files we create must be chowned to mailUID/mailGID
	imapPath  string

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the master has exited
	waitErr error         // valid after exited is closed

	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex
	closed   bool
	users    map[string]*User
	nextUser int

	fileSeq atomic.Uint64 // unique suffix for Maildir file names
}

// instanceSeq numbers servers inside one process so their instance names
// differ. It is the only package-level state and only ever increments.
var instanceSeq atomic.Uint64

// Start configures and starts a Dovecot instance in a new temporary
// directory and waits until it accepts IMAP connections.
func Start(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := checkPlugins(opts.Plugins); err != nil {
		return nil, err
	}
	switch opts.Separator {
	case "", ".", "/":
	default:
		return nil, fmt.Errorf("separator %q: want \".\" or \"/\"", opts.Separator)
	}
	if _, err := os.Stat(DovecotPath); err != nil {
		return nil, fmt.Errorf("dovecot not installed (run `make deps` or apt-get install dovecot-imapd): %w", err)
	}
	s := &Server{users: map[string]*User{}, imapPath: IMAPPath}
	if err := s.prepare(opts); err != nil {
		s.removeDir()
		return nil, err
	}
	var err error
	for try := 0; try < startTries; try++ {
		if err = s.startOnce(opts); err == nil {
			return s, nil
		}
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	s.removeDir()
	return nil, err
}

var errAddrInUse = errors.New("address already in use")

// prepare creates the directory, certificate, passwd directory and chooses the
// mail user.
func (s *Server) prepare(opts *Options) error {
	dir, err := imapsrv.MakeTempDir("dovecottest-")
	if err != nil {
		return err
	}
	s.dir = dir
	s.confPath = filepath.Join(dir, "dovecot.conf")
	s.logPath = filepath.Join(dir, "dovecot.log")
	s.outPath = filepath.Join(dir, "master.out")
	s.passwdDir = filepath.Join(dir, "passwd.d")
	s.homeRoot = filepath.Join(dir, "home")

	if os.Geteuid() == 0 {
		uid, gid, err := unprivilegedAccount()
		if err != nil {
			return err
		}
		s.mailUID, s.mailGID, s.chown = uid, gid, true
	} else {
		s.mailUID, s.mailGID = os.Getuid(), os.Getgid()
	}
	for _, d := range []string{filepath.Join(dir, "state"), s.homeRoot, s.passwdDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	// The log exists from the start, so LogPath can always be read.
	if err := os.WriteFile(s.logPath, nil, 0o644); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	_, _, pool, err := writeCertificate(dir)
	if err != nil {
		return err
	}
	s.tlsConfig = clientTLSConfig(pool)
	return nil
}

// unprivilegedAccount returns the uid and gid mail processes use when the
// test runs as root: nobody, with its primary group (nogroup on Debian).
func unprivilegedAccount() (uid, gid int, err error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return 0, 0, fmt.Errorf("look up unprivileged account: %w", err)
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("uid of nobody: %w", err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("gid of nobody: %w", err)
	}
	if uid == 0 || gid == 0 {
		return 0, 0, errors.New("account nobody has uid or gid 0")
	}
	return uid, gid, nil
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startOnce writes the config for fresh ports, starts the master and waits
// for the listeners.
func (s *Server) startOnce(opts *Options) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	p := &configParams{
		dir:        s.dir,
		baseDir:    filepath.Join(s.dir, "run"),
		stateDir:   filepath.Join(s.dir, "state"),
		logPath:    s.logPath,
		certPath:   filepath.Join(s.dir, "cert.pem"),
		keyPath:    filepath.Join(s.dir, "key.pem"),
		passwdDir:  s.passwdDir,
		homeRoot:   s.homeRoot,
		port:       ports[0],
		tlsPort:    ports[1],
		instance:   fmt.Sprintf("dovecottest-%d-%d", os.Getpid(), instanceSeq.Add(1)),
		mailUID:    s.mailUID,
		mailGID:    s.mailGID,
		root:       os.Geteuid() == 0,
		capability: opts.Capability,
		separator:  cmp.Or(opts.Separator, "."),
		prefix:     opts.Prefix,
		extra:      opts.ExtraConfig,
		plugins:    opts.Plugins,
	}
	if !p.root {
		u, err := user.Current()
		if err != nil {
			return fmt.Errorf("current user: %w", err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return fmt.Errorf("current group: %w", err)
		}
		p.selfUser, p.selfGroup = u.Username, g.Name
	}
	if err := writeConfig(s.confPath, p); err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.tlsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))

	out, err := os.OpenFile(s.outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open master output: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(DovecotPath, "-F", "-c", s.confPath)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = s.dir
	// Own process group, so Close can kill stragglers; and the master gets
	// SIGTERM if the test binary dies without calling Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	exited := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the child exits, so
		// that thread stays locked to this goroutine until the child is
		// gone; the goroutine's exit then retires the thread.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", DovecotPath, err)
	}
	s.cmd, s.exited = cmd, exited

	if err := s.waitReady(); err != nil {
		s.stop()
		if strings.Contains(s.logTail(8192), "Address already in use") {
			return fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return err
	}
	return nil
}

// waitReady waits until both listeners greet, or the master exits.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for _, addr := range []string{s.addr, s.tlsAddr} {
		tlsPort := addr == s.tlsAddr
		for {
			err := s.probe(addr, tlsPort)
			if err == nil {
				break
			}
			select {
			case <-s.exited:
				return fmt.Errorf("dovecot exited during startup (%v); log:\n%s", s.waitErr, s.logTail(4096))
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("dovecot not ready on %s after %v (%v); log:\n%s", addr, startTimeout, err, s.logTail(4096))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// probe connects to addr and reads the greeting.
func (s *Server) probe(addr string, useTLS bool) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
		return err
	}
	if useTLS {
		tc := tls.Client(conn, s.TLSConfig())
		defer tc.Close()
		conn = tc
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	return nil
}

// stop terminates the master (and with it every Dovecot process) and waits.
func (s *Server) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	// The master stops every service, signals the log process and then
	// sleeps a fixed second so the log process can drain its pipes. Once
	// the log process is the only child left, a short grace period is
	// enough here (loopback, a handful of lines); then the group is killed.
	childrenPath := fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)
	deadline := time.After(stopTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var onlyLogSince time.Time
	var err error
wait:
	for {
		select {
		case <-s.exited:
			break wait
		case <-deadline:
			err = fmt.Errorf("dovecot did not stop within %v; killed", stopTimeout)
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-s.exited
			break wait
		case now := <-tick.C:
			if !onlyLogLeft(childrenPath) {
				onlyLogSince = time.Time{}
				continue
			}
			if onlyLogSince.IsZero() {
				onlyLogSince = now
			} else if now.Sub(onlyLogSince) >= logDrainGrace {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	}
	// Kill anything of the group that outlived the master.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	s.cmd = nil
	return err
}

// onlyLogLeft reports whether the only live child listed in childrenPath
// is Dovecot's log process.
func onlyLogLeft(childrenPath string) bool {
	children, err := os.ReadFile(childrenPath)
	if err != nil {
		return false
	}
	sawLog := false
	for _, field := range strings.Fields(string(children)) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			return false
		}
		if !processAlive(pid) {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "log" {
			return false
		}
		sawLog = true
	}
	return sawLog
}

// Close stops Dovecot and removes its directory. It is safe to call more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.stop()
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		imapsrv.RemoveDir("dovecottest", "DOVECOTTEST_KEEP", s.dir)
	})
	return s.closeErr
}

// removeDir removes the temporary directory after a failed start.
func (s *Server) removeDir() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Addr returns the plaintext IMAP address (127.0.0.1:PORT); STARTTLS is
// offered there.
func (s *Server) Addr() string { return s.addr }

// TLSAddr returns the implicit-TLS IMAP address (127.0.0.1:PORT).
func (s *Server) TLSAddr() string { return s.tlsAddr }

// TLSConfig returns a new client TLS configuration that trusts only the
// server's self-signed certificate, with ServerName "127.0.0.1" (the
// certificate is also valid for "localhost").
func (s *Server) TLSConfig() *tls.Config { return s.tlsConfig.Clone() }

// LogPath returns the file Dovecot logs to.
func (s *Server) LogPath() string { return s.logPath }

// ConfigPath returns the generated dovecot.conf.
func (s *Server) ConfigPath() string { return s.confPath }

// Dir returns the server's temporary directory.
func (s *Server) Dir() string { return s.dir }

// logTail returns up to the last n bytes of Dovecot's log and of the
// master's own output.
func (s *Server) logTail(n int64) string {
	var b bytes.Buffer
	for _, path := range []string{s.outPath, s.logPath} {
		data, err := readTail(path, n)
		if err != nil || len(data) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- %s\n%s", path, data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return "(no log output)\n"
	}
	return b.String()
}

// LogTail returns the last n bytes of Dovecot's log, for test failure
// messages.
func (s *Server) LogTail(n int64) string { return s.logTail(n) }

func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	_, err = f.ReadAt(buf, off)
	return buf, err
}
