package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// srv is the Dovecot the integration tests run against, with its default
// capabilities (MOVE, UIDPLUS, SPECIAL-USE...).
var srv *dovecottest.Server

func TestMain(m *testing.M) { dovecottest.Run(m, nil, &srv) }

// startServer starts an extra Dovecot for one test, e.g. with capabilities
// hidden.
func startServer(t *testing.T, opts *dovecottest.Options) *dovecottest.Server {
	t.Helper()
	dovecottest.Require(t, srv)
	s, err := dovecottest.Start(opts)
	if err != nil {
		t.Fatalf("dovecottest.Start(%+v) = %v", opts, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s
}

// login connects a fresh user of s and returns the client.
func login(t *testing.T, s *dovecottest.Server) *imap.Client {
	t.Helper()
	return loginAs(t, s, s.NewUser(t))
}

// loginAs connects as u.
func loginAs(t *testing.T, s *dovecottest.Server, u *dovecottest.User) *imap.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := imap.Dial(ctx, s.Addr(), nil)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", s.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(ctx, u.Name, u.Password); err != nil {
		t.Fatalf("Login = %v", err)
	}
	return c
}

// appendMessages APPENDs n messages with Message-IDs <1@test>..<n@test> to
// INBOX; flags(i) gives the flags of message i.
func appendMessages(t *testing.T, c *imap.Client, n int, flags func(i int) []string) {
	t.Helper()
	ctx := context.Background()
	date := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("Message-ID: <%d@test>\r\nFrom: sender%d@example.com\r\nTo: me@example.com\r\nSubject: message %d\r\nDate: Fri, 1 Mar 2024 12:00:00 +0000\r\n\r\nBody %d.\r\n", i, i, i, i)
		var fl []string
		if flags != nil {
			fl = flags(i)
		}
		if _, err := c.Append(ctx, "INBOX", fl, date, strings.NewReader(msg)); err != nil {
			t.Fatalf("Append(message %d) = %v", i, err)
		}
	}
}

// contents lists a mailbox message by message: "<id> flags...", sorted.
// \Recent is left out.
func contents(t *testing.T, c *imap.Client, mailbox string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := c.Examine(ctx, mailbox)
	if err != nil {
		t.Fatalf("Examine(%q) = %v", mailbox, err)
	}
	out := []string{}
	if st.Exists == 0 {
		return out
	}
	err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchUID, imap.FetchFlags, imap.FetchHeaderFields("Message-ID")},
		func(m *imap.FetchMessage) error {
			var header []byte
			for _, s := range m.Sections {
				header = s.Data
			}
			id := ""
			for line := range bytes.Lines(header) {
				if k, v, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(k), "Message-ID") {
					id = string(bytes.TrimSpace(v))
				}
			}
			flags := []string{}
			for _, f := range m.Flags {
				if f != imap.FlagRecent {
					flags = append(flags, f)
				}
			}
			sort.Strings(flags)
			out = append(out, strings.TrimSpace(id+" "+strings.Join(flags, " ")))
			return nil
		})
	if err != nil {
		t.Fatalf("UIDFetch(%q) = %v", mailbox, err)
	}
	sort.Strings(out)
	return out
}

// integrationDecisions are the decisions of the integration tests for
// messages 1..10 (message 10 is untouched):
//
//	1-3  \Seen, moved to Lists/go-dev
//	4    copied to Backup/2024 and moved to Lists/go-dev, $Label1
//	5-6  deleted (to Trash), \Flagged removed
//	7    expunged
//	8    $Label1 added, \Flagged removed
//	9    copied to Backup/2024
func integrationDecisions() []Decision {
	ds := []Decision{}
	for uid := uint32(1); uid <= 9; uid++ {
		var r rules.Result
		switch {
		case uid <= 3:
			r = rules.Result{Matched: []string{"lists"}, AddFlags: add("lists", imap.FlagSeen), Final: moveTo("lists", "Lists/go-dev")}
		case uid == 4:
			r = rules.Result{Matched: []string{"label", "backup", "lists"}, AddFlags: add("label", "$Label1"),
				Copies: []rules.Target{{Mailbox: "Backup/2024", Rule: "backup"}}, Final: moveTo("lists", "Lists/go-dev")}
		case uid <= 6:
			r = rules.Result{Matched: []string{"spam"}, RemoveFlags: add("spam", imap.FlagFlagged), Final: &rules.Final{Kind: rules.FinalDelete, Rule: "spam"}}
		case uid == 7:
			r = rules.Result{Matched: []string{"purge"}, Final: &rules.Final{Kind: rules.FinalExpunge, Rule: "purge"}}
		case uid == 8:
			r = rules.Result{Matched: []string{"label", "unflag"}, AddFlags: add("label", "$Label1"), RemoveFlags: add("unflag", imap.FlagFlagged)}
		case uid == 9:
			r = rules.Result{Matched: []string{"backup"}, Copies: []rules.Target{{Mailbox: "Backup/2024", Rule: "backup"}}}
		}
		ds = append(ds, Decision{UID: uid, Result: r, MessageID: fmt.Sprintf("<%d@test>", uid), From: fmt.Sprintf("sender%d@example.com", uid)})
	}
	return ds
}

func TestDovecotExecute(t *testing.T) {
	dovecottest.Require(t, srv)
	noMove := startServer(t, &dovecottest.Options{Capability: "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SPECIAL-USE NAMESPACE"})

	// Message 11 is marked \Deleted by someone else: only a bare EXPUNGE
	// could remove it.
	flags := func(i int) []string {
		switch i {
		case 5, 8:
			return []string{imap.FlagFlagged}
		case 11:
			return []string{imap.FlagDeleted}
		}
		return nil
	}
	moved := []string{`<1@test> \Seen`, `<2@test> \Seen`, `<3@test> \Seen`, `<4@test> $Label1`}
	tests := []struct {
		name      string
		server    *dovecottest.Server
		opts      Options
		wantMove  bool
		wantInbox []string
		wantWarn  int
	}{
		{
			name:      "MOVE and UIDPLUS",
			server:    srv,
			wantMove:  true,
			wantInbox: []string{`<8@test> $Label1`, "<9@test>", "<10@test>", `<11@test> \Deleted`},
		},
		{
			name:   "no MOVE, no UIDPLUS: messages left \\Deleted",
			server: noMove,
			wantInbox: []string{`<1@test> \Deleted \Seen`, `<2@test> \Deleted \Seen`, `<3@test> \Deleted \Seen`,
				`<4@test> $Label1 \Deleted`, `<5@test> \Deleted`, `<6@test> \Deleted`, `<7@test> \Deleted`,
				`<8@test> $Label1`, "<9@test>", "<10@test>", `<11@test> \Deleted`},
			wantWarn: 3, // move, delete, expunge
		},
		{
			name:      "no MOVE, no UIDPLUS, AllowExpunge",
			server:    noMove,
			opts:      Options{AllowExpunge: true},
			wantInbox: []string{`<8@test> $Label1`, "<9@test>", "<10@test>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := login(t, tt.server)
			if got := c.Has(imap.CapMove); got != tt.wantMove {
				t.Fatalf("Has(MOVE) = %v, want %v", got, tt.wantMove)
			}
			appendMessages(t, c, 11, flags)
			if _, err := c.Select(ctx, "INBOX", nil); err != nil {
				t.Fatalf("Select(INBOX) = %v", err)
			}
			p := NewPlan("INBOX", integrationDecisions())
			rep, err := p.Execute(ctx, c, &tt.opts)
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			if len(rep.Warnings) != tt.wantWarn {
				t.Fatalf("warnings = %q, want %d", rep.Warnings, tt.wantWarn)
			}
			if want := []string{"Lists", "Lists.go-dev", "Backup", "Backup.2024"}; !sameElements(rep.Created, want) {
				t.Fatalf("Report.Created = %q, want %q", rep.Created, want)
			}
			t.Logf("%d commands, rules %v", rep.Commands, rep.Rules)

			checks := map[string][]string{
				"INBOX":        tt.wantInbox,
				"Lists.go-dev": moved,
				"Backup.2024":  {"<4@test> $Label1", "<9@test>"},
				"Trash":        {"<5@test>", "<6@test>"},
			}
			for mailbox, want := range checks {
				if got := contents(t, c, mailbox); !sameElements(got, want) {
					t.Errorf("%s holds %q, want %q", mailbox, got, want)
				}
			}
		})
	}
}

// TestDovecotSplit moves thousands of scattered messages: several commands
// per step, nothing lost.
func TestDovecotSplit(t *testing.T) {
	dovecottest.Require(t, srv)
	if testing.Short() {
		t.Skip("slow")
	}
	const n = 8000
	ctx := context.Background()
	var data []dovecottest.Message
	for i := 1; i <= n; i++ {
		data = append(data, dovecottest.Message{Data: fmt.Appendf(nil, "Message-ID: <%d@test>\r\nSubject: %d\r\n\r\nx\r\n", i, i)})
	}
	u := srv.NewUser(t)
	if err := srv.AddMessages(u, "INBOX", data); err != nil {
		t.Fatalf("AddMessages = %v", err)
	}
	c2 := loginAs(t, srv, u)
	st, err := c2.Select(ctx, "INBOX", nil)
	if err != nil || st.Exists != n {
		t.Fatalf("Select(INBOX) = %+v, %v; want %d messages", st, err, n)
	}
	// UIDs are 1..n; move every third one, flag every other one.
	var ds []Decision
	for uid := uint32(1); uid <= n; uid++ {
		var r rules.Result
		if uid%2 == 0 {
			r.AddFlags = add("even", imap.FlagFlagged)
		}
		if uid%3 == 0 {
			r.Final = moveTo("third", "Thirds")
		}
		ds = append(ds, Decision{UID: uid, Result: r})
	}
	p := NewPlan("INBOX", ds)
	if got := len(p.Steps[0].UIDs.String()); got < 2*imap.MaxSetBytes {
		t.Fatalf("flag step's set is %d bytes, want over %d to exercise splitting", got, 2*imap.MaxSetBytes)
	}
	rep, err := p.Execute(ctx, c2, nil)
	if err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	t.Logf("%d messages: %d commands", n, rep.Commands)
	inbox, thirds := contents(t, c2, "INBOX"), contents(t, c2, "Thirds")
	if len(inbox)+len(thirds) != n || len(thirds) != n/3 {
		t.Fatalf("INBOX holds %d and Thirds %d messages, want %d and %d", len(inbox), len(thirds), n-n/3, n/3)
	}
	for _, line := range slices.Concat(inbox, thirds) {
		var i int
		if _, err := fmt.Sscanf(line, "<%d@test>", &i); err != nil {
			t.Fatalf("unexpected message %q", line)
		}
		if flagged := strings.Contains(line, imap.FlagFlagged); flagged != (i%2 == 0) {
			t.Fatalf("message %q: flagged %v, want %v", line, flagged, i%2 == 0)
		}
	}
}

// sameElements reports whether a and b hold the same strings in any order.
func sameElements(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// staleList wraps a client so that LIST also reports mailboxes that do not
// exist, as a stale view would: the server then answers NO [TRYCREATE].
type staleList struct {
	*imap.Client
	ghosts []string
}

func (s staleList) List(ctx context.Context, ref, pattern string) ([]*imap.ListData, error) {
	list, err := s.Client.List(ctx, ref, pattern)
	for _, g := range s.ghosts {
		list = append(list, &imap.ListData{Delim: ".", Name: g})
	}
	return list, err
}

func TestDovecotTryCreate(t *testing.T) {
	dovecottest.Require(t, srv)
	noMove := startServer(t, &dovecottest.Options{Capability: "IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE"})
	for _, s := range []*dovecottest.Server{srv, noMove} {
		ctx := context.Background()
		c := login(t, s)
		appendMessages(t, c, 3, nil)
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			t.Fatalf("Select(INBOX) = %v", err)
		}
		p := NewPlan("INBOX", append(moveDecisions("Ghost/Sub", 1, 2), decide(3, rules.Result{Matched: []string{"c"},
			Copies: []rules.Target{{Mailbox: "Ghost/Sub", Rule: "c"}}})))
		rep, err := p.Execute(ctx, staleList{c, []string{"Ghost", "Ghost.Sub"}}, &Options{AllowExpunge: true})
		if err != nil {
			t.Fatalf("Has(MOVE) %v: Execute() = %v", c.Has(imap.CapMove), err)
		}
		if !reflect.DeepEqual(rep.Created, []string{"Ghost.Sub"}) {
			t.Fatalf("Report.Created = %q, want [Ghost.Sub] (after NO [TRYCREATE])", rep.Created)
		}
		if got, want := contents(t, c, "Ghost.Sub"), []string{"<1@test>", "<2@test>", "<3@test>"}; !sameElements(got, want) {
			t.Fatalf("Ghost.Sub holds %q, want %q", got, want)
		}
		if got, want := contents(t, c, "INBOX"), []string{"<3@test>"}; !sameElements(got, want) {
			t.Fatalf("INBOX holds %q, want %q", got, want)
		}
	}
}

// TestDovecotSlashDelimiter runs on a server whose hierarchy delimiter is
// "/", creating and subscribing nested mailboxes.
func TestDovecotSlashDelimiter(t *testing.T) {
	s := startServer(t, &dovecottest.Options{ExtraConfig: "namespace inbox {\n  separator = /\n}\n"})
	ctx := context.Background()
	c := login(t, s)
	list, err := c.List(ctx, "", "INBOX")
	if err != nil || len(list) != 1 || list[0].Delim != "/" {
		t.Fatalf(`List("", INBOX) = %+v, %v; want delimiter "/"`, list, err)
	}
	appendMessages(t, c, 2, nil)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatalf("Select(INBOX) = %v", err)
	}
	p := NewPlan("INBOX", moveDecisions("Lists/go/dev", 1, 2))
	rep, err := p.Execute(ctx, c, &Options{Subscribe: true})
	if err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	want := []string{"Lists", "Lists/go", "Lists/go/dev"}
	if !reflect.DeepEqual(rep.Created, want) || len(rep.Warnings) != 0 {
		t.Fatalf("Report.Created = %q, warnings %q; want %q and none", rep.Created, rep.Warnings, want)
	}
	subs, err := c.Lsub(ctx, "", "Lists*")
	if err != nil {
		t.Fatalf("Lsub = %v", err)
	}
	var subscribed []string
	for _, l := range subs {
		subscribed = append(subscribed, l.Name)
	}
	if !sameElements(subscribed, want) {
		t.Fatalf("subscribed %q, want %q", subscribed, want)
	}
	if got := contents(t, c, "Lists/go/dev"); !sameElements(got, []string{"<1@test>", "<2@test>"}) {
		t.Fatalf("Lists/go/dev holds %q, want both messages", got)
	}
}

// TestDovecotResume interrupts a plan after its copy and resumes it from the
// journal of done steps, as the engine does after a crash: nothing is lost
// and nothing is done twice.
func TestDovecotResume(t *testing.T) {
	dovecottest.Require(t, srv)
	ctx := context.Background()
	c := login(t, srv)
	appendMessages(t, c, 4, nil)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatalf("Select(INBOX) = %v", err)
	}
	ds := append(moveDecisions("Archive", 1, 2), deleteDecisions(3)...)
	ds[0].Result.Copies = []rules.Target{{Mailbox: "Backup", Rule: "r"}}
	// Steps: 0 copy Backup, 1 move Archive, 2 delete.
	p := NewPlan("INBOX", ds)
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("json.Marshal = %v", err)
	}
	var journal []int
	cctx, cancel := context.WithCancel(ctx)
	_, err = p.Execute(cctx, c, &Options{OnStepDone: func(i int) { journal = append(journal, i); cancel() }})
	if !errors.Is(err, context.Canceled) || !reflect.DeepEqual(journal, []int{0}) {
		t.Fatalf("interrupted Execute() = %v with journal %v, want context.Canceled after step 0", err, journal)
	}

	var resumed Plan
	if err := json.Unmarshal(data, &resumed); err != nil {
		t.Fatalf("json.Unmarshal = %v", err)
	}
	rep, err := resumed.Execute(ctx, c, &Options{
		Skip:       func(i int) bool { return slices.Contains(journal, i) },
		OnStepDone: func(i int) { journal = append(journal, i) },
	})
	if err != nil {
		t.Fatalf("resumed Execute() = %v", err)
	}
	if !reflect.DeepEqual(journal, []int{0, 1, 2}) || !rep.Steps[0].Skipped {
		t.Fatalf("journal %v, steps %+v; want 0 skipped, then 1 and 2 done", journal, rep.Steps)
	}
	for mailbox, want := range map[string][]string{
		"INBOX":   {"<4@test>"},
		"Backup":  {"<1@test>"},
		"Archive": {"<1@test>", "<2@test>"},
		"Trash":   {"<3@test>"},
	} {
		if got := contents(t, c, mailbox); !sameElements(got, want) {
			t.Errorf("%s holds %q, want %q", mailbox, got, want)
		}
	}
}

// TestDovecotVanished: another client expunges messages between the plan
// and its execution. Dovecot refuses the UID MOVE, UID COPY and UID STORE
// that name them (NO [EXPUNGEISSUED]) and carries out none of it; Execute
// leaves the vanished messages out and acts on all the others.
func TestDovecotVanished(t *testing.T) {
	for _, opts := range []*dovecottest.Options{nil, {Capability: "IMAP4rev1 UIDPLUS IDLE"}} {
		name := "MOVE"
		if opts != nil {
			name = "no MOVE"
		}
		t.Run(name, func(t *testing.T) {
			s := srv
			if opts != nil {
				s = startServer(t, opts)
			}
			dovecottest.Require(t, s)
			u := s.NewUser(t)
			c, other := loginAs(t, s, u), loginAs(t, s, u)
			ctx := context.Background()
			appendMessages(t, c, 10, nil)
			if _, err := c.Select(ctx, "INBOX", nil); err != nil {
				t.Fatalf("Select = %v", err)
			}
			// Moves only: the UID MOVE (or UID COPY) is the first command
			// after the other client's expunge, which Dovecot refuses.
			ds := moveDecisions("Lists/go-dev", 1, 2, 3, 4)
			ds = append(ds, deleteDecisions(5, 6, 9)...)
			p := NewPlan("INBOX", ds)
			if _, err := other.Select(ctx, "INBOX", nil); err != nil {
				t.Fatalf("Select (other) = %v", err)
			}
			gone := imap.SeqSetFromNums(2, 4, 9)
			if err := other.UIDStore(ctx, gone, imap.StoreAdd, true, []string{imap.FlagDeleted}); err != nil {
				t.Fatalf("UIDStore (other) = %v", err)
			}
			if _, err := other.UIDExpunge(ctx, gone); err != nil {
				t.Fatalf("UIDExpunge (other) = %v", err)
			}
			rep, err := p.Execute(ctx, c, nil)
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			// 9 goes unnoticed: the refusal made Dovecot report the
			// expunges, and later commands simply skip it.
			if len(rep.Failed) != 0 || rep.Vanished.String() != "2,4" {
				t.Errorf("Report.Failed = %+v, Vanished = %s; want none failed, 2,4 vanished", rep.Failed, rep.Vanished)
			}
			for _, tc := range []struct {
				mailbox string
				want    []string
			}{
				{"INBOX", []string{"<10@test>", "<7@test>", "<8@test>"}},
				{"Lists.go-dev", []string{"<1@test>", "<3@test>"}},
				{"Trash", []string{"<5@test>", "<6@test>"}},
			} {
				if got := contents(t, other, tc.mailbox); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s = %q, want %q", tc.mailbox, got, tc.want)
				}
			}
		})
	}
}
