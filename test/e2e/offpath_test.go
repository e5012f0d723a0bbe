package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/dovecottest"
	"github.com/mailrules/mailrules/test/faultproxy"
)

// Tests of what a user meets off the happy path: a restarted watch, a
// server with an INBOX. namespace, a refused or poisoned message, a run
// --all that did not finish, copies repeated by a second pass, a silent
// server.

// viaProxy puts a fault proxy between the env's config and its server.
func (e *env) viaProxy(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	proxy, err := faultproxy.New(e.addr)
	if err != nil {
		t.Fatalf("faultproxy.New = %v", err)
	}
	t.Cleanup(func() { proxy.Close() })
	_, serverPort := splitAddr(t, e.addr)
	_, proxyPort := splitAddr(t, proxy.Addr())
	e.editConfig(t, "port      = "+serverPort, "port      = "+proxyPort)
	return proxy
}

// editConfig replaces old with new in the env's config file.
func (e *env) editConfig(t *testing.T, old, new string) {
	t.Helper()
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), old) {
		t.Fatalf("config has no %q:\n%s", old, cfg)
	}
	if err := os.WriteFile(e.config, []byte(strings.Replace(string(cfg), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestWatchAfterRestart: a watch started with a state file that already
// knows the mailbox (every systemd restart) must still select it and wait
// in IDLE there, and act on mail that arrives afterwards. It used to ask
// STATUS, find nothing new and IDLE with no mailbox selected, deaf.
func TestWatchAfterRestart(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	e.mustRun("run") // the state now knows INBOX
	stop, log := e.startWatch(t)
	defer stop()
	e.appendMessages("INBOX", message{id: "after-restart@x", headers: "X-Spam-Flag: YES"})
	c := e.client()
	if !waitFor(15*time.Second, func() bool { return e.where(c, "after-restart@x", "Junk") == "Junk" }) {
		t.Fatalf("spam that arrived after a restarted watch was not moved:\n%s", log)
	}
}

// TestInboxNamespace runs against a Dovecot whose personal namespace is
// "INBOX." (as Courier, Cyrus and many hosting setups have it): every
// destination, the Trash and the watched mailboxes are written with "/"
// and land under INBOX. with the server's delimiter.
func TestInboxNamespace(t *testing.T) {
	dovecottest.Require(t, srv)
	s, err := dovecottest.Start(&dovecottest.Options{Prefix: "INBOX."})
	if err != nil {
		t.Fatalf("start Dovecot with prefix INBOX.: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	e := newEnv(t, s, filingRules, "")
	e.editConfig(t, `mailboxes = ["INBOX"]`, `mailboxes = ["INBOX", "Lists/watched"]`)
	c := e.client()
	if err := c.Create(t.Context(), "INBOX.Lists.watched"); err != nil {
		t.Fatalf("Create = %v", err)
	}
	e.mustRun("run") // baselines
	e.appendMessages("INBOX", filingMessages...)
	e.appendMessages("INBOX.Lists.watched", message{id: "watched-spam@x", headers: "X-Spam-Flag: YES"})
	e.mustRun("run")
	got := e.snapshot()
	want := snapshot{}
	for name, msgs := range wantFiled {
		if name != "INBOX" {
			name = "INBOX." + name
		}
		want[name] = msgs
	}
	want["INBOX.Junk"] = map[string]string{"spam-1@x": ``, "watched-spam@x": ``}
	if got.String() != want.String() {
		t.Fatalf("after a run on an INBOX. namespace:\n%s\nwant:\n%s", got, want)
	}
}

// TestPoisonMessageDoesNotBlock: one message whose destination the server
// refuses (a List-Id label too long for a mailbox name) does not hold back
// the others. It stays in INBOX, the run exits 1 and says why, later runs
// try it again, and after maxAttempts passes it is given up.
func TestPoisonMessageDoesNotBlock(t *testing.T) {
	for _, capability := range []string{"", "IMAP4rev1 IDLE UIDPLUS"} {
		t.Run(fmt.Sprintf("capability %q", capability), func(t *testing.T) {
			s := srv
			if capability != "" {
				s = startServer(t, capability)
			}
			e := newEnv(t, s, listsRule, "")
			e.mustRun("run")
			long := strings.Repeat("x", 300)
			e.appendMessages("INBOX",
				message{id: "a@x", headers: "List-Id: <alpha.lists.example>"},
				message{id: "poison@x", headers: "List-Id: <" + long + ".lists.example>"},
				message{id: "z@x", headers: "List-Id: <zulu.lists.example>"})
			r := e.mailrules("run")
			if r.code != 1 || !strings.Contains(r.stderr, "refused the actions for 1 messages") {
				t.Fatalf("run with a poison message exited %d, want 1 naming the refused message:\n%s", r.code, r.stderr)
			}
			got := e.snapshot()
			if !hasMessage(got["Lists.alpha"], "a@x") || !hasMessage(got["Lists.zulu"], "z@x") || !hasMessage(got["INBOX"], "poison@x") {
				t.Fatalf("after the run: want alpha and zulu filed, the poison in INBOX:\n%s", got)
			}
			// Tried again on later runs, then given up (maxAttempts = 5).
			for range 3 {
				if r := e.mailrules("run"); r.code != 1 {
					t.Fatalf("retry run exited %d, want 1:\n%s", r.code, r.stderr)
				}
			}
			r = e.mailrules("run")
			if !strings.Contains(r.stderr, "giving up on a message") {
				t.Fatalf("fifth attempt did not give up:\n%s", r.stderr)
			}
			r = e.mustRun("run")
			if strings.Contains(r.stderr, "CREATE") {
				t.Fatalf("the run after giving up tried again:\n%s", r.stderr)
			}
			if got := e.snapshot(); !hasMessage(got["INBOX"], "poison@x") {
				t.Fatalf("the poison message is no longer in INBOX:\n%s", got)
			}
		})
	}
}

// TestRefusedMoveIsRetriedWithFixedRules: on a server without MOVE, a move
// the server refuses used to be journaled and replayed on every pass, even
// after the config was fixed. Now the message is evaluated again by the
// rules as they are on the next pass.
func TestRefusedMoveIsRetriedWithFixedRules(t *testing.T) {
	s := startServer(t, "IMAP4rev1 IDLE UIDPLUS")
	e := newEnv(t, s, `
[[rule]]
name = "spam"
when = 'header("X-Spam-Flag") == "YES"'
move = "`+strings.Repeat("J", 300)+`"
`, "")
	e.mustRun("run")
	e.appendMessages("INBOX", message{id: "spam@x", headers: "X-Spam-Flag: YES"})
	if r := e.mailrules("run"); r.code != 1 {
		t.Fatalf("run with an impossible destination exited %d, want 1:\n%s", r.code, r.stderr)
	}
	e.editConfig(t, `move = "`+strings.Repeat("J", 300)+`"`, `move = "Junk"`)
	e.mustRun("run")
	if got := e.snapshot(); !hasMessage(got["Junk"], "spam@x") || got.count() != 1 {
		t.Fatalf("after fixing the rule: want spam@x in Junk only:\n%s", got)
	}
}

// TestUnfinishedRunAllIsCompleted: a `run --all` cut off half way (here by
// a cut connection during its moves) is remembered; the next plain `run`
// completes it instead of taking a baseline that leaves the rest alone.
func TestUnfinishedRunAllIsCompleted(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	proxy := e.viaProxy(t)
	const total = 3000
	var msgs []dovecottest.Message
	for i := range total {
		m := message{id: fmt.Sprintf("all-%d@x", i), headers: "X-Spam-Flag: YES"}
		msgs = append(msgs, dovecottest.Message{Data: m.bytes(), InternalDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	if err := e.srv.AddMessages(e.user, "INBOX", msgs); err != nil {
		t.Fatalf("AddMessages = %v", err)
	}
	cmd, _ := e.runUntilSent(t, " UID MOVE ", "--all")
	proxy.CutAll()
	cmd.Wait()
	e.mustRun("run")
	if got := e.snapshot(); len(got["Junk"]) != total || len(got["INBOX"]) != 0 {
		t.Fatalf("after a cut run --all and a plain run: Junk %d, INBOX %d; want %d, 0", len(got["Junk"]), len(got["INBOX"]), total)
	}
}

// TestRunAllThatNeverConnectedIsCompleted: a `run --all` that stopped
// before it reached the server (here: the server was down; a kill before
// the login is the same) is remembered too, so the next `run` does not
// take a baseline that leaves the existing mail alone.
func TestRunAllThatNeverConnectedIsCompleted(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	e.appendMessages("INBOX", message{id: "old-spam@x", headers: "X-Spam-Flag: YES"}, message{id: "ham@x"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closed := splitAddr(t, l.Addr().String())
	l.Close()
	_, port := splitAddr(t, e.addr)
	e.editConfig(t, "port      = "+port, "port      = "+closed)
	if r := e.mailrules("run", "--all"); r.code != 1 {
		t.Fatalf("run --all with the server down exited %d, want 1:\n%s", r.code, r.stderr)
	}
	e.editConfig(t, "port      = "+closed, "port      = "+port)
	r := e.mustRun("run")
	if !strings.Contains(r.stderr, "completing a pass over every message") {
		t.Errorf("the run after does not say it completes the run --all:\n%s", r.stderr)
	}
	want := snapshot{"INBOX": {"ham@x": ``}, "Junk": {"old-spam@x": ``}}
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("after a run --all that never connected and a plain run:\n%s\nwant:\n%s", got, want)
	}
}

// TestRunAllTwiceCopiesOnce: a second `run --all` over the same mailbox
// copies nothing again and sets no flag that is already set.
func TestRunAllTwiceCopiesOnce(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name = "friends"
when = 'any(from, .domain == "friends.example")'
copy = ["Friends", "Backup/Friends"]
flag = ["$Friend"]
`, "")
	for i := range 20 {
		e.appendMessages("INBOX", message{id: fmt.Sprintf("friend-%d@x", i), headers: "From: Dan <dan@friends.example>"})
	}
	e.mustRun("run", "--all")
	trace := filepath.Join(e.dir, "trace")
	e.mustRun("run", "--all", "--trace", trace)
	got := e.snapshot() // fails on a Message-ID held twice
	if len(got["Friends"]) != 20 || len(got["Backup.Friends"]) != 20 {
		t.Fatalf("after two runs --all: Friends %d, Backup.Friends %d; want 20 each", len(got["Friends"]), len(got["Backup.Friends"]))
	}
	if c := traceCommands(t, trace); c["UID COPY"] != 0 || c["UID STORE"] != 0 {
		t.Fatalf("the second run --all sent %v, want no UID COPY or UID STORE", c)
	}
}

// TestSilentServer: a server that goes silent in the middle of a pass (the
// proxy stops forwarding while a large UID FETCH streams) fails the run
// after the account's timeout, and SIGTERM ends a run stuck on it within a
// few seconds. Both used to wait 30 minutes.
func TestSilentServer(t *testing.T) {
	stuck := func(t *testing.T, accountExtra string) (*env, *exec.Cmd, *strings.Builder) {
		e := newEnv(t, srv, spamRule, accountExtra)
		proxy := e.viaProxy(t)
		e.mustRun("run")
		var msgs []dovecottest.Message
		for i := range 8000 {
			m := message{id: fmt.Sprintf("silent-%d@x", i)}
			msgs = append(msgs, dovecottest.Message{Data: m.bytes(), InternalDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		}
		if err := e.srv.AddMessages(e.user, "INBOX", msgs); err != nil {
			t.Fatalf("AddMessages = %v", err)
		}
		cmd, stderr := e.runUntilSent(t, " UID FETCH ")
		proxy.Pause()
		t.Cleanup(proxy.Resume)
		return e, cmd, stderr
	}
	t.Run("timeout", func(t *testing.T) {
		_, cmd, stderr := stuck(t, `timeout = "2s"`)
		start := time.Now()
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 1 || time.Since(start) > 20*time.Second {
			t.Fatalf("run against a silent server exited %d after %v, want 1 within about the 2 s timeout:\n%s", code, time.Since(start), stderr)
		}
	})
	t.Run("SIGTERM", func(t *testing.T) {
		_, cmd, stderr := stuck(t, "")
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if took := time.Since(start); took > 15*time.Second {
			t.Fatalf("run stuck on a silent server took %v to honour SIGTERM, want a few seconds:\n%s", took, stderr)
		}
	})
}

// TestKnownDestinationNeedsNoStatus: the journal of a move needs to know
// where the destination stood; after the first move into Junk that is
// known from the server's COPYUID, so later passes send no STATUS.
func TestKnownDestinationNeedsNoStatus(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	e.mustRun("run")
	for i := range 2 {
		e.appendMessages("INBOX", message{id: fmt.Sprintf("spam-%d@x", i), headers: "X-Spam-Flag: YES"})
		trace := filepath.Join(e.dir, fmt.Sprintf("trace-%d", i))
		e.mustRun("run", "--trace", trace)
		n := 0
		for _, line := range strings.Split(readTrace(t, trace), "\n") {
			if strings.Contains(line, "C: ") && strings.Contains(line, " STATUS Junk ") {
				n++
			}
		}
		if want := 1 - i; n != want {
			t.Errorf("pass %d sent %d STATUS Junk, want %d", i+1, n, want)
		}
	}
	if got := e.snapshot(); len(got["Junk"]) != 2 {
		t.Fatalf("Junk holds %d messages, want 2:\n%s", len(got["Junk"]), got)
	}
}

// TestWatchOnePassPerArrival: the EXPUNGE and RECENT that the server sends
// after our own move are not new mail; one arrival makes one pass.
func TestWatchOnePassPerArrival(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	stop, log := e.startWatch(t)
	defer stop()
	before := log.count(`"pass done"`)
	e.appendMessages("INBOX", message{id: "one-pass@x", headers: "X-Spam-Flag: YES"})
	c := e.client()
	if !waitFor(15*time.Second, func() bool { return e.where(c, "one-pass@x", "Junk") == "Junk" }) {
		t.Fatalf("spam not moved:\n%s", log)
	}
	time.Sleep(2500 * time.Millisecond) // past Dovecot's notification delay and the log flush
	if n := log.count(`"pass done"`) - before; n != 1 {
		t.Fatalf("%d passes after one arrival, want 1:\n%s", n, log)
	}
}
