package dovecottest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Command returns the argv that runs Dovecot's imap executable for u with
// IMAP on stdin/stdout, like Python's IMAP4_stream: the server greets with
// "* PREAUTH ... Logged in as NAME" and the session is already
// authenticated. The argv is
//
//	/usr/lib/dovecot/imap -c DIR/dovecot.conf -u NAME
//
// The executable looks the user up through the running server's auth
// socket (so the Server must be running) and drops privileges to the mail
// user itself. It writes its log lines (e.g. "Disconnected: Logged out")
// to stderr, not to LogPath.
func (s *Server) Command(u *User) []string {
	return []string{s.imapPath, "-c", s.confPath, "-u", u.Name}
}

// KillSessions kills (SIGKILL) every imap process serving u: those the
// server started for IMAP logins and those started through Command. The
// clients see their connection drop without a BYE. Processes are found by
// their executable name and working directory, which Dovecot sets to the
// user's home.
func (s *Server) KillSessions(u *User) error {
	pids, err := s.sessionPIDs(u)
	if err != nil {
		return fmt.Errorf("kill sessions of %s: %w", u.Name, err)
	}
	var errs []error
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %d: %w", pid, err))
		}
	}
	// Wait until they are gone so the caller observes a settled state.
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for processAlive(pid) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kill sessions of %s: %w", u.Name, err)
	}
	return nil
}

// Sessions returns the number of imap processes currently serving u.
func (s *Server) Sessions(u *User) (int, error) {
	pids, err := s.sessionPIDs(u)
	if err != nil {
		return 0, fmt.Errorf("sessions of %s: %w", u.Name, err)
	}
	return len(pids), nil
}

// sessionPIDs lists processes named "imap" whose working directory is u's
// home. Homes are unique per server and user, so this never matches
// another server's sessions.
func (s *Server) sessionPIDs(u *User) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	home := filepath.Clean(u.Home)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "imap" {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || filepath.Clean(cwd) != home {
			continue
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}
