package actions

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/rules"
)

// stepSummary is a Step in a form easy to write in a table.
type stepSummary struct {
	Kind    StepKind
	Flags   string
	Mailbox string
	UIDs    string
	Causes  string // "rule=uids;rule=uids"
}

func summarize(steps []Step) []stepSummary {
	out := []stepSummary{}
	for _, st := range steps {
		var causes []string
		for _, c := range st.Causes {
			causes = append(causes, c.Rule+"="+c.UIDs.String())
		}
		out = append(out, stepSummary{st.Kind, strings.Join(st.Flags, " "), st.Mailbox, st.UIDs.String(), strings.Join(causes, ";")})
	}
	return out
}

func add(rule string, flags ...string) []rules.FlagChange {
	var fcs []rules.FlagChange
	for _, f := range flags {
		fcs = append(fcs, rules.FlagChange{Flag: f, Rule: rule})
	}
	return fcs
}

func moveTo(rule, mailbox string) *rules.Final {
	return &rules.Final{Kind: rules.FinalMove, Mailbox: mailbox, Rule: rule}
}

func TestNewPlan(t *testing.T) {
	seen := func(uid uint32, rule string) Decision {
		return Decision{UID: uid, Result: rules.Result{Matched: []string{rule}, AddFlags: add(rule, `\Seen`)}}
	}
	tests := []struct {
		name      string
		decisions []Decision
		want      []stepSummary
	}{
		{
			name: "nothing",
			decisions: []Decision{
				{UID: 1},
				{UID: 2, Result: rules.Result{Matched: []string{"stop only"}}},
			},
			want: []stepSummary{},
		},
		{
			name:      "one flag for many messages is one step",
			decisions: []Decision{seen(1, "r"), seen(2, "r"), seen(3, "r"), seen(7, "other")},
			want:      []stepSummary{{StepAddFlags, `\Seen`, "", "1:3,7", "other=7;r=1:3"}},
		},
		{
			name: "flags on the same messages share a step; others get their own",
			decisions: []Decision{
				{UID: 1, Result: rules.Result{Matched: []string{"a"}, AddFlags: add("a", `\Seen`, `\Flagged`)}},
				{UID: 2, Result: rules.Result{Matched: []string{"a"}, AddFlags: add("a", `\seen`, `\flagged`, "$Junk")}},
			},
			want: []stepSummary{
				{StepAddFlags, "$Junk", "", "2", "a=2"},
				{StepAddFlags, `\Flagged \Seen`, "", "1:2", "a=1:2"},
			},
		},
		{
			name: "a later rule's change of the same flag wins",
			decisions: []Decision{
				{UID: 1, Result: rules.Result{Matched: []string{"flag", "unflag"}, AddFlags: add("flag", `\Flagged`), RemoveFlags: add("unflag", `\Flagged`)}},
				{UID: 2, Result: rules.Result{Matched: []string{"unflag", "flag"}, AddFlags: add("flag", `\Flagged`), RemoveFlags: add("unflag", `\Flagged`)}},
			},
			want: []stepSummary{
				{StepAddFlags, `\Flagged`, "", "2", "flag=2"},
				{StepRemoveFlags, `\Flagged`, "", "1", "unflag=1"},
			},
		},
		{
			name: "order: flags, copies, moves, delete, expunge",
			decisions: []Decision{
				{UID: 5, Result: rules.Result{Matched: []string{"purge"}, Final: &rules.Final{Kind: rules.FinalExpunge, Rule: "purge"}}},
				{UID: 4, Result: rules.Result{Matched: []string{"spam"}, Final: &rules.Final{Kind: rules.FinalDelete, Rule: "spam"}}},
				{UID: 3, Result: rules.Result{Matched: []string{"lists"}, Final: moveTo("lists", "Lists/go-dev")}},
				{UID: 2, Result: rules.Result{Matched: []string{"keep"}, Copies: []rules.Target{{Mailbox: "Backup", Rule: "keep"}}}},
				{UID: 1, Result: rules.Result{Matched: []string{"read"}, RemoveFlags: add("read", `\Seen`)}},
				{UID: 6, Result: rules.Result{Matched: []string{"read", "archive"}, AddFlags: add("read", `\Seen`), Final: moveTo("archive", "Archive")}},
			},
			want: []stepSummary{
				{StepAddFlags, `\Seen`, "", "6", "read=6"},
				{StepRemoveFlags, `\Seen`, "", "1", "read=1"},
				{StepCopy, "", "Backup", "2", "keep=2"},
				{StepMove, "", "Archive", "6", "archive=6"},
				{StepMove, "", "Lists/go-dev", "3", "lists=3"},
				{StepDelete, "", "", "4", "spam=4"},
				{StepExpunge, "", "", "5", "purge=5"},
			},
		},
		{
			name: "copies to one destination merge; one copy per destination",
			decisions: []Decision{
				{UID: 1, Result: rules.Result{Matched: []string{"a", "b"}, Copies: []rules.Target{{Mailbox: "X", Rule: "a"}, {Mailbox: "X", Rule: "b"}, {Mailbox: "Y", Rule: "b"}}}},
				{UID: 2, Result: rules.Result{Matched: []string{"a"}, Copies: []rules.Target{{Mailbox: "X", Rule: "a"}}}},
			},
			want: []stepSummary{
				{StepCopy, "", "X", "1:2", "a=1:2;b=1"},
				{StepCopy, "", "Y", "1", "b=1"},
			},
		},
		{
			name: "a UID decided twice keeps its first final action",
			decisions: []Decision{
				{UID: 1, Result: rules.Result{Matched: []string{"a"}, Final: moveTo("a", "A")}},
				{UID: 1, Result: rules.Result{Matched: []string{"b"}, Final: moveTo("b", "B")}},
			},
			want: []stepSummary{{StepMove, "", "A", "1", "a=1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlan("INBOX", tt.decisions)
			if got := summarize(p.Steps); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("NewPlan steps =\n%+v\nwant\n%+v", got, tt.want)
			}
			if p.Mailbox != "INBOX" {
				t.Fatalf("NewPlan mailbox = %q, want INBOX", p.Mailbox)
			}
		})
	}
}

func TestNewPlanMessages(t *testing.T) {
	p := NewPlan("INBOX", []Decision{
		{UID: 9, MessageID: "<9@x>", From: "nine@x", Subject: "nine", Result: rules.Result{Matched: []string{"r"}, Final: moveTo("r", "A")}},
		{UID: 3, MessageID: "<3@x>", From: "three@x", Subject: "three", Result: rules.Result{Matched: []string{"r"}, AddFlags: add("r", `\Seen`)}},
		{UID: 5, MessageID: "<5@x>", Result: rules.Result{}},
	})
	want := []Message{{3, "<3@x>", &MessageDetails{"three@x", "three"}}, {9, "<9@x>", &MessageDetails{"nine@x", "nine"}}}
	if !reflect.DeepEqual(p.Messages, want) {
		t.Fatalf("NewPlan messages = %+v, want %+v", p.Messages, want)
	}
	if got := p.message(9); got.MessageID != "<9@x>" {
		t.Fatalf("message(9) = %+v, want Message-ID <9@x>", got)
	}
	if got := p.message(4); !reflect.DeepEqual(got, Message{UID: 4}) {
		t.Fatalf("message(4) = %+v, want only the UID", got)
	}
}

// TestNewPlanSizeIndependent checks that the number of steps depends on the
// kinds of actions and destinations, not on the number of messages.
func TestNewPlanSizeIndependent(t *testing.T) {
	for _, n := range []int{10, 5000, 50000} {
		p := NewPlan("INBOX", mixedDecisions(n))
		if got, want := len(p.Steps), 6; got != want {
			t.Fatalf("NewPlan(%d decisions) has %d steps, want %d: %+v", n, got, want, summarize(p.Steps))
		}
	}
}

// mixedDecisions returns n decisions for UIDs 1..n: all marked \Seen, the
// first quarter copied to Backup, the first half moved to Lists/go-dev, the
// third quarter deleted, the rest flagged \Flagged and expunged.
func mixedDecisions(n int) []Decision {
	ds := make([]Decision, 0, n)
	for i := 1; i <= n; i++ {
		r := rules.Result{Matched: []string{"read"}, AddFlags: add("read", `\Seen`)}
		switch {
		case i <= n/4:
			r.Matched = append(r.Matched, "backup", "lists")
			r.Copies = []rules.Target{{Mailbox: "Backup", Rule: "backup"}}
			r.Final = moveTo("lists", "Lists/go-dev")
		case i <= n/2:
			r.Matched = append(r.Matched, "lists")
			r.Final = moveTo("lists", "Lists/go-dev")
		case i <= 3*n/4:
			r.Matched = append(r.Matched, "spam")
			r.Final = &rules.Final{Kind: rules.FinalDelete, Rule: "spam"}
		default:
			r.Matched = append(r.Matched, "purge")
			r.AddFlags = append(r.AddFlags, add("purge", `\Flagged`)...)
			r.Final = &rules.Final{Kind: rules.FinalExpunge, Rule: "purge"}
		}
		ds = append(ds, Decision{UID: uint32(i), Result: r, MessageID: fmt.Sprintf("<%d@test>", i)})
	}
	return ds
}

func TestPlanJSONRoundTrip(t *testing.T) {
	p := NewPlan("INBOX", mixedDecisions(40))
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("json.Marshal(plan) = %v", err)
	}
	var back Plan
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", data, err)
	}
	if !reflect.DeepEqual(summarize(back.Steps), summarize(p.Steps)) || !reflect.DeepEqual(back.Messages, p.Messages) || back.Mailbox != p.Mailbox {
		t.Fatalf("plan after JSON round trip =\n%+v\nwant\n%+v", back, *p)
	}
}

func TestStepString(t *testing.T) {
	p := NewPlan("INBOX", mixedDecisions(8))
	var got []string
	for i := range p.Steps {
		got = append(got, p.Steps[i].String())
	}
	want := []string{
		`add \Flagged to 2 messages`,
		`add \Seen to 8 messages`,
		`copy 2 messages to "Backup"`,
		`move 4 messages to "Lists/go-dev"`,
		`delete 2 messages (move to Trash)`,
		`expunge 2 messages permanently`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Step.String() = %q, want %q", got, want)
	}
}

func BenchmarkNewPlan(b *testing.B) {
	ds := mixedDecisions(60000)
	b.ResetTimer()
	for b.Loop() {
		NewPlan("INBOX", ds)
	}
}

// TestPlanCopyFlags checks that copies with flags of their own are
// grouped per destination and flag set, and survive the journal's JSON.
func TestPlanCopyFlags(t *testing.T) {
	d := func(uid uint32, targets ...rules.Target) Decision {
		return Decision{UID: uid, Result: rules.Result{Matched: []string{"s"}, Copies: targets}}
	}
	p := NewPlan("INBOX", []Decision{
		d(1, rules.Target{Mailbox: "A", Rule: "s", OwnFlags: true, Flags: []string{`\flagged`, "x"}}),
		d(2, rules.Target{Mailbox: "A", Rule: "s"}),
		d(3, rules.Target{Mailbox: "A", Rule: "s", OwnFlags: true, Flags: []string{"x", `\Flagged`}}, rules.Target{Mailbox: "B", Rule: "s", OwnFlags: true}),
	})
	if len(p.Steps) != 2 {
		t.Fatalf("NewPlan: %d steps, want 2: %+v", len(p.Steps), p.Steps)
	}
	got, err := json.Marshal(p.Steps)
	if err != nil {
		t.Fatal(err)
	}
	var back []Step
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`copy 3 messages to "A", 2 of them with flags \Flagged x`,
		`copy 1 message to "B", 1 of them with flags none`,
	}
	for i := range back {
		if s := back[i].String(); s != want[i] {
			t.Errorf("step %d after JSON = %q, want %q", i, s, want[i])
		}
	}
	if s := back[0].CopyFlags[0].UIDs.String(); s != "1,3" {
		t.Errorf("copy flags UIDs = %s, want 1,3", s)
	}
}
