package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listen opens a unixgram socket at name and returns a function that reads
// the next datagram.
func listen(t *testing.T, name string) func() string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read datagram: %v", err)
		}
		return string(buf[:n])
	}
}

func TestNotifyPathAndAbstract(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		"@mailrules-sdnotify-test-" + strconv.Itoa(os.Getpid()),
	} {
		read := listen(t, name)
		t.Setenv("NOTIFY_SOCKET", name)
		n, err := FromEnv()
		if err != nil || n == nil {
			t.Fatalf("FromEnv with %q = %v, %v", name, n, err)
		}
		if os.Getenv("NOTIFY_SOCKET") != "" {
			t.Errorf("FromEnv left NOTIFY_SOCKET set")
		}
		for _, msg := range []string{Ready, Status("watching\n2 mailboxes"), Stopping} {
			if err := n.Notify(msg); err != nil {
				t.Fatalf("Notify(%q) = %v", msg, err)
			}
		}
		for _, want := range []string{"READY=1", "STATUS=watching 2 mailboxes", "STOPPING=1"} {
			if got := read(); got != want {
				t.Errorf("%s: got %q, want %q", name, got, want)
			}
		}
	}
}

func TestFromEnvUnset(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n, err := FromEnv()
	if n != nil || err != nil {
		t.Fatalf("FromEnv() = %v, %v; want nil, nil", n, err)
	}
	if err := n.Notify(Ready); err != nil {
		t.Fatalf("nil Notifier: Notify = %v", err)
	}
	if _, err := New("relative"); err == nil {
		t.Errorf("New(relative) = nil error")
	}
}

func TestWatchdogInterval(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		usec, pid string
		want      time.Duration
		ok, err   bool
	}{
		{"", "", 0, false, false},
		{"2000000", "", 2 * time.Second, true, false},
		{"2000000", pid, 2 * time.Second, true, false},
		{"2000000", "1", 0, false, false},
		{"0", "", 0, false, true},
		{"x", "", 0, false, true},
		{"5", "y", 0, false, true},
	} {
		t.Setenv("WATCHDOG_USEC", c.usec)
		t.Setenv("WATCHDOG_PID", c.pid)
		got, ok, err := WatchdogInterval()
		if got != c.want || ok != c.ok || (err != nil) != c.err {
			t.Errorf("USEC=%q PID=%q: got %v, %v, %v; want %v, %v, error %v", c.usec, c.pid, got, ok, err, c.want, c.ok, c.err)
		}
	}
}
