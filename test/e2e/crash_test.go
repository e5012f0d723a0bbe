package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
	"github.com/mailrules/mailrules/test/faultproxy"
)

// Environment variables that tune TestCrashSafety.
const (
	crashSeedEnv   = "MAILRULES_CRASH_SEED"   // the seed of every random choice (default: the clock)
	crashRoundsEnv = "MAILRULES_CRASH_ROUNDS" // how many rounds (default defaultCrashRounds)
)

// defaultCrashRounds keeps TestCrashSafety within about a minute under
// -race on two cores: two control rounds, then each interruption kind once
// against each server.
const defaultCrashRounds = 10

// crashRules give every action a `run --all` journals: a flag, copies to
// one and to two mailboxes, moves after copies, and a flag after the moves
// that moved messages never get. Where each message ends up is a pure
// function of its headers: see crashMessage.want.
const crashRules = `
[[rule]]
name = "tag"
when = 'header("X-Tag") == "one"'
flag = ["$Seen1"]

[[rule]]
name = "lists"
when = 'listId != ""'
copy = ["Lists"]

[[rule]]
name = "partners"
when = 'any(from, .domain == "partners.example")'
copy = ["Partners", "Archive"]

[[rule]]
name = "spam"
when = 'header("X-Spam-Flag") == "YES"'
move = "Junk"

[[rule]]
name = "route"
when = 'header("X-Route") == "file"'
move = "Filed"

[[rule]]
name = "late"
when = 'header("X-Late") == "yes"'
flag = ["$Late"]
`

// TestCrashSafety interrupts `mailrules run --all` at random points and
// checks afterwards, message by message, that nothing was lost,
// duplicated or misplaced.
//
// Each round gets a fresh Dovecot user and state file and:
//
//  1. loads 600 to 1500 messages into INBOX with AddMessages, each with a
//     random mix of headers that crashRules act on (spam, mailing list,
//     partner domain, routing, flag tags), so that messages are flagged,
//     copied to one or two mailboxes, moved, copied and then moved, or left
//     alone;
//  2. starts `run --all` through a faultproxy and interrupts it: SIGKILL or
//     faultproxy.CutAll, either after a random delay or at a protocol
//     moment read from its --trace (the nth client line of a command, or
//     the server's tagged reply to it, plus a few random milliseconds);
//  3. in some rounds interrupts the next, plain, `run` too (a crash during
//     the recovery);
//  4. runs `run` to completion twice; both must exit 0, since an
//     unfinished `run --all` is remembered in the state file and the next
//     `run` completes it (when the `run --all` was killed before it sent
//     anything, the first of them is a `run --all` again, as it may have
//     died before it noted anything);
//  5. takes a census of every mailbox and compares it with where the rules
//     put each message: in its move destination (else INBOX) and once in
//     each copy destination, with the rules' flags (\Seen and \Recent are
//     ignored), and nowhere else.
//
// Rounds 0 and 1 are controls without any interruption, against Dovecot
// with and without MOVE: they check the checking. The other rounds
// alternate between the two servers and go through the four kinds of
// interruption. A message is lost when it is in no mailbox, duplicated when
// a mailbox holds it twice, misplaced when its set of mailboxes or its
// flags differ from the rules'; any of them fails the round.
//
// Every random choice comes from the logged seed (MAILRULES_CRASH_SEED
// overrides it; the timing of processes still varies), and
// MAILRULES_CRASH_ROUNDS sets the number of rounds, for a soak:
//
//	MAILRULES_CRASH_ROUNDS=300 go test -race -run TestCrashSafety -timeout 2h ./test/e2e/
//
// A round's plan depends only on the seed and its number, so one round
// replays alone with the seed and -run 'TestCrashSafety/round017$'.
func TestCrashSafety(t *testing.T) {
	dovecottest.Require(t, srv)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashSeedEnv); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, v, err)
		}
	}
	rounds := defaultCrashRounds
	if v := os.Getenv(crashRoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", crashRoundsEnv, v)
		}
		rounds = n
	}
	t.Logf("seed %d, %d rounds (reproduce with %s=%d %s=%d)", seed, rounds, crashSeedEnv, seed, crashRoundsEnv, rounds)

	servers := map[bool]*dovecottest.Server{true: srv}
	if rounds > 1 {
		servers[false] = startServer(t, capsNoMove)
	}
	var results []*crashResult
	for i := range rounds {
		plan := planCrashRound(seed, i)
		res := &crashResult{plan: plan}
		results = append(results, res)
		t.Run(fmt.Sprintf("round%03d", i), func(t *testing.T) {
			t.Logf("%s", plan)
			runCrashRound(t, servers[plan.move], plan, res)
		})
	}

	var b strings.Builder
	var total crashVerdict
	for _, r := range results {
		if !r.ran {
			continue // not selected by -run
		}
		fmt.Fprintf(&b, "\n  %s: %s", r.plan.short(), r.verdict.counts())
		if r.notes != "" {
			fmt.Fprintf(&b, "; %s", r.notes)
		}
		total.add(&r.verdict)
	}
	t.Logf("seed %d, %d rounds; in all %s%s", seed, rounds, total.counts(), b.String())
}

// crashPlan is what one round does, drawn from the seed before it starts.
type crashPlan struct {
	round int
	seed  uint64
	move  bool // against Dovecot with MOVE (else COPY, STORE, UID EXPUNGE)
	msgs  []crashMessage
	// first interrupts `run --all`, second the following `run`; nil: no
	// interruption.
	first, second *interruption
}

func (p *crashPlan) server() string {
	if p.move {
		return "MOVE"
	}
	return "no MOVE"
}

func (p *crashPlan) short() string {
	s := fmt.Sprintf("round %d (%s, %d messages, %s", p.round, p.server(), len(p.msgs), p.first)
	if p.second != nil {
		s += ", then " + p.second.String()
	}
	return s + ")"
}

func (p *crashPlan) String() string {
	return fmt.Sprintf("%s; rng stream (%d, %d)", p.short(), p.seed, p.round)
}

// crashRNG is round's own random stream, so that a round's choices do not
// depend on the rounds before it.
func crashRNG(seed uint64, round int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(round)))
}

// planCrashRound draws round's plan. Rounds 0 and 1 are controls; then
// each pair of rounds (MOVE, no MOVE) uses the next kind of interruption.
func planCrashRound(seed uint64, round int) *crashPlan {
	rng := crashRNG(seed, round)
	p := &crashPlan{round: round, seed: seed, move: round%2 == 0}
	p.msgs = randomCrashMessages(rng, 600+rng.IntN(901))
	if round < 2 {
		return p
	}
	kind := ((round - 2) / 2) % 4
	p.first = randomInterruption(rng, p.move, kind/2 == 1, kind%2 == 1)
	if rng.IntN(3) == 0 {
		p.second = randomInterruption(rng, p.move, rng.IntN(2) == 0, rng.IntN(2) == 0)
	}
	return p
}

// interruption is when and how a mailrules process is interrupted.
type interruption struct {
	cut bool // faultproxy.CutAll; else SIGKILL
	// after is the delay from the start, when command is "".
	after time.Duration
	// command, nth and reply: at the nth client line sending command ("UID
	// COPY"), or with reply at the server's tagged reply to it.
	command string
	nth     int
	reply   bool
	delay   time.Duration // after that line
}

func (in *interruption) String() string {
	if in == nil {
		return "no interruption"
	}
	verb := "SIGKILL"
	if in.cut {
		verb = "cut"
	}
	if in.command == "" {
		return fmt.Sprintf("%s after %v", verb, in.after)
	}
	moment := "sending"
	if in.reply {
		moment = "the reply to"
	}
	return fmt.Sprintf("%s %v after %s %s #%d", verb, in.delay, moment, in.command, in.nth)
}

// crashMoments are the protocol moments to interrupt at: a command and
// how many of it a `run --all` of crashRules sends (at least).
var crashMoments = map[bool][]struct {
	command string
	count   int
}{
	true: { // MOVE
		{"UID FETCH", 1}, {"CREATE", 5}, {"UID STORE", 2}, {"UID COPY", 3}, {"UID MOVE", 2},
	},
	false: { // no MOVE: a move is UID COPY, UID STORE +FLAGS (\Deleted), UID EXPUNGE
		{"UID FETCH", 1}, {"CREATE", 5}, {"UID STORE", 4}, {"UID COPY", 5}, {"UID EXPUNGE", 2},
	},
}

// randomInterruption draws an interruption: a cut or a SIGKILL, after a
// delay of up to 1.5 s or at a protocol moment. The moments are weighted
// towards the steps that change mailboxes, and half of them are the
// server's reply, where the server has done the step and mailrules has not
// yet recorded it.
func randomInterruption(rng *rand.Rand, move, cut, atMoment bool) *interruption {
	in := &interruption{cut: cut}
	if !atMoment {
		in.after = time.Duration(rng.IntN(1500)) * time.Millisecond
		return in
	}
	moments := crashMoments[move]
	m := moments[rng.IntN(len(moments))]
	in.command, in.nth, in.reply = m.command, 1+rng.IntN(m.count), rng.IntN(2) == 0
	if in.reply {
		in.delay = time.Duration(rng.IntN(3000)) * time.Microsecond
	} else {
		in.delay = time.Duration(rng.IntN(30)) * time.Millisecond
	}
	return in
}

// crashMessage is one test message: which rules its headers trigger.
type crashMessage struct {
	id                                    string
	spam, list, partner, route, tag, late bool
}

// randomCrashMessages draws n messages; each header appears independently,
// so every combination of rules occurs.
func randomCrashMessages(rng *rand.Rand, n int) []crashMessage {
	msgs := make([]crashMessage, n)
	for i := range msgs {
		m := &msgs[i]
		m.spam = rng.IntN(5) == 0
		m.list = rng.IntN(10) < 3
		m.partner = rng.IntN(6) == 0
		m.route = rng.IntN(5) == 0
		m.tag = rng.IntN(10) < 3
		m.late = rng.IntN(5) == 0
		kinds := []string{fmt.Sprintf("m%04d", i)}
		for _, k := range []struct {
			on   bool
			name string
		}{{m.tag, "tag"}, {m.list, "list"}, {m.partner, "partner"}, {m.spam, "spam"}, {m.route, "route"}, {m.late, "late"}} {
			if k.on {
				kinds = append(kinds, k.name)
			}
		}
		m.id = strings.Join(kinds, "-") + "@crash.test"
	}
	return msgs
}

func (m *crashMessage) bytes() []byte {
	var h []string
	if m.spam {
		h = append(h, "X-Spam-Flag: YES")
	}
	if m.list {
		h = append(h, "List-Id: Crash list <crash.lists.example>")
	}
	if m.partner {
		h = append(h, "From: Pat <pat@partners.example>")
	}
	if m.route {
		h = append(h, "X-Route: file")
	}
	if m.tag {
		h = append(h, "X-Tag: one")
	}
	if m.late {
		h = append(h, "X-Late: yes")
	}
	return message{id: m.id, headers: strings.Join(h, "\n")}.bytes()
}

// want is where crashRules put the message: mailbox -> its flags there
// (sorted, as flagString gives them, without \Seen). The rules run in
// order; flags and copies add up, the first move ends them; flags are set
// before copies are made, so the copies carry them.
func (m *crashMessage) want() map[string]string {
	var flags, copies []string
	dest := "INBOX"
	if m.tag {
		flags = append(flags, "$Seen1")
	}
	if m.list {
		copies = append(copies, "Lists")
	}
	if m.partner {
		copies = append(copies, "Partners", "Archive")
	}
	switch {
	case m.spam:
		dest = "Junk"
	case m.route:
		dest = "Filed"
	case m.late:
		flags = append(flags, "$Late")
	}
	f := flagString(flags)
	want := map[string]string{dest: f}
	for _, c := range copies {
		want[c] = f
	}
	return want
}

// crashResult is a finished round, for the summary.
type crashResult struct {
	plan    *crashPlan
	verdict crashVerdict
	notes   string // what the interruptions met
	ran     bool   // the census was taken
}

// runCrashRound carries out plan against s and records the verdict in res.
func runCrashRound(t *testing.T, s *dovecottest.Server, plan *crashPlan, res *crashResult) {
	e := newEnv(t, s, crashRules, "")
	proxy := crashProxy(t, e)
	msgs := plan.msgs
	data := make([]dovecottest.Message, len(msgs))
	for i := range msgs {
		data[i] = dovecottest.Message{Data: msgs[i].bytes(), InternalDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	if err := s.AddMessages(e.user, "INBOX", data); err != nil {
		t.Fatalf("AddMessages = %v", err)
	}

	var notes []string
	// A `run --all` killed before it sent anything may have been killed
	// before it noted in the state file that it wants every message (see
	// TestRunAllThatNeverConnectedIsCompleted for after): then it did
	// nothing at all, and the user runs it again.
	again := false
	// `run --all`, interrupted or not; then, if planned, an interrupted `run`.
	for _, step := range []struct {
		args     []string
		in       *interruption
		optional bool
	}{{[]string{"run", "--all"}, plan.first, false}, {[]string{"run"}, plan.second, true}} {
		if step.optional && step.in == nil {
			continue
		}
		out := e.runInterrupted(t, proxy, step.in, step.args...)
		notes = append(notes, fmt.Sprintf("%s: %s", strings.Join(step.args, " "), out))
		if step.args[len(step.args)-1] == "--all" && out.interrupted && len(out.commands) == 0 {
			again = true
		}
		if !out.interrupted && out.code != 0 {
			t.Errorf("mailrules %s, not interrupted, exited %d:\n%s", strings.Join(step.args, " "), out.code, crashTail(out.stderr, 3000))
		}
	}
	for i := range 2 {
		args := []string{"run"}
		if i == 0 && again {
			args = append(args, "--all")
			notes = append(notes, "run --all again")
		}
		if r := e.mailrules(args...); r.code != 0 {
			t.Errorf("recovery run %d exited %d, want 0:\n%s", i+1, r.code, crashTail(r.stderr, 3000))
		}
	}
	res.notes = strings.Join(notes, "; ")
	t.Logf("%s", res.notes)

	res.verdict, res.ran = checkCrashCensus(msgs, e.census()), true
	t.Logf("%s", res.verdict.counts())
	if res.verdict.failed() {
		t.Errorf("%s after %s\n%s", res.verdict.counts(), plan.short(), res.verdict.examples(10))
	}
}

// crashProxy routes e's config through a new faultproxy in front of its
// server.
func crashProxy(t *testing.T, e *env) *faultproxy.Proxy {
	t.Helper()
	proxy, err := faultproxy.New(e.srv.Addr())
	if err != nil {
		t.Fatalf("faultproxy.New = %v", err)
	}
	t.Cleanup(func() { proxy.Close() })
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	_, serverPort := splitAddr(t, e.srv.Addr())
	_, proxyPort := splitAddr(t, proxy.Addr())
	from, to := "port      = "+serverPort+"\n", "port      = "+proxyPort+"\n"
	if !strings.Contains(string(cfg), from) {
		t.Fatalf("config %s has no line %q to point at the proxy", e.config, from)
	}
	if err := os.WriteFile(e.config, []byte(strings.Replace(string(cfg), from, to, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return proxy
}

// interruptedRun is what one interrupted mailrules process did.
type interruptedRun struct {
	interrupted bool // the interruption came before the process ended
	code        int  // exit code, -1 when killed
	commands    []string
	stderr      string
}

func (r interruptedRun) String() string {
	var b strings.Builder
	if r.interrupted {
		b.WriteString("interrupted")
	} else {
		b.WriteString("finished first")
	}
	fmt.Fprintf(&b, ", exit %d, sent", r.code)
	if len(r.commands) == 0 {
		b.WriteString(" nothing")
	}
	// The commands, runs of one shown once with a count.
	for i := 0; i < len(r.commands); {
		j := i + 1
		for j < len(r.commands) && r.commands[j] == r.commands[i] {
			j++
		}
		if j-i > 1 {
			fmt.Fprintf(&b, " %sx%d", r.commands[i], j-i)
		} else {
			fmt.Fprintf(&b, " %s", r.commands[i])
		}
		i = j
	}
	return b.String()
}

// runInterrupted runs mailrules with args and its protocol trace on a pipe,
// and interrupts it as in says (nil: not at all). It returns once the
// process has ended; the interruption cannot happen after that.
func (e *env) runInterrupted(t *testing.T, proxy *faultproxy.Proxy, in *interruption, args ...string) interruptedRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	traceR, traceW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer traceR.Close()
	// The pipe is the child's descriptor 3.
	cmd := e.command(ctx, append(slices.Clone(args), "--trace", "/dev/fd/3")...)
	cmd.ExtraFiles = []*os.File{traceW}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Start()
	traceW.Close()
	if err != nil {
		t.Fatalf("start mailrules %v: %v", args, err)
	}

	var (
		mu           sync.Mutex
		ended, fired bool
	)
	interrupt := func() {
		mu.Lock()
		defer mu.Unlock()
		if ended || fired {
			return
		}
		fired = true
		if in.cut {
			proxy.CutAll()
		} else {
			cmd.Process.Kill()
		}
	}
	if in != nil && in.command == "" {
		timer := time.AfterFunc(in.after, interrupt)
		defer timer.Stop()
	}
	sent := make(chan []string, 1)
	go func() { sent <- watchTrace(traceR, in, interrupt) }()

	waitErr := cmd.Wait()
	mu.Lock()
	ended = true
	mu.Unlock()
	run := interruptedRun{interrupted: fired, commands: <-sent, stderr: stderr.String()}
	if waitErr != nil {
		if _, ok := waitErr.(*exec.ExitError); !ok {
			t.Fatalf("mailrules %v: %v", args, waitErr)
		}
	}
	run.code = cmd.ProcessState.ExitCode()
	return run
}

// watchTrace reads a protocol trace to its end, calls interrupt at the
// moment in names (if any), and returns the names of the commands sent.
func watchTrace(r io.Reader, in *interruption, interrupt func()) []string {
	var (
		commands []string
		seen     int
		tag      string // of the command whose reply is awaited
	)
	at := func() {
		if in.delay == 0 {
			interrupt()
		} else {
			time.AfterFunc(in.delay, interrupt)
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if tag != "" {
			if _, rest, ok := strings.Cut(line, " S: "); ok && strings.HasPrefix(rest, tag+" ") {
				tag = ""
				at()
			}
		}
		name, cmdTag := traceCommand(line)
		if name == "" {
			continue
		}
		commands = append(commands, name)
		if in == nil || in.command != name {
			continue
		}
		if seen++; seen == in.nth {
			if in.reply {
				tag = cmdTag
			} else {
				at()
			}
		}
	}
	io.Copy(io.Discard, r) // after a scan error, so the writer never blocks
	return commands
}

// traceCommand returns the command name ("UID COPY") and tag of a client
// line of a trace ("HH:MM:SS.micros C: tag command ..."), or "" for other
// lines.
func traceCommand(line string) (name, tag string) {
	_, rest, ok := strings.Cut(line, " C: ")
	if !ok {
		return "", ""
	}
	f := strings.Fields(rest)
	if len(f) < 2 || strings.HasPrefix(f[0], "+") || f[0] == "DONE" || strings.HasPrefix(f[0], "<") {
		return "", ""
	}
	name = strings.ToUpper(f[1])
	if name == "UID" && len(f) > 2 {
		name = "UID " + strings.ToUpper(f[2])
	}
	return name, f[0]
}

// census maps every mailbox of e's user to the messages in it: Message-ID
// -> the flags of each message with that id (sorted, without \Recent and
// \Seen), so that duplicates show.
func (e *env) census() map[string]map[string][]string {
	e.t.Helper()
	c := e.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := c.List(ctx, "", "*")
	if err != nil {
		e.t.Fatalf("List = %v", err)
	}
	census := map[string]map[string][]string{}
	for _, mb := range list {
		if mb.HasAttr(`\Noselect`) {
			continue
		}
		st, err := c.Examine(ctx, mb.Name)
		if err != nil {
			e.t.Fatalf("Examine(%q) = %v", mb.Name, err)
		}
		if st.Exists == 0 {
			continue
		}
		msgs := map[string][]string{}
		items := []imap.FetchItem{imap.FetchUID, imap.FetchFlags, imap.FetchHeaderFields("MESSAGE-ID")}
		err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, items, func(m *imap.FetchMessage) error {
			id := messageID(m.Section("HEADER.FIELDS (MESSAGE-ID)"))
			flags := slices.DeleteFunc(slices.Clone(m.Flags), func(f string) bool { return f == imap.FlagSeen })
			msgs[id] = append(msgs[id], flagString(flags))
			return nil
		})
		if err != nil {
			e.t.Fatalf("UIDFetch in %q = %v", mb.Name, err)
		}
		census[mb.Name] = msgs
	}
	c.Logout(ctx)
	return census
}

// crashVerdict counts what a census shows wrong, with examples.
type crashVerdict struct {
	messages int
	// lost: in no mailbox; duplicated: twice or more in one mailbox;
	// misplaced: in other mailboxes than the rules say, or with other
	// flags; unexpected: Message-IDs that were never loaded.
	lost, duplicated, misplaced, unexpected int
	// untouched counts the misplaced messages still in INBOX alone,
	// without any flag: the rules never acted on them.
	untouched int
	// dupByMailbox counts the duplicated messages per mailbox.
	dupByMailbox map[string]int
	// found holds examples per kind ("lost", ...), at most 10 each.
	found map[string][]string
}

// checkCrashCensus compares census with where msgs belong.
func checkCrashCensus(msgs []crashMessage, census map[string]map[string][]string) crashVerdict {
	v := crashVerdict{messages: len(msgs), dupByMailbox: map[string]int{}, found: map[string][]string{}}
	note := func(kind, example string) {
		if len(v.found[kind]) < 10 {
			v.found[kind] = append(v.found[kind], example)
		}
	}
	mailboxes := make([]string, 0, len(census))
	for mb := range census {
		mailboxes = append(mailboxes, mb)
	}
	sort.Strings(mailboxes)
	known := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		known[m.id] = true
		want := m.want()
		var got []string
		dup := false
		for _, mb := range mailboxes {
			flags := census[mb][m.id]
			for _, f := range flags {
				got = append(got, fmt.Sprintf("%s[%s]", mb, f))
			}
			if len(flags) > 1 {
				dup = true
				v.dupByMailbox[mb]++
			}
		}
		var wantList []string
		for mb, f := range want {
			wantList = append(wantList, fmt.Sprintf("%s[%s]", mb, f))
		}
		sort.Strings(wantList)
		gotS, wantS := strings.Join(got, " "), strings.Join(wantList, " ")
		example := fmt.Sprintf("%s: want %s, got %s", m.id, wantS, gotS)
		switch {
		case len(got) == 0:
			v.lost++
			note("lost", fmt.Sprintf("%s: want %s, in no mailbox", m.id, wantS))
		case dup:
			v.duplicated++
			note("duplicated", example)
		case gotS != wantS:
			v.misplaced++
			if gotS == "INBOX[]" {
				v.untouched++
			}
			note("misplaced", example)
		}
	}
	for _, mb := range mailboxes {
		ids := make([]string, 0, len(census[mb]))
		for id := range census[mb] {
			if !known[id] {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			v.unexpected++
			note("unexpected", fmt.Sprintf("%s in %s (never loaded)", id, mb))
		}
	}
	return v
}

func (v *crashVerdict) failed() bool {
	return v.lost+v.duplicated+v.misplaced+v.unexpected > 0
}

// counts is the one-line summary: "1200 messages: 0 lost, 3 duplicated (Lists 3), ...".
func (v *crashVerdict) counts() string {
	s := fmt.Sprintf("%d messages: %d lost, %d duplicated", v.messages, v.lost, v.duplicated)
	if len(v.dupByMailbox) > 0 {
		var per []string
		for mb, n := range v.dupByMailbox {
			per = append(per, fmt.Sprintf("%s %d", mb, n))
		}
		sort.Strings(per)
		s += " (" + strings.Join(per, ", ") + ")"
	}
	s += fmt.Sprintf(", %d misplaced", v.misplaced)
	if v.untouched > 0 {
		s += fmt.Sprintf(" (%d untouched in INBOX)", v.untouched)
	}
	return s + fmt.Sprintf(", %d unexpected", v.unexpected)
}

// examples lists up to n examples, taking from each kind in turn.
func (v *crashVerdict) examples(n int) string {
	var b strings.Builder
	kinds := []string{"lost", "duplicated", "misplaced", "unexpected"}
	for i, shown := 0, 0; shown < n; i++ {
		more := false
		for _, k := range kinds {
			if i < len(v.found[k]) && shown < n {
				fmt.Fprintf(&b, "  %s %s\n", k, v.found[k][i])
				shown++
				more = true
			}
		}
		if !more {
			break
		}
	}
	return b.String()
}

// add sums other into v.
func (v *crashVerdict) add(other *crashVerdict) {
	v.messages += other.messages
	v.lost += other.lost
	v.duplicated += other.duplicated
	v.misplaced += other.misplaced
	v.untouched += other.untouched
	v.unexpected += other.unexpected
	for mb, n := range other.dupByMailbox {
		if v.dupByMailbox == nil {
			v.dupByMailbox = map[string]int{}
		}
		v.dupByMailbox[mb] += n
	}
}

// crashTail is the last n bytes of s.
func crashTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
