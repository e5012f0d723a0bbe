package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const bulkRule = `
[[rule]]
name = "junk"
when = 'header("X-Spam-Flag") == "YES"'
move = "Junk"
`

// startWatchProcess is startWatch that also returns the process, for
// signals, and waits for the first pass of want mailboxes.
func (e *env) startWatchProcess(t *testing.T, want int) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := e.command(ctx, "watch", "--log-level", "debug")
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start watch: %v", err)
	}
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			cmd.Wait()
		})
	})
	if !waitFor(30*time.Second, func() bool { return log.count(`"pass done"`)+log.count(`"nothing new"`) >= want }) {
		t.Fatalf("watch did not finish its first passes:\n%s", log)
	}
	return cmd, log
}

// logins counts the env user's logins and logouts in the Dovecot log.
func (e *env) logins(t *testing.T) (logins, logouts int) {
	t.Helper()
	data, err := os.ReadFile(e.srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		switch {
		case strings.Contains(line, "Login: user=<"+e.user.Name+">"):
			logins++
		case strings.Contains(line, "imap("+e.user.Name+")") && strings.Contains(line, "Logged out"):
			logouts++
		}
	}
	return logins, logouts
}

// reload sends SIGHUP and waits for the n-th reload's outcome in the log
// (msg, "config reloaded" or "reload rejected...").
func reload(t *testing.T, cmd *exec.Cmd, log *lockedBuffer, msg string, n int) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("SIGHUP: %v", err)
	}
	if !waitFor(30*time.Second, func() bool { return log.count(msg) >= n }) {
		t.Fatalf("no %s after SIGHUP %d:\n%s", msg, n, log)
	}
}

// TestReload: SIGHUP re-reads the config. A rules change keeps every
// connection (no new LOGIN) and applies from the next pass; a broken config
// is rejected and the old rules keep acting; a mailbox removed logs out and
// one added is watched; a changed account setting reconnects the account.
func TestReload(t *testing.T) {
	e := newEnv(t, srv, bulkRule, "")
	e.editConfig(t, `mailboxes = ["INBOX"]`, `mailboxes = ["INBOX", "Lists/a"]`)
	c := e.client()
	for _, mb := range []string{"Lists.a", "Lists.b"} {
		if err := c.Create(t.Context(), mb); err != nil {
			t.Fatalf("Create(%s) = %v", mb, err)
		}
	}
	// Mail arrives over c too, so that the only other logins are watch's.
	appendMsg := func(mailbox string, m message) {
		t.Helper()
		if _, err := c.Append(t.Context(), mailbox, nil, time.Now(), bytes.NewReader(m.bytes())); err != nil {
			t.Fatalf("Append(%q, %s) = %v", mailbox, m.id, err)
		}
	}
	cmd, log := e.startWatchProcess(t, 2)
	moved := func(id, from string) {
		t.Helper()
		appendMsg(from, message{id: id, headers: "X-Bulk: yes\nX-Spam-Flag: YES"})
		if !waitFor(15*time.Second, func() bool { return e.where(c, id, "Junk") == "Junk" }) {
			t.Fatalf("%s in %s was not moved to Junk:\n%s", id, from, log)
		}
	}
	// The test's own client c logged in once; watch holds one connection
	// for both mailboxes (Dovecot has NOTIFY).
	waitLogins := func(what string, want int) {
		t.Helper()
		// Dovecot writes its log as it goes; give it a moment.
		if !waitFor(10*time.Second, func() bool { n, _ := e.logins(t); return n == want }) {
			n, _ := e.logins(t)
			t.Fatalf("%s: %d logins, want %d:\n%s", what, n, want, log)
		}
	}
	waitLogins("after start", 1+1)
	_, logouts := e.logins(t)

	// (a) A rule change only: the connections stay, the new rule acts.
	e.editConfig(t, `when = 'header("X-Spam-Flag") == "YES"'`, `when = 'header("X-Bulk") == "yes"'`)
	reload(t, cmd, log, `"config reloaded"`, 1)
	if !strings.Contains(log.String(), `"kept":2,"restarted":0,"stopped":0,"started":0`) {
		t.Errorf("reload log line does not say kept 2:\n%s", log)
	}
	appendMsg("INBOX", message{id: "old-rule@x", headers: "X-Spam-Flag: YES"})
	moved("new-rule-inbox@x", "INBOX")
	moved("new-rule-lists@x", "Lists.a")
	if got := e.where(c, "old-rule@x", "INBOX", "Junk"); got != "INBOX" {
		t.Errorf("a message only the old rule matched is in %q, want INBOX", got)
	}
	time.Sleep(500 * time.Millisecond)
	waitLogins("after a rules-only reload", 1+1)

	// (b) A broken config: rejected with its problem, old rules act.
	good, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	e.editConfig(t, `when = 'header("X-Bulk") == "yes"'`, `when = 'header("X-Bulk") =='`)
	reload(t, cmd, log, `"reload rejected; keeping the configuration in force"`, 1)
	if !strings.Contains(log.String(), `"config problem"`) || !strings.Contains(log.String(), `rule \"junk\"`) {
		t.Errorf("the rejected config's problem is not logged:\n%s", log)
	}
	moved("after-broken@x", "INBOX")
	waitLogins("after a rejected reload", 1+1)
	if err := os.WriteFile(e.config, good, 0o600); err != nil {
		t.Fatal(err)
	}

	// (c) Lists/a removed, Lists/b added: the account's connection logs
	// out and a new one watches the new list.
	e.editConfig(t, `mailboxes = ["INBOX", "Lists/a"]`, `mailboxes = ["INBOX", "Lists/b"]`)
	reload(t, cmd, log, `"config reloaded"`, 2)
	if !strings.Contains(log.String(), `"kept":1,"restarted":0,"stopped":1,"started":1`) {
		t.Errorf("reload log line does not say kept 1, stopped 1, started 1:\n%s", log)
	}
	waitLogins("after replacing a mailbox", 1+2)
	if !waitFor(10*time.Second, func() bool { _, n := e.logins(t); return n >= logouts+1 }) {
		t.Errorf("the old connection did not log out:\n%s", log)
	}
	moved("added-mailbox@x", "Lists.b")
	appendMsg("Lists.a", message{id: "removed-mailbox@x", headers: "X-Bulk: yes"})
	moved("after-removed@x", "INBOX")
	time.Sleep(time.Second)
	if got := e.where(c, "removed-mailbox@x", "Lists.a", "Junk"); got != "Lists.a" {
		t.Errorf("mail in the removed mailbox is in %q, want Lists.a (not watched)", got)
	}

	// (d) An account setting changed: the account's connection is made
	// anew.
	e.editConfig(t, `mailboxes = ["INBOX", "Lists/b"]`, "mailboxes = [\"INBOX\", \"Lists/b\"]\nidle_restart = \"20m\"")
	reload(t, cmd, log, `"config reloaded"`, 3)
	if !strings.Contains(log.String(), `"kept":0,"restarted":2,"stopped":0,"started":0`) {
		t.Errorf("reload log line does not say restarted 2:\n%s", log)
	}
	if !strings.Contains(log.String(), `"settings":["idle_restart"]`) {
		t.Errorf("the log does not name the changed setting:\n%s", log)
	}
	waitLogins("after changing idle_restart", 1+3)
	moved("after-restart@x", "Lists.b")
	if strings.Contains(log.String(), e.user.Password) {
		t.Errorf("the log contains the password")
	}
	if n := strings.Count(log.String(), `"level":"error"`); n != 2 {
		// The rejected reload's problem and its summary; nothing else.
		t.Errorf("%d error lines, want 2:\n%s", n, log)
	}
}
