package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// doneRule is the loop test of issue 11: a flag rule whose own action
// changes flags. Without the no-loop guarantee every pass would see the
// $Done it added as a new change and match again.
const doneRule = `
[[rule]]
name = "done"
on   = ["flags"]
when = "flagged"
flag = ["$Done"]
`

// flagPass is one "flag pass done" log line.
type flagPass struct {
	Mode     string   `json:"mode"`
	Changed  int      `json:"changed"`
	Own      int      `json:"own"`
	Examined int      `json:"examined"`
	Matched  []string `json:"matched"`
}

// flagPasses are the flag passes of a mailrules log.
type flagPasses []flagPass

func parseFlagPasses(log string) flagPasses {
	var out flagPasses
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `"flag pass done"`) {
			continue
		}
		var p flagPass
		if json.Unmarshal([]byte(line), &p) == nil {
			out = append(out, p)
		}
	}
	return out
}

// examined is how many messages the flag rules were evaluated on in all.
func (ps flagPasses) examined() int {
	n := 0
	for _, p := range ps {
		n += p.Examined
	}
	return n
}

// matched counts the matches of rule over all passes.
func (ps flagPasses) matched(rule string) int {
	n := 0
	for _, p := range ps {
		for _, m := range p.Matched {
			if name, count, ok := strings.Cut(m, "="); ok && name == rule {
				c, _ := strconv.Atoi(count)
				n += c
			}
		}
	}
	return n
}

// userStore changes flags as a mail program would, on its own connection.
func (e *env) userStore(id string, op imap.StoreOp, flags ...string) {
	e.t.Helper()
	c := e.client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		e.t.Fatal(err)
	}
	uids, err := c.UIDSearch(ctx, &imap.SearchCriteria{Header: [][2]string{{"Message-ID", id}}})
	if err != nil || len(uids) != 1 {
		e.t.Fatalf("UIDSearch(Message-ID %s) = %v, %v; want one UID", id, uids, err)
	}
	if err := c.UIDStore(ctx, imap.SeqSetFromNums(uids...), op, true, flags); err != nil {
		e.t.Fatalf("UIDStore(%s %v) = %v", id, flags, err)
	}
	c.Logout(ctx)
}

// flagAllAfterRun adds total messages to INBOX, lets a run record where
// the mailbox stands, then flags every message as another client would.
func (e *env) flagAllAfterRun(prefix string, total int) {
	e.t.Helper()
	var msgs []dovecottest.Message
	for i := range total {
		msgs = append(msgs, dovecottest.Message{Data: message{id: fmt.Sprintf("%s-%d@x", prefix, i)}.bytes(),
			InternalDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	if err := e.srv.AddMessages(e.user, "INBOX", msgs); err != nil {
		e.t.Fatalf("AddMessages = %v", err)
	}
	e.mustRun("run") // where the mailbox stands
	c := e.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		e.t.Fatal(err)
	}
	if err := c.UIDStore(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, imap.StoreAdd, true, []string{imap.FlagFlagged}); err != nil {
		e.t.Fatal(err)
	}
	c.Logout(ctx)
}

// runFlags runs mailrules run and returns its flag passes.
func (e *env) runFlags(t *testing.T) flagPasses {
	t.Helper()
	r := e.mustRun("run", "--log-level", "debug")
	return parseFlagPasses(r.stdout + r.stderr)
}

// testFlagRulesRun is the cron case: each run applies the flag rules to
// the changes since the previous run, once, and never to its own.
func testFlagRulesRun(t *testing.T, e *env, wantMode string) {
	e.appendMessages("INBOX",
		message{id: "a@x"},
		message{id: "b@x"},
		message{id: "already-flagged@x", flags: []string{imap.FlagFlagged}})

	// First run: where the mailbox stands is recorded; flags set before
	// do not count.
	first := e.mailrules("run", "--log-level", "debug")
	if first.code != 0 {
		t.Fatalf("first run exited %d:\n%s%s", first.code, first.stdout, first.stderr)
	}
	if !strings.Contains(first.stdout+first.stderr, "first flag pass over this mailbox") {
		t.Errorf("first run does not log its first flag pass:\n%s", first.stderr)
	}
	if ps := parseFlagPasses(first.stdout + first.stderr); ps.examined() != 0 {
		t.Errorf("first run evaluated flag rules on %d messages, want 0 (existing flags do not count)", ps.examined())
	}
	if wantMode == "compare-all" && !strings.Contains(first.stdout+first.stderr, "has no CONDSTORE") {
		t.Errorf("run on a server without CONDSTORE logs no warning about the fallback:\n%s", first.stderr)
	}

	// The user flags b: the next run matches it once and adds $Done.
	e.userStore("b@x", imap.StoreAdd, imap.FlagFlagged)
	ps := e.runFlags(t)
	if len(ps) != 1 || ps[0].Mode != wantMode || ps[0].Examined != 1 || ps.matched("done") != 1 {
		t.Fatalf("run after the user flagged b: flag passes %+v, want one in mode %s that examined 1 and matched done once", ps, wantMode)
	}

	// The next runs see only the change the rule made itself: no match,
	// no evaluation, however often they run.
	total := flagPasses{}
	for range 3 {
		total = append(total, e.runFlags(t)...)
	}
	if total.examined() != 0 || total.matched("done") != 0 {
		t.Errorf("runs after the rule's own change: flag passes %+v, want nothing evaluated", total)
	}

	// Another user change (read, not flagged) is evaluated once, matches
	// nothing new; the flagged one is not evaluated again.
	e.userStore("a@x", imap.StoreAdd, imap.FlagSeen)
	ps = e.runFlags(t)
	if ps.examined() != 1 || ps.matched("done") != 0 {
		t.Errorf("run after the user read a: flag passes %+v, want 1 examined, no match", ps)
	}

	got := e.snapshot()
	want := snapshot{"INBOX": {"a@x": `\Seen`, "b@x": `$Done \Flagged`, "already-flagged@x": `\Flagged`}}
	if got.String() != want.String() {
		t.Fatalf("after the runs:\n%s\nwant:\n%s", got, want)
	}
}

func TestFlagRulesRun(t *testing.T) {
	e := newEnv(t, srv, doneRule, "")
	testFlagRulesRun(t, e, "condstore")
}

// TestFlagRulesCondStoreWithoutEnable: a server with CONDSTORE but no
// ENABLE (RFC 5161) gets CONDSTORE enabled by the first FETCH with MODSEQ.
func TestFlagRulesCondStoreWithoutEnable(t *testing.T) {
	s := startServer(t, "IMAP4rev1 LITERAL+ SASL-IR IDLE MOVE UIDPLUS SPECIAL-USE NAMESPACE UNSELECT CONDSTORE")
	e := newEnv(t, s, doneRule, "")
	testFlagRulesRun(t, e, "condstore")
}

// TestFlagRulesWithoutCondStore runs the same on a Dovecot that hides
// CONDSTORE and QRESYNC: the flags of every message are compared with the
// last run's, and the log says what that costs.
func TestFlagRulesWithoutCondStore(t *testing.T) {
	s := startServer(t, "IMAP4rev1 LITERAL+ SASL-IR ENABLE IDLE MOVE UIDPLUS SPECIAL-USE NAMESPACE UNSELECT ESEARCH")
	e := newEnv(t, s, doneRule, "")
	testFlagRulesRun(t, e, "compare-all")
}

// TestFlagRulesWatch: in watch, a flag change by another client (untagged
// FETCH during IDLE) triggers the flag rule once and only once, the rule's
// own change does not re-trigger it, a reconnect resumes from the recorded
// MODSEQ without evaluating anything again, and SIGTERM exits 0.
func TestFlagRulesWatch(t *testing.T) {
	rules := doneRule + `
[[rule]]
name = "read newsletters"
on   = ["flags"]
when = 'seen && listId != ""'
move = "Archive/Newsletters"
`
	e := newEnv(t, srv, rules, "")
	e.appendMessages("INBOX", message{id: "w1@x"}, message{id: "w2@x"},
		message{id: "news@x", headers: "List-Id: <news.example.org>"})
	stop, log := e.startWatch(t)
	if !waitFor(10*time.Second, func() bool { return log.count("first flag pass over this mailbox") == 1 }) {
		t.Fatalf("watch did no first flag pass:\n%s", log)
	}
	observer := e.client()
	hasDone := func(id string) bool {
		return strings.Contains(e.snapshot()["INBOX"][id], "$Done")
	}

	e.userStore("w1@x", imap.StoreAdd, imap.FlagFlagged)
	if !waitFor(10*time.Second, func() bool { return hasDone("w1@x") }) {
		t.Fatalf("flagging w1 in another client did not trigger the flag rule within 10s:\n%s", log)
	}
	e.userStore("news@x", imap.StoreAdd, imap.FlagSeen)
	if !waitFor(10*time.Second, func() bool {
		return e.where(observer, "news@x", "INBOX", "Archive.Newsletters") == "Archive.Newsletters"
	}) {
		t.Fatalf("reading the newsletter did not archive it within 10s:\n%s", log)
	}
	time.Sleep(2 * time.Second) // room for a loop to show
	ps := parseFlagPasses(log.String())
	if ps.matched("done") != 1 || ps.matched("read newsletters") != 1 || ps.examined() != 2 {
		t.Fatalf("flag passes after two user changes: %+v, want done and read newsletters matched once each, 2 examined:\n%s", ps, log)
	}

	// The server drops the connection; after the reconnect the flag pass
	// resumes from the recorded MODSEQ: nothing is evaluated again.
	before := len(ps)
	if err := e.srv.KillSessions(e.user); err != nil {
		t.Fatalf("KillSessions = %v", err)
	}
	if !waitFor(15*time.Second, func() bool {
		return log.count("reconnecting") >= 1 && log.count(`"pass done"`)+log.count(`"nothing new"`) >= 2
	}) {
		t.Fatalf("watch did not reconnect:\n%s", log)
	}
	e.userStore("w2@x", imap.StoreAdd, imap.FlagFlagged)
	if !waitFor(10*time.Second, func() bool { return hasDone("w2@x") }) {
		t.Fatalf("flagging w2 after the reconnect did not trigger the flag rule:\n%s", log)
	}
	time.Sleep(time.Second)
	after := parseFlagPasses(log.String())[before:]
	if after.examined() != 1 || after.matched("done") != 1 {
		t.Errorf("flag passes after the reconnect: %+v, want only w2 examined and matched", after)
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0:\n%s", code, log)
	}
	got := e.snapshot()
	want := snapshot{"INBOX": {"w1@x": `$Done \Flagged`, "w2@x": `$Done \Flagged`}, "Archive.Newsletters": {"news@x": `\Seen`}}
	if got.String() != want.String() {
		t.Fatalf("after watch:\n%s\nwant:\n%s", got, want)
	}
}

// TestFlagRulesAfterUpgrade: a state file written without flag rules (as
// by a mailrules from before them) has no mod-sequence; adding a flag rule
// starts from now and fires for none of the flags set before.
func TestFlagRulesAfterUpgrade(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	e.appendMessages("INBOX", message{id: "u1@x"}, message{id: "u2@x"})
	e.mustRun("run")
	e.userStore("u1@x", imap.StoreAdd, imap.FlagFlagged)
	e.mustRun("run")

	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, append(cfg, doneRule...), 0o600); err != nil {
		t.Fatal(err)
	}
	if ps := e.runFlags(t); ps.examined() != 0 {
		t.Errorf("first run with a flag rule on an old state: flag passes %+v, want nothing evaluated", ps)
	}
	e.userStore("u2@x", imap.StoreAdd, imap.FlagFlagged)
	if ps := e.runFlags(t); ps.examined() != 1 || ps.matched("done") != 1 {
		t.Errorf("run after the user flagged u2: flag passes %+v, want u2 alone examined and matched", ps)
	}
	got := e.snapshot()
	want := snapshot{"INBOX": {"u1@x": `\Flagged`, "u2@x": `$Done \Flagged`}}
	if got.String() != want.String() {
		t.Fatalf("after the upgrade:\n%s\nwant:\n%s", got, want)
	}
}

// TestFlagPassSIGTERMFinishesBatch: SIGTERM during a flag pass's batch
// finishes the batch, records it and exits 0; nothing is lost, and the
// next run moves nothing again.
func TestFlagPassSIGTERMFinishesBatch(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name = "flagged to Done"
on   = ["flags"]
when = "flagged"
move = "Done"
`, "")
	const total = 2000
	e.flagAllAfterRun("fterm", total)

	cmd, stderr := e.runUntilSent(t, " UID MOVE ", "--log-level", "debug")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run after SIGTERM: %v, want exit 0\n%s", err, stderr.String())
	}
	got := e.snapshot()
	if got.count() != total || len(got["Done"]) != total {
		t.Fatalf("after SIGTERM mid-batch: INBOX %d, Done %d, total %d; want all %d in Done", len(got["INBOX"]), len(got["Done"]), got.count(), total)
	}
	trace := filepath.Join(e.dir, "trace2")
	r := e.mustRun("run", "--trace", trace, "--log-level", "debug")
	if c := traceCommands(t, trace); c["UID MOVE"] != 0 {
		t.Errorf("the run after the finished batch sent %v, want no MOVE", c)
	}
	if ps := parseFlagPasses(r.stdout + r.stderr); ps.examined() != 0 {
		t.Errorf("the run after the finished batch: flag passes %+v, want nothing evaluated", ps)
	}
}

// TestFlagRulesWatchWithoutCondStore: without CONDSTORE, watch still wakes
// on the FETCH that IDLE reports, compares the flags and acts once.
func TestFlagRulesWatchWithoutCondStore(t *testing.T) {
	s := startServer(t, "IMAP4rev1 LITERAL+ SASL-IR ENABLE IDLE MOVE UIDPLUS SPECIAL-USE NAMESPACE UNSELECT ESEARCH")
	e := newEnv(t, s, doneRule, "")
	e.appendMessages("INBOX", message{id: "nc1@x"}, message{id: "nc2@x"})
	_, log := e.startWatch(t)
	if !waitFor(10*time.Second, func() bool { return log.count("first flag pass over this mailbox") == 1 }) {
		t.Fatalf("watch did no first flag pass:\n%s", log)
	}
	if log.count("has no CONDSTORE") != 1 {
		t.Errorf("watch on a server without CONDSTORE: %d warnings about the fallback, want 1", log.count("has no CONDSTORE"))
	}
	e.userStore("nc2@x", imap.StoreAdd, imap.FlagFlagged)
	if !waitFor(10*time.Second, func() bool { return strings.Contains(e.snapshot()["INBOX"]["nc2@x"], "$Done") }) {
		t.Fatalf("flagging nc2 did not trigger the flag rule within 10s:\n%s", log)
	}
	time.Sleep(2 * time.Second) // room for a loop to show
	ps := parseFlagPasses(log.String())
	if ps.examined() != 1 || ps.matched("done") != 1 {
		t.Fatalf("flag passes: %+v, want nc2 examined and matched once", ps)
	}
	for _, p := range ps {
		if p.Mode != "compare-all" {
			t.Errorf("flag pass mode %q, want compare-all", p.Mode)
		}
	}
}

// TestFlagPassKilledMidCopyCopiesOnce: a flag pass killed (SIGKILL) once
// its UID COPY is sent is evaluated again by the next run, whose journal
// check finds the copies already made: every message lands in the
// destination exactly once.
func TestFlagPassKilledMidCopyCopiesOnce(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name = "flagged to Todo"
on   = ["flags"]
when = "flagged"
copy = "Todo"
`, "")
	const total = 3000
	e.flagAllAfterRun("fkill", total)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The server carries the COPY out, its answer never reaches
	// mailrules, which is killed: the copies exist, unrecorded.
	proxy := crashProxy(t, e)
	cmd, _ := e.runUntilSent(t, " UID COPY ")
	proxy.Pause()
	time.Sleep(time.Second)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	proxy.CutAll()
	proxy.Resume()
	c2 := e.client()
	st, err := c2.Status(ctx, "Todo", imap.StatusMessages)
	if err != nil || st.Messages == nil || *st.Messages != total {
		t.Fatalf("Todo after the killed run = %v, %v; want the %d copies the server made", st, err, total)
	}
	r := e.mustRun("run", "--log-level", "debug")
	if !strings.Contains(r.stdout+r.stderr, "an earlier flag pass was interrupted while copying") {
		t.Errorf("the run after the kill does not say it checks the interrupted copies:\n%s", r.stderr)
	}
	got := e.snapshot()
	if len(got["Todo"]) != total || len(got["INBOX"]) != total {
		t.Fatalf("after a killed flag pass and a rerun: INBOX %d, Todo %d distinct messages; want %d each", len(got["INBOX"]), len(got["Todo"]), total)
	}
	// Distinct Message-IDs could hide duplicates: count the messages.
	sel, err := c2.Select(ctx, "Todo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Exists != total {
		t.Fatalf("Todo holds %d messages, want %d (none copied twice)", sel.Exists, total)
	}
}

// TestOtherRulesDoNotTriggerFlagRules: a change another rule of mailrules
// makes (a scope = "all" sweep marking mail read) is mailrules' own too,
// and triggers no flag rule; the user's change afterwards does.
func TestOtherRulesDoNotTriggerFlagRules(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name  = "read everything"
scope = "all"
when  = "!seen"
seen  = true

[[rule]]
name = "read"
on   = ["flags"]
when = "seen && !flagged"
flag = ["$ReadSeen"]
`, "")
	e.appendMessages("INBOX", message{id: "s1@x"}, message{id: "s2@x"})
	e.mustRun("run") // first run: where the mailbox stands
	ps := e.runFlags(t)
	if got := e.snapshot()["INBOX"]; got["s1@x"] != `\Seen` || got["s2@x"] != `\Seen` {
		t.Fatalf("after the sweep: %v, want both read by the sweep", got)
	}
	ps = append(ps, e.runFlags(t)...)
	if ps.examined() != 0 {
		t.Errorf("flag passes after the sweep marked mail read: %+v, want nothing evaluated", ps)
	}
	e.userStore("s1@x", imap.StoreRemove, imap.FlagSeen)
	e.userStore("s1@x", imap.StoreAdd, imap.FlagAnswered)
	// The user's change is evaluated (not read: no match), then the sweep
	// reads it again, which is mailrules' own change once more.
	ps = e.runFlags(t)
	ps = append(ps, e.runFlags(t)...)
	if ps.examined() != 1 || ps.matched("read") != 0 {
		t.Errorf("flag passes after the user's change: %+v, want 1 examined, no match", ps)
	}
	want := snapshot{"INBOX": {"s1@x": `\Answered \Seen`, "s2@x": `\Seen`}}
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("after the runs:\n%s\nwant:\n%s", got, want)
	}
}

// TestFlagRulesNotifyOtherMailbox: with NOTIFY, a flag change in a watched
// mailbox that is not the selected one reaches the flag rule through the
// STATUS the server sends, on the account's one connection, and triggers
// the rule once.
func TestFlagRulesNotifyOtherMailbox(t *testing.T) {
	e := newEnv(t, srv, doneRule, "")
	_, proxy := watchFolders(t, e, 3, "")
	counter := countConns(proxy)
	e.appendMessages("F2", message{id: "other@x"})
	stop, log := e.startWatch(t)
	if !waitFor(15*time.Second, func() bool { return log.count("first flag pass over this mailbox") == 3 }) {
		t.Fatalf("watch did no first flag pass over each of the 3 mailboxes:\n%s", log)
	}
	c := e.client()
	if _, err := c.Select(t.Context(), "F2", nil); err != nil {
		t.Fatal(err)
	}
	uids, err := c.UIDSearch(t.Context(), &imap.SearchCriteria{Header: [][2]string{{"Message-ID", "other@x"}}})
	if err != nil || len(uids) != 1 {
		t.Fatalf("UIDSearch = %v, %v; want one UID", uids, err)
	}
	if err := c.UIDStore(t.Context(), imap.SeqSetFromNums(uids...), imap.StoreAdd, true, []string{imap.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return strings.Contains(e.snapshot()["F2"]["other@x"], "$Done") }) {
		t.Fatalf("flagging a message in F2 (not selected) did not trigger the flag rule within 10s:\n%s", log)
	}
	time.Sleep(2 * time.Second) // room for a loop to show
	if ps := parseFlagPasses(log.String()); ps.matched("done") != 1 || ps.examined() != 1 {
		t.Errorf("flag passes after one user change: %+v, want done matched once, 1 examined:\n%s", ps, log)
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0:\n%s", code, log)
	}
	if peak := counter.done(); peak != 1 {
		t.Errorf("the server saw up to %d connections from mailrules, want 1 (NOTIFY)", peak)
	}
}

// TestFlagRulesBudgetPolled: without NOTIFY, a flag change in a mailbox
// that the budget polls (not IDLEd) is found by the poll's HIGHESTMODSEQ and
// triggers the flag rule once.
func TestFlagRulesBudgetPolled(t *testing.T) {
	s := startServer(t, dovecotCapsWithoutNotify)
	e := newEnvOn(t, dovecotTarget("dovecot", s, ""), doneRule, "")
	watchFolders(t, e, 3, "max_connections = 2\npoll_interval = \"1s\"")
	e.appendMessages("F2", message{id: "polled@x"})
	stop, log := e.startWatch(t)
	if !waitFor(15*time.Second, func() bool { return log.count("first flag pass over this mailbox") == 3 }) {
		t.Fatalf("watch did no first flag pass over each of the 3 mailboxes:\n%s", log)
	}
	if !strings.Contains(log.String(), `"polled":["F1","F2"]`) {
		t.Fatalf("F2 is not among the polled mailboxes:\n%s", log)
	}
	c := e.client()
	if _, err := c.Select(t.Context(), "F2", nil); err != nil {
		t.Fatal(err)
	}
	uids, err := c.UIDSearch(t.Context(), &imap.SearchCriteria{Header: [][2]string{{"Message-ID", "polled@x"}}})
	if err != nil || len(uids) != 1 {
		t.Fatalf("UIDSearch = %v, %v; want one UID", uids, err)
	}
	if err := c.UIDStore(t.Context(), imap.SeqSetFromNums(uids...), imap.StoreAdd, true, []string{imap.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return strings.Contains(e.snapshot()["F2"]["polled@x"], "$Done") }) {
		t.Fatalf("flagging a polled message did not trigger the flag rule within 10s:\n%s", log)
	}
	time.Sleep(3 * time.Second) // three more polls: room for a loop to show
	if ps := parseFlagPasses(log.String()); ps.matched("done") != 1 || ps.examined() != 1 {
		t.Errorf("flag passes after one user change: %+v, want done matched once, 1 examined:\n%s", ps, log)
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d after SIGTERM, want 0:\n%s", code, log)
	}
}
