// Package imapsrv holds what test/cyrustest and test/couriertest share:
// starting a server's processes under a supervising shell that dies with
// the test binary, free loopback ports, temporary directories that the
// unprivileged mail user can reach, waiting for the greeting, log tails,
// and a conformance suite (Suite) that exercises a server with the
// project's own IMAP client.
//
// Only packages under test/ can import it.
package imapsrv

import (
	"bufio"
	"bytes"
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
	"syscall"
	"time"
)

// Account is the unprivileged account mail processes run as.
type Account struct {
	Name     string // user name, e.g. "nobody"
	Group    string // primary group name, e.g. "nogroup"
	UID, GID int
	// Chown is true when files created for the server must be chowned to
	// UID/GID (the test runs as root).
	Chown bool
}

// MailAccount returns "nobody" (with its primary group) when the test runs
// as root, and the current user otherwise.
func MailAccount() (*Account, error) {
	var u *user.User
	var err error
	if os.Geteuid() == 0 {
		u, err = user.Lookup("nobody")
	} else {
		u, err = user.Current()
	}
	if err != nil {
		return nil, fmt.Errorf("look up mail account: %w", err)
	}
	a := &Account{Name: u.Username, Chown: os.Geteuid() == 0}
	if a.UID, err = strconv.Atoi(u.Uid); err != nil {
		return nil, fmt.Errorf("uid of %s: %w", u.Username, err)
	}
	if a.GID, err = strconv.Atoi(u.Gid); err != nil {
		return nil, fmt.Errorf("gid of %s: %w", u.Username, err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("group of %s: %w", u.Username, err)
	}
	a.Group = g.Name
	if a.Chown && (a.UID == 0 || a.GID == 0) {
		return nil, errors.New("account nobody has uid or gid 0")
	}
	return a, nil
}

// Own chowns path to the account when needed.
func (a *Account) Own(path string) error {
	if !a.Chown {
		return nil
	}
	if err := os.Lchown(path, a.UID, a.GID); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// MkdirOwned creates dir (and missing parents) with perm, owned by the
// account.
func (a *Account) MkdirOwned(dir string, perm os.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, perm); err != nil { // umask
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return a.Own(dir)
}

// MakeTempDir creates a fresh directory named prefix* that every user can
// traverse, so that processes running as the mail account reach their
// files. If a directory on the way to $TMPDIR is private, /tmp is used.
func MakeTempDir(prefix string) (string, error) {
	for _, parent := range []string{os.TempDir(), "/tmp"} {
		if os.Geteuid() == 0 && !traversable(parent) {
			continue
		}
		dir, err := os.MkdirTemp(parent, prefix)
		if err != nil {
			return "", fmt.Errorf("create server directory: %w", err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("chmod server directory: %w", err)
		}
		return dir, nil
	}
	return "", errors.New("no temporary directory that unprivileged users can traverse (tried $TMPDIR and /tmp)")
}

func traversable(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Proc is a supervising bash process and everything it started.
type Proc struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // valid once exited is closed
	ns      bool
}

// Script returns a bash script that runs each of cmds (shell command
// lines) in the background after the setup lines, exits as soon as one of
// them exits (terminating the others), and on SIGTERM terminates them all
// and waits for them.
func Script(setup []string, cmds []string) string {
	var b strings.Builder
	b.WriteString("set -e\n")
	for _, l := range setup {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("set +e\npids=\n")
	b.WriteString("stop() { [ -n \"$pids\" ] && kill -TERM $pids 2>/dev/null; wait; }\n")
	b.WriteString("trap 'stop; exit 0' TERM INT\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "%s &\npids=\"$pids $!\"\n", c)
	}
	b.WriteString("wait -n\nst=$?\necho \"supervisor: a server process exited with status $st\" >&2\nstop\nexit $st\n")
	return b.String()
}

// Start runs script with /bin/bash in dir, its output appended to logPath.
// When the test runs as root and ns is true, the script runs in new PID
// and mount namespaces: it is PID 1 there, so when it dies (Stop, or the
// test binary's death through the parent-death signal) the kernel kills
// every process it started, even those that changed their user ID; and
// mounts it makes are private to it. Without namespaces the script still
// gets SIGTERM when the test binary dies and forwards it.
func Start(script, dir, logPath string, env []string, ns bool) (*Proc, error) {
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	defer out.Close()
	scriptPath := filepath.Join(dir, "supervise.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o755); err != nil {
		return nil, fmt.Errorf("write supervisor script: %w", err)
	}
	cmd := exec.Command("/bin/bash", scriptPath)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	ns = ns && os.Geteuid() == 0
	if ns {
		attr.Cloneflags = syscall.CLONE_NEWPID
		attr.Unshareflags = syscall.CLONE_NEWNS // Go also makes / private
		attr.Pdeathsig = syscall.SIGKILL
	}
	cmd.SysProcAttr = attr
	p := &Proc{cmd: cmd, exited: make(chan struct{}), ns: ns}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that forked the
		// child exits: keep this goroutine on its thread until the child
		// is gone.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start supervisor: %w", err)
	}
	return p, nil
}

// Exited is closed when the supervising shell has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Err is how the supervising shell exited; valid once Exited is closed.
func (p *Proc) Err() error { return p.waitErr }

// Stop sends SIGTERM to the supervisor, which terminates the server
// processes and waits for them; after timeout everything is killed.
func (p *Proc) Stop(timeout time.Duration) error {
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	var err error
	select {
	case <-p.exited:
	case <-time.After(timeout):
		err = fmt.Errorf("server did not stop within %v; killed", timeout)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-p.exited
	}
	// Stragglers of the process group (without namespaces).
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return err
}

// WaitGreeting waits until addr answers with an "* OK" greeting containing
// want, the process exits, or timeout passes.
func WaitGreeting(addr, want string, p *Proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		line, err := greeting(addr)
		if err == nil {
			if !strings.HasPrefix(line, "* OK") || !strings.Contains(line, want) {
				return fmt.Errorf("%s answered %q, want an \"* OK\" greeting with %q", addr, line, want)
			}
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("server exited during startup (%v)", p.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no greeting on %s after %v: %v", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func greeting(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read greeting: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// Tail returns up to the last n bytes of each file in paths, each headed by
// its name, or "(no log output)".
func Tail(n int64, paths ...string) string {
	var b bytes.Buffer
	for _, path := range paths {
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

// ValidUserName accepts 1-32 characters of lower-case letters, digits, '_'
// and '-', starting with a letter: names that mean the same on every
// server (Cyrus folds case and uses '.' as its separator).
func ValidUserName(name string) error {
	if name == "" || len(name) > 32 || name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("invalid user name %q: want 1-32 of a-z, 0-9, '_', '-', starting with a letter", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("invalid user name %q: want 1-32 of a-z, 0-9, '_', '-', starting with a letter", name)
		}
	}
	return nil
}

// ShellQuote quotes s for bash.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// RemoveDir removes a server's temporary directory dir, unless the
// environment variable keep (e.g. DOVECOTTEST_KEEP) is set: then it says on
// stderr, as pkg, that it keeps it. An empty dir is left alone.
func RemoveDir(pkg, keep, dir string) {
	if dir == "" {
		return
	}
	if os.Getenv(keep) != "" {
		fmt.Fprintf(os.Stderr, "%s: keeping %s\n", pkg, dir)
		return
	}
	os.RemoveAll(dir)
}

// StartTries calls start up to tries times while it fails because a port
// it chose was taken between probing and binding (an error that says "in
// use"), and returns the first server started or the last error.
func StartTries[S any](tries int, start func() (S, error)) (S, error) {
	var (
		s   S
		err error
	)
	for range tries {
		if s, err = start(); err == nil || !strings.Contains(err.Error(), "in use") {
			return s, err
		}
	}
	return s, err
}
