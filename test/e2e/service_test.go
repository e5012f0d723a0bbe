package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// statusJSON is the part of `mailrules status --json` the tests read.
type statusJSON struct {
	Source    string    `json:"source"`
	Published time.Time `json:"published"`
	PID       int       `json:"pid"`
	Mailboxes []struct {
		Account     string `json:"account"`
		Mailbox     string `json:"mailbox"`
		Known       bool   `json:"known"`
		UIDValidity uint32 `json:"uidvalidity"`
		HighestUID  uint32 `json:"highest_uid"`
		LastPass    *struct {
			Time     time.Time `json:"time"`
			Result   string    `json:"result"`
			Examined int       `json:"examined"`
			Actions  int       `json:"actions"`
			Failed   int       `json:"failed"`
		} `json:"last_pass"`
	} `json:"mailboxes"`
}

// status runs `mailrules status` with args on the env's config and state.
func (e *env) status(args ...string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"status", "-c", e.config, "--state", e.state}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		e.t.Fatalf("mailrules status %v: %v\n%s%s", args, err, out, stderr)
	}
	return string(out)
}

func (e *env) statusJSON() statusJSON {
	e.t.Helper()
	out := e.status("--json")
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("status --json: %v\n%s", err, out)
	}
	if len(st.Mailboxes) != 1 || st.Mailboxes[0].Account != "test" || st.Mailboxes[0].Mailbox != "INBOX" {
		e.t.Fatalf("status --json: want the one mailbox test/INBOX:\n%s", out)
	}
	return st
}

func TestStatusAfterRunAndWhileWatching(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	e.appendMessages("INBOX", message{id: "old@x"})
	e.mustRun("run")
	e.appendMessages("INBOX", message{id: "spam-1@x", headers: "X-Spam-Flag: YES"}, message{id: "ham-1@x"})
	e.mustRun("run")

	out := e.status()
	t.Logf("status after run:\n%s", out)
	if !strings.Contains(out, "read directly") {
		t.Errorf("status after run does not say it read the state directly:\n%s", out)
	}
	row := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "test ") {
			row = line
		}
	}
	// ACCOUNT MAILBOX LAST-PASS(date time (age ago)) RESULT EXAMINED ACTIONS FAILED UIDVALIDITY HIGHEST IN-FLIGHT RETRY
	if f := strings.Fields(row); len(f) != 14 || f[1] != "INBOX" || f[6] != "ok" || f[7] != "2" || f[8] != "1" || f[9] != "0" || f[11] != "3" || f[12] != "-" || f[13] != "-" {
		t.Errorf("status row %q, want test INBOX ... 2 examined, 1 action, 0 failed, highest UID 3", row)
	}
	st := e.statusJSON()
	mb := st.Mailboxes[0]
	if st.Source != "state" || !mb.Known || mb.HighestUID != 3 || mb.UIDValidity == 0 || mb.LastPass == nil ||
		mb.LastPass.Result != "ok" || mb.LastPass.Examined != 2 || mb.LastPass.Actions != 1 {
		t.Fatalf("status --json after run: %+v (last pass %+v)", st, mb.LastPass)
	}

	watchStart := time.Now()
	stop, log := e.startWatch(t)
	observer := e.client()
	e.appendMessages("INBOX", message{id: "spam-2@x", headers: "X-Spam-Flag: YES"})
	if !waitFor(10*time.Second, func() bool { return e.where(observer, "spam-2@x", "Junk") == "Junk" }) {
		t.Fatalf("watch did not move spam-2; log:\n%s", log)
	}
	// The watch's pass is published right after it acted (and again
	// after the pass that the move's EXPUNGE may set off).
	var during statusJSON
	if !waitFor(10*time.Second, func() bool {
		during = e.statusJSON()
		lp := during.Mailboxes[0].LastPass
		return lp != nil && lp.Result == "ok" && lp.Time.After(watchStart) && during.Mailboxes[0].HighestUID == 4
	}) {
		t.Fatalf("status during watch does not show the watch's pass: %+v", during)
	}
	if during.Source != "published" || during.PID == 0 || during.Published.Before(watchStart) {
		t.Errorf("status during watch: source %q pid %d published %v; want the daemon's published file", during.Source, during.PID, during.Published)
	}
	if out := e.status(); !strings.Contains(out, "published by the running mailrules") {
		t.Errorf("status during watch does not say where it read:\n%s", out)
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d; log:\n%s", code, log)
	}
	if st := e.statusJSON(); st.Source != "state" || st.Mailboxes[0].HighestUID != 4 {
		t.Errorf("status after watch: %+v", st)
	}
}

// notifySocket is a fake service manager's notification socket.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	ns := &notifySocket{path: filepath.Join(t.TempDir(), "notify")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: ns.path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen on a notify socket: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			ns.mu.Lock()
			ns.msgs = append(ns.msgs, string(buf[:n]))
			ns.mu.Unlock()
		}
	}()
	return ns
}

func (ns *notifySocket) all() []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return append([]string(nil), ns.msgs...)
}

// index returns the position of the first message at or after from that
// contains s, or -1.
func (ns *notifySocket) index(from int, s string) int {
	for i, m := range ns.all() {
		if i >= from && strings.Contains(m, s) {
			return i
		}
	}
	return -1
}

func TestWatchNotifiesSystemd(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	ns := listenNotify(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := e.command(ctx, "watch")
	cmd.Env = append(cmd.Env, "NOTIFY_SOCKET="+ns.path, "WATCHDOG_USEC=400000")
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start watch: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })

	ready := -1
	if !waitFor(30*time.Second, func() bool { ready = ns.index(0, "READY=1"); return ready >= 0 }) {
		t.Fatalf("no READY=1: %q; log:\n%s", ns.all(), log)
	}
	if m := ns.all()[ready]; !strings.Contains(m, "STATUS=watching 1 mailbox; 0 actions in the last pass; 0 failing") {
		t.Errorf("READY message %q lacks the summary", m)
	}
	// Pinged every 100 ms while healthy.
	watchdog := -1
	if !waitFor(10*time.Second, func() bool { watchdog = ns.index(ready+1, "WATCHDOG=1"); return watchdog >= 0 }) {
		t.Fatalf("no WATCHDOG=1 after READY: %q; log:\n%s", ns.all(), log)
	}
	e.appendMessages("INBOX", message{id: "notify-spam@x", headers: "X-Spam-Flag: YES"})
	status := -1
	if !waitFor(10*time.Second, func() bool {
		status = ns.index(watchdog+1, "STATUS=watching 1 mailbox; 1 action in the last pass; 0 failing")
		return status >= 0
	}) {
		t.Fatalf("no STATUS after the pass that moved a message: %q; log:\n%s", ns.all(), log)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("watch did not exit after SIGTERM; log:\n%s", log)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("watch exited %d; log:\n%s", code, log)
	}
	msgs := ns.all()
	stopping := ns.index(status+1, "STOPPING=1")
	if stopping < 0 {
		t.Fatalf("no STOPPING=1 after SIGTERM: %q", msgs)
	}
	for _, m := range msgs[stopping+1:] {
		if strings.Contains(m, "READY=1") || strings.Contains(m, "WATCHDOG=1") {
			t.Errorf("%q after STOPPING=1: %q", m, msgs)
		}
	}
	if n := strings.Count(strings.Join(msgs, "\n"), "READY=1"); n != 1 {
		t.Errorf("READY=1 sent %d times: %q", n, msgs)
	}
	if strings.Contains(log.String(), "NOTIFY_SOCKET") || strings.Contains(log.String(), e.user.Password) {
		t.Errorf("log mentions the socket variable or the password:\n%s", log)
	}
}
