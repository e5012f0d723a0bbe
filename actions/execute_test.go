package actions

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

func decide(uid uint32, r rules.Result) Decision {
	return Decision{UID: uid, Result: r, MessageID: fmt.Sprintf("<%d@test>", uid)}
}

func moveDecisions(dest string, uids ...uint32) []Decision {
	var ds []Decision
	for _, uid := range uids {
		ds = append(ds, decide(uid, rules.Result{Matched: []string{"r"}, Final: moveTo("r", dest)}))
	}
	return ds
}

func deleteDecisions(uids ...uint32) []Decision {
	var ds []Decision
	for _, uid := range uids {
		ds = append(ds, decide(uid, rules.Result{Matched: []string{"spam"}, Final: &rules.Final{Kind: rules.FinalDelete, Rule: "spam"}}))
	}
	return ds
}

func expungeDecisions(uids ...uint32) []Decision {
	var ds []Decision
	for _, uid := range uids {
		ds = append(ds, decide(uid, rules.Result{Matched: []string{"purge"}, Final: &rules.Final{Kind: rules.FinalExpunge, Rule: "purge"}}))
	}
	return ds
}

func TestExecuteMoveVariants(t *testing.T) {
	tests := []struct {
		name         string
		caps         []imap.Cap
		allowExpunge bool
		decisions    []Decision
		wantCmds     []string
		wantInbox    []string
		wantDest     []string
		wantWarnings int
	}{
		{
			name:      "MOVE",
			caps:      []imap.Cap{imap.CapMove, imap.CapUIDPlus},
			decisions: moveDecisions("Archive", 1, 2, 3),
			wantCmds:  []string{`LIST "" "*"`, "UID MOVE 1:3 Archive"},
			wantInbox: []string{"<4@test>"},
			wantDest:  []string{"<1@test>", "<2@test>", "<3@test>"},
		},
		{
			name:      "COPY, STORE, UID EXPUNGE with UIDPLUS",
			caps:      []imap.Cap{imap.CapUIDPlus},
			decisions: moveDecisions("Archive", 1, 2, 3),
			wantCmds:  []string{`LIST "" "*"`, "UID COPY 1:3 Archive", `UID STORE 1:3 +FLAGS.SILENT (\Deleted)`, "UID EXPUNGE 1:3"},
			wantInbox: []string{"<4@test>"},
			wantDest:  []string{"<1@test>", "<2@test>", "<3@test>"},
		},
		{
			name:         "no UIDPLUS: left \\Deleted, no EXPUNGE",
			decisions:    moveDecisions("Archive", 1, 2, 3),
			wantCmds:     []string{`LIST "" "*"`, "UID COPY 1:3 Archive", `UID STORE 1:3 +FLAGS.SILENT (\Deleted)`},
			wantInbox:    []string{"<1@test> (deleted)", "<2@test> (deleted)", "<3@test> (deleted)", "<4@test>"},
			wantDest:     []string{"<1@test>", "<2@test>", "<3@test>"},
			wantWarnings: 1,
		},
		{
			name:         "no UIDPLUS, AllowExpunge: bare EXPUNGE",
			allowExpunge: true,
			decisions:    moveDecisions("Archive", 1, 2, 3),
			wantCmds:     []string{`LIST "" "*"`, "UID COPY 1:3 Archive", `UID STORE 1:3 +FLAGS.SILENT (\Deleted)`, "EXPUNGE"},
			wantInbox:    []string{"<4@test>"},
			wantDest:     []string{"<1@test>", "<2@test>", "<3@test>"},
		},
		{
			name:         "UIDPLUS preferred over AllowExpunge",
			caps:         []imap.Cap{imap.CapUIDPlus},
			allowExpunge: true,
			decisions:    moveDecisions("Archive", 1, 3),
			wantCmds:     []string{`LIST "" "*"`, "UID COPY 1,3 Archive", `UID STORE 1,3 +FLAGS.SILENT (\Deleted)`, "UID EXPUNGE 1,3"},
			wantInbox:    []string{"<2@test>", "<4@test>"},
			wantDest:     []string{"<1@test>", "<3@test>"},
		},
		{
			name:      "delete moves to Trash",
			caps:      []imap.Cap{imap.CapMove, imap.CapUIDPlus},
			decisions: deleteDecisions(2),
			wantCmds:  []string{`LIST "" "*"`, "UID MOVE 2 Trash"},
			wantInbox: []string{"<1@test>", "<3@test>", "<4@test>"},
		},
		{
			name:      "expunge with UIDPLUS",
			caps:      []imap.Cap{imap.CapMove, imap.CapUIDPlus},
			decisions: expungeDecisions(2, 4),
			wantCmds:  []string{`UID STORE 2,4 +FLAGS.SILENT (\Deleted)`, "UID EXPUNGE 2,4"},
			wantInbox: []string{"<1@test>", "<3@test>"},
		},
		{
			name:         "expunge without UIDPLUS: left \\Deleted",
			caps:         []imap.Cap{imap.CapMove},
			decisions:    expungeDecisions(2),
			wantCmds:     []string{`UID STORE 2 +FLAGS.SILENT (\Deleted)`},
			wantInbox:    []string{"<1@test>", "<2@test> (deleted)", "<3@test>", "<4@test>"},
			wantWarnings: 1,
		},
		{
			name:         "expunge without UIDPLUS, AllowExpunge",
			allowExpunge: true,
			decisions:    expungeDecisions(2),
			wantCmds:     []string{`UID STORE 2 +FLAGS.SILENT (\Deleted)`, "EXPUNGE"},
			wantInbox:    []string{"<1@test>", "<3@test>", "<4@test>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(4, tt.caps...)
			srv.addBox("Archive")
			srv.addBox("Trash")
			p := NewPlan("INBOX", tt.decisions)
			rep, err := p.Execute(context.Background(), srv, &Options{AllowExpunge: tt.allowExpunge})
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			if !reflect.DeepEqual(srv.cmds, tt.wantCmds) {
				t.Fatalf("commands = %q, want %q", srv.cmds, tt.wantCmds)
			}
			if got := srv.ids("INBOX"); !reflect.DeepEqual(got, tt.wantInbox) {
				t.Fatalf("INBOX = %q, want %q", got, tt.wantInbox)
			}
			if tt.wantDest != nil {
				if got := srv.ids("Archive"); !reflect.DeepEqual(got, tt.wantDest) {
					t.Fatalf("Archive = %q, want %q", got, tt.wantDest)
				}
			}
			if len(rep.Warnings) != tt.wantWarnings {
				t.Fatalf("warnings = %q, want %d", rep.Warnings, tt.wantWarnings)
			}
			if rep.Commands != len(srv.cmds) {
				t.Fatalf("Report.Commands = %d, want %d sent", rep.Commands, len(srv.cmds))
			}
			checkNothingLost(t, srv, 4, p)
		})
	}
}

// checkNothingLost fails unless every one of the n original messages is
// still in some mailbox, except those the plan expunges.
func checkNothingLost(t *testing.T, srv *fakeServer, n int, p *Plan) {
	t.Helper()
	where := srv.where()
	expunged := make(map[uint32]bool)
	for _, st := range p.Steps {
		if st.Kind == StepExpunge {
			for _, uid := range st.UIDs.Nums() {
				expunged[uid] = true
			}
		}
	}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("<%d@test>", i)
		if len(where[id]) == 0 && !expunged[uint32(i)] {
			t.Fatalf("message %s is in no mailbox; mailboxes: %v", id, srv.names())
		}
	}
}

// TestExecuteCommandsConstant runs the same kinds of decisions for growing
// numbers of messages: the commands sent do not grow.
func TestExecuteCommandsConstant(t *testing.T) {
	for _, caps := range [][]imap.Cap{{imap.CapMove, imap.CapUIDPlus}, {imap.CapUIDPlus}} {
		var first []string
		for _, n := range []int{8, 500, 5000} {
			srv := newFakeServer(n, caps...)
			p := NewPlan("INBOX", mixedDecisions(n))
			rep, err := p.Execute(context.Background(), srv, nil)
			if err != nil {
				t.Fatalf("Execute(%d decisions) = %v", n, err)
			}
			var kinds []string
			for _, c := range srv.cmds {
				kinds = append(kinds, commandShape(c))
			}
			if first == nil {
				first = kinds
			} else if !reflect.DeepEqual(kinds, first) {
				t.Fatalf("caps %v: commands for %d messages = %q, want the same as for 8: %q", caps, n, kinds, first)
			}
			if rep.Commands != len(srv.cmds) {
				t.Fatalf("Report.Commands = %d, want %d", rep.Commands, len(srv.cmds))
			}
			want := map[string]int{"read": n, "backup": n / 4, "lists": n / 2, "spam": n / 4, "purge": n - 3*n/4}
			if !reflect.DeepEqual(rep.Rules, want) {
				t.Fatalf("Report.Rules = %v, want %v", rep.Rules, want)
			}
			if got := len(srv.ids("Lists.go-dev")); got != n/2 {
				t.Fatalf("Lists.go-dev holds %d messages, want %d", got, n/2)
			}
			if got := len(srv.ids("Backup")); got != n/4 {
				t.Fatalf("Backup holds %d messages, want %d", got, n/4)
			}
			if got := len(srv.ids("Trash")); got != n/4 {
				t.Fatalf("Trash holds %d messages, want %d", got, n/4)
			}
			if got := len(srv.ids("INBOX")); got != 0 {
				t.Fatalf("INBOX holds %d messages, want 0", got)
			}
			wantKinds := map[string]int{"add-flags": n + (n - 3*n/4), "copy": n / 4, "move": n / 2, "delete": n / 4, "expunge": n - 3*n/4}
			if got := rep.Messages(); !reflect.DeepEqual(got, wantKinds) {
				t.Fatalf("Report.Messages() = %v, want %v", got, wantKinds)
			}
			checkNothingLost(t, srv, n, p)
			t.Logf("caps %v, %d messages: %d commands: %q", caps, n, rep.Commands, kinds)
		}
	}
}

// commandShape drops the UID set from a recorded command.
func commandShape(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) > 2 && f[0] == "UID" {
		f[2] = "<set>"
	}
	return strings.Join(f, " ")
}

func TestExecuteSplitsLongSets(t *testing.T) {
	const n = 40000
	for _, caps := range [][]imap.Cap{{imap.CapMove, imap.CapUIDPlus}, {imap.CapUIDPlus}} {
		srv := newFakeServer(n, caps...)
		// Every other message, so that the set cannot be compressed.
		var ds []Decision
		for uid := uint32(1); uid <= n; uid += 2 {
			ds = append(ds, decide(uid, rules.Result{Matched: []string{"r"}, AddFlags: add("r", "$Odd"), Final: moveTo("r", "Odd")}))
		}
		p := NewPlan("INBOX", ds)
		rep, err := p.Execute(context.Background(), srv, nil)
		if err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		if srv.maxLine > 8192 {
			t.Fatalf("longest command line = %d bytes, want <= 8192", srv.maxLine)
		}
		setBytes := len(p.Steps[1].UIDs.String())
		minCmds := 2 * setBytes / 8192
		if rep.Commands < minCmds || rep.Commands > 4*(setBytes/7000+2) {
			t.Fatalf("caps %v: %d commands for a %d-byte set, want about %d", caps, rep.Commands, setBytes, minCmds)
		}
		if got := len(srv.ids("Odd")); got != n/2 {
			t.Fatalf("Odd holds %d messages, want %d", got, n/2)
		}
		for _, m := range srv.boxes["Odd"].msgs {
			if !m.flags["$Odd"] {
				t.Fatalf("message %s moved without its $Odd flag", m.id)
			}
		}
		if got := len(srv.ids("INBOX")); got != n/2 {
			t.Fatalf("INBOX holds %d messages, want %d", got, n/2)
		}
		for _, sr := range rep.Steps {
			if sr.Messages != n/2 {
				t.Fatalf("step %d reports %d messages, want %d", sr.Step, sr.Messages, n/2)
			}
		}
		t.Logf("caps %v: %d-byte UID set, %d commands, longest line %d bytes", caps, setBytes, rep.Commands, srv.maxLine)
	}
}

func TestExecuteCreatesMailboxes(t *testing.T) {
	tests := []struct {
		name        string
		delim       string
		optDelim    string
		prefix      string
		existing    []string
		dest        string
		wantCreated []string
		wantBox     string
	}{
		{"dot delimiter, learned from LIST", ".", "", "", nil, "Lists/go-dev", []string{"Lists", "Lists.go-dev"}, "Lists.go-dev"},
		{"slash delimiter", "/", "/", "", nil, "Lists/go/dev", []string{"Lists", "Lists/go", "Lists/go/dev"}, "Lists/go/dev"},
		{"existing parent", ".", ".", "", []string{"Lists"}, "Lists/go-dev", []string{"Lists.go-dev"}, "Lists.go-dev"},
		{"INBOX. prefix", ".", ".", "INBOX.", nil, "Archive/2024", []string{"INBOX.Archive", "INBOX.Archive.2024"}, "INBOX.Archive.2024"},
		{"explicit INBOX path", ".", ".", "INBOX.", nil, "inbox/Sub", []string{"INBOX.Sub"}, "INBOX.Sub"},
		{"existing destination", ".", ".", "", []string{"Archive"}, "Archive", nil, "Archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(3, imap.CapMove, imap.CapUIDPlus)
			srv.delim = tt.delim
			srv.createNeedsParent = true
			for _, name := range tt.existing {
				srv.addBox(name)
			}
			p := NewPlan("INBOX", moveDecisions(tt.dest, 1, 2))
			sub := subscriber{srv}
			rep, err := p.Execute(context.Background(), sub, &Options{Delimiter: tt.optDelim, Prefix: tt.prefix, Subscribe: true})
			if err != nil {
				t.Fatalf("Execute() = %v (commands %q)", err, srv.cmds)
			}
			if !reflect.DeepEqual(rep.Created, tt.wantCreated) {
				t.Fatalf("Report.Created = %q, want %q", rep.Created, tt.wantCreated)
			}
			if !reflect.DeepEqual(srv.subscribed, tt.wantCreated) {
				t.Fatalf("subscribed = %q, want %q", srv.subscribed, tt.wantCreated)
			}
			if got, want := srv.ids(tt.wantBox), []string{"<1@test>", "<2@test>"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("%s = %q, want %q", tt.wantBox, got, want)
			}
			if rep.Steps[0].Mailbox != tt.wantBox {
				t.Fatalf("StepReport.Mailbox = %q, want %q", rep.Steps[0].Mailbox, tt.wantBox)
			}
		})
	}
}

func TestExecuteSubscribeUnsupported(t *testing.T) {
	srv := newFakeServer(1, imap.CapMove)
	p := NewPlan("INBOX", moveDecisions("New", 1))
	rep, err := p.Execute(context.Background(), srv, &Options{Subscribe: true})
	if err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "subscribe") {
		t.Fatalf("warnings = %q, want one about subscribing", rep.Warnings)
	}
}

func TestExecuteTryCreate(t *testing.T) {
	for _, caps := range [][]imap.Cap{{imap.CapMove}, {imap.CapUIDPlus}} {
		srv := newFakeServer(2, caps...)
		srv.listedMissing = []string{"Gone"} // LIST still shows it; COPY/MOVE get NO [TRYCREATE]
		p := NewPlan("INBOX", moveDecisions("Gone", 1))
		rep, err := p.Execute(context.Background(), srv, nil)
		if err != nil {
			t.Fatalf("Execute() = %v", err)
		}
		verb := "UID MOVE"
		if !srv.caps[imap.CapMove] {
			verb = "UID COPY"
		}
		want := []string{`LIST "" "*"`, verb + " 1 Gone", "CREATE Gone", verb + " 1 Gone"}
		if got := srv.cmds[:min(len(srv.cmds), 4)]; !reflect.DeepEqual(got, want) {
			t.Fatalf("commands = %q, want to start with %q", srv.cmds, want)
		}
		if got := srv.ids("Gone"); !reflect.DeepEqual(got, []string{"<1@test>"}) {
			t.Fatalf("Gone = %q, want [<1@test>]", got)
		}
		if !reflect.DeepEqual(rep.Created, []string{"Gone"}) {
			t.Fatalf("Report.Created = %q, want [Gone]", rep.Created)
		}
	}
}

func TestExecuteTryCreateOnce(t *testing.T) {
	srv := newFakeServer(2, imap.CapMove)
	srv.addBox("Stuck")
	srv.fail = func(cmd string) error {
		if strings.HasPrefix(cmd, "UID MOVE") {
			return no("UID MOVE", "TRYCREATE", "still missing")
		}
		return nil
	}
	p := NewPlan("INBOX", moveDecisions("Stuck", 1))
	rep, err := p.Execute(context.Background(), srv, nil)
	if err != nil || len(rep.Failed) != 1 || !imap.IsTryCreate(rep.Failed[0].Err) {
		t.Fatalf("Execute() = %+v, %v, want the NO [TRYCREATE] after one retry as a Failure", rep.Failed, err)
	}
	moves := 0
	for _, c := range srv.cmds {
		if strings.HasPrefix(c, "UID MOVE") {
			moves++
		}
	}
	if moves != 2 {
		t.Fatalf("sent %d UID MOVE, want 2 (one retry): %q", moves, srv.cmds)
	}
}

func TestExecuteTrash(t *testing.T) {
	tests := []struct {
		name      string
		special   map[string]string
		existing  []string
		opts      Options
		source    string
		wantTrash string
		wantWarn  bool
	}{
		{"SPECIAL-USE \\Trash", map[string]string{"Deleted Items": `\Trash`}, []string{"Deleted Items", "Trash"}, Options{}, "INBOX", "Deleted Items", false},
		{"configured", map[string]string{"Deleted Items": `\Trash`}, []string{"Deleted Items", "Bin"}, Options{Trash: "Bin"}, "INBOX", "Bin", false},
		{"default Trash, created", nil, nil, Options{}, "INBOX", "Trash", false},
		{"prefixed Trash exists", nil, []string{"INBOX.Trash"}, Options{Prefix: "INBOX."}, "INBOX", "INBOX.Trash", false},
		{"prefix, default created", nil, nil, Options{Prefix: "INBOX."}, "INBOX", "INBOX.Trash", false},
		{"prefix, unprefixed Trash exists", nil, []string{"Trash"}, Options{Prefix: "INBOX."}, "INBOX", "Trash", false},
		{"source is the Trash", map[string]string{"Trash": `\Trash`}, []string{"Trash"}, Options{}, "Trash", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(0, imap.CapMove, imap.CapUIDPlus)
			for _, name := range tt.existing {
				srv.addBox(name)
			}
			srv.special = tt.special
			if tt.special == nil {
				srv.special = map[string]string{}
			}
			src := srv.boxes[tt.source]
			if src == nil {
				src = srv.addBox(tt.source)
			}
			src.msgs[1] = &fakeMsg{id: "<1@test>", flags: map[string]bool{}}
			srv.selected = tt.source
			p := NewPlan(tt.source, deleteDecisions(1))
			rep, err := p.Execute(context.Background(), srv, &tt.opts)
			if err != nil {
				t.Fatalf("Execute() = %v", err)
			}
			if tt.wantWarn {
				if len(rep.Warnings) != 1 {
					t.Fatalf("warnings = %q, want one", rep.Warnings)
				}
				if got := srv.ids(tt.source); !reflect.DeepEqual(got, []string{"<1@test>"}) {
					t.Fatalf("%s = %q, want the message left in place", tt.source, got)
				}
				for _, c := range srv.cmds {
					if c != `LIST "" "*"` {
						t.Fatalf("sent %q, want only LIST", c)
					}
				}
				return
			}
			if got := srv.ids(tt.wantTrash); !reflect.DeepEqual(got, []string{"<1@test>"}) {
				t.Fatalf("%s = %q, want [<1@test>] (commands %q)", tt.wantTrash, got, srv.cmds)
			}
			if rep.Steps[0].Mailbox != tt.wantTrash {
				t.Fatalf("StepReport.Mailbox = %q, want %q", rep.Steps[0].Mailbox, tt.wantTrash)
			}
		})
	}
}

func TestExecuteSameMailbox(t *testing.T) {
	srv := newFakeServer(2, imap.CapMove, imap.CapUIDPlus)
	ds := moveDecisions("inbox", 1)
	ds = append(ds, decide(2, rules.Result{Matched: []string{"c"}, Copies: []rules.Target{{Mailbox: "INBOX", Rule: "c"}}}))
	p := NewPlan("INBOX", ds)
	rep, err := p.Execute(context.Background(), srv, nil)
	if err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	if len(rep.Warnings) != 2 {
		t.Fatalf("warnings = %q, want 2", rep.Warnings)
	}
	if got, want := srv.ids("INBOX"), []string{"<1@test>", "<2@test>"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("INBOX = %q, want %q", got, want)
	}
}

// TestExecuteResume checks the journal hooks: skipped steps send nothing,
// every other step is reported done, in order, after its commands.
func TestExecuteResume(t *testing.T) {
	srv := newFakeServer(8, imap.CapMove, imap.CapUIDPlus)
	p := NewPlan("INBOX", mixedDecisions(8))
	var done []int
	skip := map[int]bool{0: true, 2: true}
	cmdsAtDone := map[int]int{}
	rep, err := p.Execute(context.Background(), srv, &Options{
		Skip:       func(i int) bool { return skip[i] },
		OnStepDone: func(i int) { done = append(done, i); cmdsAtDone[i] = len(srv.cmds) },
	})
	if err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	if want := []int{1, 3, 4, 5}; !reflect.DeepEqual(done, want) {
		t.Fatalf("OnStepDone calls = %v, want %v", done, want)
	}
	for _, c := range srv.cmds {
		if strings.Contains(c, `\Flagged`) || strings.HasPrefix(c, "UID COPY") {
			t.Fatalf("sent %q for a skipped step", c)
		}
	}
	prev := 0
	for _, sr := range rep.Steps {
		if sr.Skipped != skip[sr.Step] || sr.Done == skip[sr.Step] {
			t.Fatalf("step %d: skipped %v done %v, want skipped %v", sr.Step, sr.Skipped, sr.Done, skip[sr.Step])
		}
		if sr.Done {
			if cmdsAtDone[sr.Step] < prev+sr.Commands {
				t.Fatalf("step %d reported done after %d commands, want after its %d", sr.Step, cmdsAtDone[sr.Step], prev+sr.Commands)
			}
			prev = cmdsAtDone[sr.Step]
		}
	}
}

// TestExecuteFailure: a step the server refuses for its whole set (a
// response code that names the destination or the account) fails those
// messages; the later steps leave them alone and go on with the others.
func TestExecuteFailure(t *testing.T) {
	boom := no("UID COPY", "OVERQUOTA", "Quota exceeded")
	tests := []struct {
		name       string
		caps       []imap.Cap
		failOn     string
		wantStep   int
		wantFailed string
		// wantInbox are the messages left in INBOX.
		wantInbox []string
	}{
		// Steps of mixedDecisions(8): 0 +\Flagged 7:8, 1 +\Seen 1:8, 2 copy 1:2 Backup,
		// 3 move 1:4 Lists/go-dev, 4 delete 5:6, 5 expunge 7:8.
		{"copy step fails", []imap.Cap{imap.CapMove, imap.CapUIDPlus}, "UID COPY 1:2 Backup", 2, "1:2",
			[]string{"<1@test>", "<2@test>"}},
		{"fallback move's copy fails", []imap.Cap{imap.CapUIDPlus}, "UID COPY 1:4 Lists.go-dev", 3, "1:4",
			[]string{"<1@test>", "<2@test>", "<3@test>", "<4@test>"}},
		{"move fails", []imap.Cap{imap.CapMove, imap.CapUIDPlus}, "UID MOVE 5:6 Trash", 4, "5:6",
			[]string{"<5@test>", "<6@test>"}},
		{"expunge fails", []imap.Cap{imap.CapMove, imap.CapUIDPlus}, "UID EXPUNGE 7:8", 5, "7:8",
			[]string{"<7@test> (deleted)", "<8@test> (deleted)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(8, tt.caps...)
			srv.fail = func(cmd string) error {
				if cmd == tt.failOn {
					return boom
				}
				return nil
			}
			p := NewPlan("INBOX", mixedDecisions(8))
			var done []int
			rep, err := p.Execute(context.Background(), srv, &Options{OnStepDone: func(i int) { done = append(done, i) }})
			if err != nil {
				t.Fatalf("Execute() = %v, want nil: a refusal is a Failure in the report", err)
			}
			if len(rep.Failed) != 1 || rep.Failed[0].Step != tt.wantStep || rep.Failed[0].UIDs.String() != tt.wantFailed || !errors.Is(rep.Failed[0].Err, boom) {
				t.Fatalf("Report.Failed = %+v, want step %d UIDs %s with %v", rep.Failed, tt.wantStep, tt.wantFailed, boom)
			}
			if !reflect.DeepEqual(done, []int{0, 1, 2, 3, 4, 5}) {
				t.Fatalf("OnStepDone calls = %v, want every step", done)
			}
			if got := srv.ids("INBOX"); !reflect.DeepEqual(got, tt.wantInbox) {
				t.Fatalf("INBOX = %q, want %q", got, tt.wantInbox)
			}
			if strings.HasPrefix(tt.failOn, "UID COPY") {
				for _, m := range srv.boxes["INBOX"].msgs {
					if m.flags[imap.FlagDeleted] {
						t.Fatalf("message %s marked \\Deleted after a failed copy", m.id)
					}
				}
			}
			checkNothingLost(t, srv, 8, p)
		})
	}
}

func TestExecuteCancelled(t *testing.T) {
	srv := newFakeServer(8, imap.CapMove, imap.CapUIDPlus)
	ctx, cancel := context.WithCancel(context.Background())
	p := NewPlan("INBOX", mixedDecisions(8))
	_, err := p.Execute(ctx, srv, &Options{OnStepDone: func(i int) {
		if i == 1 {
			cancel()
		}
	}})
	var se *StepError
	if !errors.As(err, &se) || se.Step != 2 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute() = %v, want context.Canceled at step 2", err)
	}
}

func TestExecuteBadPlan(t *testing.T) {
	srv := newFakeServer(1, imap.CapMove)
	p := &Plan{Mailbox: "INBOX", Steps: []Step{{Kind: StepMove, Mailbox: "/", UIDs: imap.SeqSetFromNums(1)}}}
	if _, err := p.Execute(context.Background(), srv, nil); err == nil || len(srv.cmds) != 0 {
		t.Fatalf("Execute(move to %q) = %v after %q, want an error before any command", "/", err, srv.cmds)
	}
	p = &Plan{Mailbox: "INBOX", Steps: []Step{{Kind: "frobnicate", UIDs: imap.SeqSetFromNums(1)}}}
	if _, err := p.Execute(context.Background(), srv, nil); err == nil || len(srv.cmds) != 0 {
		t.Fatalf("Execute(unknown kind) = %v after %q, want an error before any command", err, srv.cmds)
	}
}

func TestExecuteEmptyStep(t *testing.T) {
	srv := newFakeServer(1, imap.CapMove)
	p := &Plan{Mailbox: "INBOX", Steps: []Step{{Kind: StepAddFlags, Flags: []string{imap.FlagSeen}}}}
	rep, err := p.Execute(context.Background(), srv, nil)
	if err != nil || len(srv.cmds) != 0 || !rep.Steps[0].Done {
		t.Fatalf("Execute(empty step) = %+v, %v after %q, want done without commands", rep, err, srv.cmds)
	}
}

func TestExecuteLogs(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	srv := newFakeServer(3, imap.CapMove, imap.CapUIDPlus)
	p := NewPlan("INBOX", moveDecisions("Archive", 2, 3))
	if _, err := p.Execute(context.Background(), srv, &Options{Logger: zap.New(core)}); err != nil {
		t.Fatalf("Execute() = %v", err)
	}
	var got []string
	for _, e := range logs.FilterMessage("action").All() {
		m := e.ContextMap()
		got = append(got, fmt.Sprintf("%v %v %v %v %v %v", m["mailbox"], m["action"], m["rule"], m["uid"], m["message_id"], m["destination"]))
	}
	want := []string{"INBOX move [r] 2 <2@test> Archive", "INBOX move [r] 3 <3@test> Archive"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("action logs = %q, want %q", got, want)
	}
}

func TestMailboxName(t *testing.T) {
	tests := []struct {
		path, delim, prefix, want string
	}{
		{"Lists/go-dev", ".", "", "Lists.go-dev"},
		{"Lists/go-dev", "/", "", "Lists/go-dev"},
		{"/Lists//go-dev/", ".", "", "Lists.go-dev"},
		{"Archive/2024", "/", "INBOX/", "INBOX/Archive/2024"},
		{"INBOX/Sub", ".", "INBOX.", "INBOX.Sub"},
		{"inbox", ".", "INBOX.", "INBOX"},
		{"Inbox/Sub", ".", "", "INBOX.Sub"},
		{"INBOX.Archive", ".", "INBOX.", "INBOX.Archive"},
		{"Trash", ".", "INBOX.", "INBOX.Trash"},
		{"Lists/golang.org", ".", "", "Lists.golang.org"},
		{"Flat/Name", "", "", "Flat/Name"},
		{"", ".", "INBOX.", ""},
		{"///", ".", "", ""},
	}
	for _, tt := range tests {
		if got := MailboxName(tt.path, tt.delim, tt.prefix); got != tt.want {
			t.Errorf("MailboxName(%q, %q, %q) = %q, want %q", tt.path, tt.delim, tt.prefix, got, tt.want)
		}
	}
}

func TestParents(t *testing.T) {
	tests := []struct {
		name, delim string
		want        []string
	}{
		{"A.B.C", ".", []string{"A", "A.B"}},
		{"A", ".", nil},
		{"A/B", "/", []string{"A"}},
		{"A/B", "", nil},
		{"INBOX.A", ".", []string{"INBOX"}},
	}
	for _, tt := range tests {
		if got := parents(tt.name, tt.delim); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parents(%q, %q) = %q, want %q", tt.name, tt.delim, got, tt.want)
		}
	}
}

// nopMailbox accepts every command and does nothing, to time Execute's own
// work.
type nopMailbox struct{}

func (nopMailbox) Has(imap.Cap) bool { return true }
func (nopMailbox) UIDStore(context.Context, imap.SeqSet, imap.StoreOp, bool, []string) error {
	return nil
}
func (nopMailbox) UIDCopy(context.Context, imap.SeqSet, string) (*imap.CopyData, error) {
	return nil, nil
}
func (nopMailbox) UIDMove(context.Context, imap.SeqSet, string) (*imap.CopyData, error) {
	return nil, nil
}
func (nopMailbox) UIDExpunge(context.Context, imap.SeqSet) ([]uint32, error) { return nil, nil }
func (nopMailbox) Expunge(context.Context) ([]uint32, error)                 { return nil, nil }
func (nopMailbox) Create(context.Context, string) error                      { return nil }
func (nopMailbox) List(context.Context, string, string) ([]*imap.ListData, error) {
	return nil, nil
}

func BenchmarkExecute(b *testing.B) {
	p := NewPlan("INBOX", mixedDecisions(60000))
	for b.Loop() {
		if _, err := p.Execute(context.Background(), nopMailbox{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExecuteDirectoryListsOnce(t *testing.T) {
	srv := newFakeServer(4, imap.CapMove, imap.CapUIDPlus)
	dir := &Directory{}
	opts := &Options{Directory: dir}
	for _, d := range [][]Decision{moveDecisions("Lists/a", 1), moveDecisions("Lists/a", 2), deleteDecisions(3)} {
		if _, err := NewPlan("INBOX", d).Execute(context.Background(), srv, opts); err != nil {
			t.Fatalf("Execute() = %v", err)
		}
	}
	var lists, creates int
	for _, c := range srv.cmds {
		switch {
		case strings.HasPrefix(c, "LIST"):
			lists++
		case strings.HasPrefix(c, "CREATE"):
			creates++
		}
	}
	// Lists and Lists.a once; Trash exists on the fake server or is created once.
	if lists != 1 || creates > 3 {
		t.Fatalf("three plans sharing a Directory sent %d LIST and %d CREATE, want 1 and at most 3: %q", lists, creates, srv.cmds)
	}
	if got := srv.ids("Lists.a"); !reflect.DeepEqual(got, []string{"<1@test>", "<2@test>"}) {
		t.Fatalf("Lists.a = %q, want <1@test> <2@test>", got)
	}

	// A destination deleted behind the Directory's back is recreated.
	delete(srv.boxes, "Lists.a")
	srv.listedMissing = nil
	if _, err := NewPlan("INBOX", moveDecisions("Lists/a", 4)).Execute(context.Background(), srv, opts); err != nil {
		t.Fatalf("Execute() after the destination was deleted = %v", err)
	}
	if got := srv.ids("Lists.a"); !reflect.DeepEqual(got, []string{"<4@test>"}) {
		t.Fatalf("recreated Lists.a = %q, want <4@test>", got)
	}
}

// TestExecuteCopyFlagsWithoutCopyUID: a server that names no UIDs of the
// copies (no COPYUID) leaves them with the source's flags, with a warning,
// and nothing else is sent for them.
func TestExecuteCopyFlagsWithoutCopyUID(t *testing.T) {
	s := newFakeServer(2)
	s.addBox("Starred")
	s.boxes["INBOX"].msgs[1].flags[`\Answered`] = true
	p := NewPlan("INBOX", []Decision{
		{UID: 1, Result: rules.Result{Matched: []string{"s"}, Copies: []rules.Target{{Mailbox: "Starred", Rule: "s", OwnFlags: true, Flags: []string{`\Flagged`}}}}},
	})
	rep, err := p.Execute(t.Context(), s, nil)
	if err != nil {
		t.Fatalf("Execute = %v", err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "keep the source's flags") {
		t.Errorf("Execute warnings = %q, want one about the copies' flags", rep.Warnings)
	}
	for _, cmd := range s.cmds {
		if strings.Contains(cmd, "STORE") {
			t.Errorf("Execute sent %q", cmd)
		}
	}
	if got := s.boxes["Starred"].msgs[1]; got == nil || !got.flags[`\Answered`] || got.flags[`\Flagged`] {
		t.Errorf("copy in Starred = %+v, want the source's flags", got)
	}
}

// copyUIDServer is the inspecting fake with UIDPLUS: UID COPY answers
// with COPYUID (RFC 4315 section 3).
type copyUIDServer struct{ *inspecting }

func (s copyUIDServer) UIDCopy(ctx context.Context, uids imap.SeqSet, dest string) (*imap.CopyData, error) {
	if err := s.record(fmt.Sprintf("UID COPY %s %s", uids, dest)); err != nil {
		return nil, err
	}
	first := uint32(0)
	if d := s.boxes[dest]; d != nil {
		first = d.nextUID
	}
	_, copied, err := s.copyTo(uids, dest)
	if err != nil || len(copied) == 0 {
		return nil, err
	}
	dst := make([]uint32, len(copied))
	for i := range dst {
		dst[i] = first + uint32(i)
	}
	return &imap.CopyData{UIDValidity: 1, SourceUIDs: imap.SeqSetFromNums(copied...), DestUIDs: imap.SeqSetFromNums(dst...)}, nil
}

// TestExecuteCopyFlags: copies with flags of their own get them in the
// destination, by the UIDs COPYUID named, after every step; the source is
// selected again and keeps its flags.
func TestExecuteCopyFlags(t *testing.T) {
	s := copyUIDServer{newInspecting(3, imap.CapUIDPlus)}
	a := s.addBox("A")
	a.nextUID = 10
	s.boxes["INBOX"].msgs[1].flags[`\Answered`] = true
	own := rules.Target{Mailbox: "A", Rule: "s", OwnFlags: true, Flags: []string{`\Flagged`}}
	p := NewPlan("INBOX", []Decision{
		{UID: 1, Result: rules.Result{Matched: []string{"s"}, Copies: []rules.Target{own}}},
		{UID: 2, Result: rules.Result{Matched: []string{"s"}, Copies: []rules.Target{{Mailbox: "A", Rule: "s"}}}},
		{UID: 3, Result: rules.Result{Matched: []string{"s"}, Copies: []rules.Target{own}}},
	})
	rep, err := p.Execute(t.Context(), s, &Options{UIDValidity: 1})
	if err != nil {
		t.Fatalf("Execute = %v", err)
	}
	if len(rep.Warnings) > 0 {
		t.Errorf("Execute warnings = %q", rep.Warnings)
	}
	want := []string{"UID COPY 1:3 A", "SELECT A", `UID STORE 10,12 FLAGS.SILENT (\Flagged)`, "SELECT INBOX"}
	if got := s.cmds[len(s.cmds)-len(want):]; !reflect.DeepEqual(got, want) {
		t.Errorf("commands = %q, want them to end with %q", s.cmds, want)
	}
	if s.selected != "INBOX" {
		t.Errorf("selected %q after Execute, want INBOX", s.selected)
	}
	for uid, want := range map[uint32]string{10: `\Flagged`, 11: ``, 12: `\Flagged`} {
		var flags []string
		for f := range a.msgs[uid].flags {
			flags = append(flags, f)
		}
		if got := strings.Join(flags, " "); got != want {
			t.Errorf("copy %d in A has flags %q, want %q", uid, got, want)
		}
	}
	if m := s.boxes["INBOX"].msgs[1]; !m.flags[`\Answered`] || m.flags[`\Flagged`] {
		t.Errorf("source 1 has flags %v, want its own", m.flags)
	}
}
