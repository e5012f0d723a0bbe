// Package sdnotify is a small implementation of systemd's service
// notification protocol (sd_notify(3)): newline-separated VAR=VALUE
// assignments sent as one datagram to the AF_UNIX socket named by
// $NOTIFY_SOCKET, and the watchdog settings in $WATCHDOG_USEC and
// $WATCHDOG_PID. It has no dependency beyond the standard library.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Messages understood by systemd (see sd_notify(3)).
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Notifier sends notifications to the service manager. A nil *Notifier
// sends nothing, so callers need not check whether they run under systemd.
type Notifier struct {
	addr *net.UnixAddr
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET, or nil when it is unset
// (the process was not started by systemd with Type=notify). The variable
// is removed from the environment, as sd_notify's unset_environment does,
// so that child processes (a password command, say) do not talk to the
// service manager in the daemon's name.
//
// The socket is a path ("/run/systemd/notify") or, starting with '@', a
// name in Linux's abstract namespace; the '@' stands for the leading NUL
// byte (Go's net package makes that translation).
func FromEnv() (*Notifier, error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil, nil
	}
	os.Unsetenv("NOTIFY_SOCKET")
	return New(name)
}

// New returns a Notifier for the socket name, as $NOTIFY_SOCKET gives it.
func New(name string) (*Notifier, error) {
	if name[0] != '/' && name[0] != '@' {
		return nil, fmt.Errorf("NOTIFY_SOCKET %q: neither an absolute path nor an abstract socket (@name)", name)
	}
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}, nil
}

// Notify sends state, one or more VAR=VALUE lines, as one datagram. A nil
// Notifier does nothing.
func (n *Notifier) Notify(state string) error {
	if n == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify: connect to %s: %w", n.addr.Name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: send to %s: %w", n.addr.Name, err)
	}
	return nil
}

// Status returns the STATUS= message for a one-line summary; line breaks
// in s are replaced by spaces.
func Status(s string) string {
	return "STATUS=" + strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// WatchdogInterval returns the watchdog timeout systemd expects pings
// within ($WATCHDOG_USEC, set by WatchdogSec=), and false when the
// watchdog is off or meant for another process ($WATCHDOG_PID). Like
// sd_watchdog_enabled, it leaves the variables in place; FromEnv's caller
// decides what children see.
func WatchdogInterval() (time.Duration, bool, error) {
	usec := os.Getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 {
		return 0, false, fmt.Errorf("WATCHDOG_USEC %q: not a positive number of microseconds", usec)
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil {
			return 0, false, fmt.Errorf("WATCHDOG_PID %q: not a process id", pid)
		}
		if p != os.Getpid() {
			return 0, false, nil
		}
	}
	return time.Duration(n) * time.Microsecond, true, nil
}
