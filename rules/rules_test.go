package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/internal/diag"
)

func bptr(b bool) *bool { return &b }

func mustCompile(t testing.TB, specs []Spec) *Set {
	t.Helper()
	set, err := Compile(specs)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return set
}

func TestNeeds(t *testing.T) {
	tests := []struct {
		name string
		when string
		move string
		want Needs
	}{
		{"subject only", `subject contains "x"`, "", Needs{Headers: []string{"SUBJECT"}}},
		{"constant header", `header("X-Spam-Flag") == "YES" && hasHeader("list-unsubscribe")`, "",
			Needs{Headers: []string{"LIST-UNSUBSCRIBE", "X-SPAM-FLAG"}}},
		{"variable header name", `header(lower("X-" + subject)) != ""`, "", Needs{Headers: []string{"SUBJECT"}, AllHeaders: true}},
		{"addresses", `len(recipients) > 3 || any(replyTo, .domain == "x")`, "", Needs{Headers: []string{"BCC", "CC", "REPLY-TO", "TO"}}},
		{"spam score", `spamScore() > 5`, "", Needs{Headers: []string{"X-RSPAMD-SCORE", "X-SPAM-SCORE", "X-SPAM-STATUS"}}},
		{"flags and size", `!seen && size > mb(1)`, "", Needs{Flags: true, Size: true}},
		{"dates", `age > days(3) || olderThan("1w")`, "", Needs{InternalDate: true}},
		{"date header", `date.Year() < 2000`, "", Needs{Headers: []string{"DATE"}}},
		{"body", `body contains "unsubscribe"`, "", Needs{Body: true}},
		{"attachments", `len(attachments) > 0`, "", Needs{Body: true}},
		{"template counts", `true`, "Lists/{listName}/{internalDate.Year()}", Needs{Headers: []string{"LIST-ID"}, InternalDate: true}},
		{"nothing", `mailbox == "INBOX" && uid > 0 && account != "" && now.Year() > 2000`, "", Needs{}},
		{"let shadows nothing", `let s = subject; s != ""`, "", Needs{Headers: []string{"SUBJECT"}}},
	}
	for _, tc := range tests {
		sp := Spec{Name: tc.name, When: tc.when, Move: tc.move, Stop: true}
		set := mustCompile(t, []Spec{sp})
		got := set.Needs()
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Needs() = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestSubjectOnlyFetchesNothingElse is the promise that a rule set reading
// only the subject costs only the Subject header.
func TestSubjectOnlyFetchesNothingElse(t *testing.T) {
	set := mustCompile(t, []Spec{
		{Name: "a", When: `subject matches "(?i)invoice"`, Move: "Invoices"},
		{Name: "b", When: `icontains(subject, "newsletter")`, Flag: []string{"$News"}},
	})
	want := Needs{Headers: []string{"SUBJECT"}}
	if got := set.Needs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Needs() = %+v, want %+v", got, want)
	}
}

func TestEvaluateSemantics(t *testing.T) {
	specs := []Spec{
		{Name: "flag lists", When: `listId != ""`, Flag: []string{"$List", `\flagged`}},
		{Name: "copy all", When: `true`, Copy: []string{"Backup", "Backup"}},
		{Name: "unflag", When: `listId != ""`, Unflag: []string{`\Flagged`}, Seen: bptr(true)},
		{Name: "spam", When: `spamScore() > 5`, Move: "Junk"},
		{Name: "after final", When: `true`, Move: "Never"},
	}
	set := mustCompile(t, specs)
	msg := loadMessage(t, "list.eml") // spam score 6.2, has List-Id
	got := set.Evaluate(msg, testNow)
	want := Result{
		Matched:     []string{"flag lists", "copy all", "unflag", "spam"},
		AddFlags:    []FlagChange{{"$List", "flag lists"}, {`\Seen`, "unflag"}},
		RemoveFlags: []FlagChange{{`\Flagged`, "unflag"}},
		Copies:      []Target{{Mailbox: "Backup", Rule: "copy all"}},
		Final:       &Final{Kind: FinalMove, Mailbox: "Junk", Rule: "spam"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Evaluate = %+v\nwant       %+v", got, want)
	}
	if s := got.String(); s != `flag $List; flag \Seen; unflag \Flagged; copy Backup; move Junk` {
		t.Errorf("Result.String() = %q", s)
	}
}

func TestEvaluateStopScopeAndFinals(t *testing.T) {
	tests := []struct {
		name  string
		specs []Spec
		isNew bool
		want  Result
	}{
		{"stop ends processing",
			[]Spec{{Name: "s", When: `true`, Flag: []string{"$A"}, Stop: true}, {Name: "t", When: `true`, Move: "X"}},
			true, Result{Matched: []string{"s"}, AddFlags: []FlagChange{{"$A", "s"}}}},
		{"delete is final",
			[]Spec{{Name: "d", When: `true`, Delete: true}, {Name: "t", When: `true`, Flag: []string{"$A"}}},
			true, Result{Matched: []string{"d"}, Final: &Final{Kind: FinalDelete, Rule: "d"}}},
		{"expunge is final",
			[]Spec{{Name: "e", When: `true`, Expunge: true}},
			true, Result{Matched: []string{"e"}, Final: &Final{Kind: FinalExpunge, Rule: "e"}}},
		{"scope new skips old mail",
			[]Spec{{Name: "n", When: `true`, Move: "X"}, {Name: "a", When: `true`, Scope: ScopeAll, Move: "Y"}},
			false, Result{Matched: []string{"a"}, Final: &Final{Kind: FinalMove, Mailbox: "Y", Rule: "a"}}},
		{"false condition",
			[]Spec{{Name: "f", When: `subject == "nope"`, Move: "X"}},
			true, Result{}},
		{"move to the same mailbox is ignored but final",
			[]Spec{{Name: "same", When: `true`, Move: "inbox"}, {Name: "t", When: `true`, Move: "X"}},
			true, Result{Matched: []string{"same"}}},
		{"copy to the same mailbox is dropped",
			[]Spec{{Name: "c", When: `true`, Copy: []string{"INBOX", "Other"}}},
			true, Result{Matched: []string{"c"}, Copies: []Target{{Mailbox: "Other", Rule: "c"}}}},
	}
	for _, tc := range tests {
		set := mustCompile(t, tc.specs)
		msg := loadMessage(t, "list.eml")
		msg.New = tc.isNew
		if got := set.Evaluate(msg, testNow); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Evaluate = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestEvaluateErrorsAndTemplates(t *testing.T) {
	specs := []Spec{
		{Name: "index out of range", When: `to[5].addr == "x"`, Move: "X"},
		{Name: "empty expansion", When: `true`, Move: "Lists/{listId}"},
		{Name: "slash in value", When: `true`, Copy: []string{"By/{from[0].addr + \"/x\"}"}},
		{Name: "year", When: `true`, Copy: []string{"Archive/{internalDate.Year()}/{{raw}}"}},
		{Name: "template runtime error", When: `true`, Move: "X/{to[3].addr}"},
		{Name: "list", When: `true`, Move: "Lists/{listName}"},
	}
	set := mustCompile(t, specs)
	msg := loadMessage(t, "charsets.eml") // no List-Id, two To addresses
	got := set.Evaluate(msg, testNow)
	if want := []string{"slash in value", "year"}; !reflect.DeepEqual(got.Matched, want) {
		t.Errorf("Matched = %q, want %q", got.Matched, want)
	}
	if want := []Target{{Mailbox: "By/Ivan@example.ru_x", Rule: "slash in value"}, {Mailbox: "Archive/2023/{raw}", Rule: "year"}}; !reflect.DeepEqual(got.Copies, want) {
		t.Errorf("Copies = %+v, want %+v", got.Copies, want)
	}
	// "list" is true but listName is empty: its move cannot expand, so it is an error.
	var names []string
	for _, err := range got.Errors {
		var ee *EvalError
		if !errors.As(err, &ee) {
			t.Fatalf("error %v is not an *EvalError", err)
		}
		names = append(names, ee.Rule)
	}
	if want := []string{"index out of range", "empty expansion", "template runtime error", "list"}; !reflect.DeepEqual(names, want) {
		t.Errorf("errors from %q, want %q (%v)", names, want, got.Errors)
	}
	if msg := got.Errors[0].Error(); msg != `rule "index out of range": when: index out of range: 5 (array length is 2) (column 3)` {
		t.Errorf("Errors[0] = %q", msg)
	}
	if got.Final != nil {
		t.Errorf("Final = %+v, want nil", got.Final)
	}
}

func TestFor(t *testing.T) {
	set := mustCompile(t, []Spec{
		{Name: "all", When: `true`, Flag: []string{"$A"}},
		{Name: "work", When: `subject != ""`, Flag: []string{"$W"}, Accounts: []string{"work"}},
		{Name: "lists box", When: `listId != ""`, Flag: []string{"$L"}, Mailboxes: []string{"Lists"}, Scope: ScopeAll},
		{Name: "inbox", When: `size > 0`, Flag: []string{"$I"}, Mailboxes: []string{"INBOX"}},
	})
	tests := []struct {
		account, mailbox string
		names            []string
		all              bool
		needs            Needs
	}{
		{"home", "INBOX", []string{"all", "inbox"}, false, Needs{Size: true}},
		{"work", "inbox", []string{"all", "work", "inbox"}, false, Needs{Headers: []string{"SUBJECT"}, Size: true}},
		{"work", "Lists", []string{"all", "work", "lists box"}, true, Needs{Headers: []string{"LIST-ID", "SUBJECT"}}},
	}
	for _, tc := range tests {
		sub := set.For(tc.account, tc.mailbox)
		if got := sub.Names(); !reflect.DeepEqual(got, tc.names) {
			t.Errorf("For(%q, %q).Names() = %q, want %q", tc.account, tc.mailbox, got, tc.names)
		}
		if sub.Len() != len(tc.names) || sub.HasScopeAll() != tc.all {
			t.Errorf("For(%q, %q): Len %d HasScopeAll %v, want %d %v", tc.account, tc.mailbox, sub.Len(), sub.HasScopeAll(), len(tc.names), tc.all)
		}
		if got := sub.Needs(); !reflect.DeepEqual(got, tc.needs) {
			t.Errorf("For(%q, %q).Needs() = %+v, want %+v", tc.account, tc.mailbox, got, tc.needs)
		}
	}
}

// fakeLocator places every field on line 10 of x.toml, value at column 20.
type fakeLocator struct{}

func (fakeLocator) Locate(field string, index, offset int) (diag.Position, bool) {
	return diag.Position{File: "x.toml", Line: 10 + index, Col: 20 + offset}, true
}

func TestCompileProblems(t *testing.T) {
	pos := diag.Position{File: "x.toml", Line: 3, Col: 1}
	tests := []struct {
		spec Spec
		want string
	}{
		{Spec{When: `true`, Move: "X"}, `x.toml:3:1: rule #1 has no name`},
		{Spec{Name: "r", Move: "X"}, `x.toml:3:1: rule "r": missing when (the condition); use when = 'true' to match every message`},
		{Spec{Name: "r", When: `true`}, `x.toml:3:1: rule "r": no action: give move, copy, flag, unflag, seen, delete, expunge or stop`},
		{Spec{Name: "r", When: `true`, Move: "X", Delete: true}, `x.toml:3:1: rule "r": at most one of move, delete and expunge (has move, delete)`},
		{Spec{Name: "r", When: `subjcet == "x"`, Stop: true}, `x.toml:10:20: rule "r": when: unknown name "subjcet"; did you mean "subject"?`},
		{Spec{Name: "r", When: `size > "big"`, Stop: true}, `x.toml:10:25: rule "r": when: invalid operation: > (mismatched types int and string)`},
		{Spec{Name: "r", When: `subject`, Stop: true}, `x.toml:10:20: rule "r": when: the condition must be true or false: expected bool, but got string`},
		{Spec{Name: "r", When: `subject matches "(unclosed"`, Stop: true}, "x.toml:10:28: rule \"r\": when: error parsing regexp: missing closing ): `(unclosed`"},
		{Spec{Name: "r", When: `subject()`, Stop: true}, `x.toml:10:20: rule "r": when: subject is a value, not a function: write subject without ()`},
		{Spec{Name: "r", When: `header("Bad Name") != ""`, Stop: true}, `x.toml:10:27: rule "r": when: header("Bad Name"): not a valid header field name`},
		{Spec{Name: "r", When: `olderThan("3 days")`, Stop: true}, `x.toml:10:30: rule "r": when: olderThan: bad duration "3 days": unknown unit ' ' (use s, m, h, d, w, y)`},
		{Spec{Name: "r", When: `true &&`, Stop: true}, `x.toml:10:26: rule "r": when: unexpected token EOF`},
		{Spec{Name: "r", When: `true`, Move: "Lists/{listNam}"}, `x.toml:10:27: rule "r": move: unknown name "listNam"; did you mean "listName"?`},
		{Spec{Name: "r", When: `true`, Move: "Lists/{listName"}, `x.toml:10:26: rule "r": move: unclosed { in "Lists/{listName"`},
		{Spec{Name: "r", When: `true`, Move: "Lists//x"}, `x.toml:10:20: rule "r": move "Lists//x": empty path segment (leading, trailing or double /)`},
		{Spec{Name: "r", When: `true`, Copy: []string{"A", "/B"}}, `x.toml:11:20: rule "r": copy "/B": empty path segment (leading, trailing or double /)`},
		{Spec{Name: "r", When: `true`, Flag: []string{`\Deleted`}}, `x.toml:10:20: rule "r": flag: \Deleted cannot be set by a rule; use delete = true (to Trash) or expunge = true`},
		{Spec{Name: "r", When: `true`, Flag: []string{`\Important`}}, `x.toml:10:20: rule "r": flag: unknown system flag "\\Important" (want \Seen, \Answered, \Flagged, \Draft or a keyword without \)`},
		{Spec{Name: "r", When: `true`, Flag: []string{"two words"}}, `x.toml:10:20: rule "r": flag: flag "two words": keywords are ASCII atoms without spaces or any of (){%*"\]`},
		{Spec{Name: "r", When: `true`, Flag: []string{"$A"}, Unflag: []string{"$A"}}, `x.toml:3:1: rule "r": flag $A is both added and removed`},
		{Spec{Name: "r", When: `true`, Stop: true, Scope: "old"}, `x.toml:10:20: rule "r": scope "old": want "new" or "all"`},
	}
	for _, tc := range tests {
		tc.spec.Pos = pos
		tc.spec.Loc = fakeLocator{}
		_, err := Compile([]Spec{tc.spec})
		var ps diag.Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Errorf("Compile(%+v) = %v, want diag.Problems", tc.spec, err)
			continue
		}
		if got := ps[0].String(); got != tc.want {
			t.Errorf("Compile(when %q move %q): %s\n                                want %s", tc.spec.When, tc.spec.Move, got, tc.want)
		}
	}
}

func TestCompileReportsEverything(t *testing.T) {
	_, err := Compile([]Spec{
		{Name: "a", When: `subjet == ""`, Move: "X"},
		{Name: "a", When: `true`, Move: "Y"},
		{Name: "c", When: `frm`, Move: "{sizee}"},
	})
	var ps diag.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Compile = %v, want diag.Problems", err)
	}
	if len(ps) != 4 {
		t.Fatalf("Compile reported %d problems, want 4:\n%v", len(ps), err)
	}
	if !strings.Contains(ps.Error(), "duplicate rule name") {
		t.Errorf("problems %q do not mention the duplicate name", ps.Error())
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	set := mustCompile(t, []Spec{{Name: "l", When: `listId != ""`, Move: "Lists/{listName}"}})
	msgs := []*Message{loadMessage(t, "list.eml"), loadMessage(t, "charsets.eml")}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 200; i++ {
				r0 := set.Evaluate(msgs[0], time.Time{})
				r1 := set.Evaluate(msgs[1], time.Time{})
				ok = ok && r0.Final != nil && r0.Final.Mailbox == "Lists/golang-nuts" && r1.Final == nil
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Fatal("concurrent Evaluate gave a wrong result")
		}
	}
}

func TestResultHasActions(t *testing.T) {
	for _, tc := range []struct {
		res  Result
		want bool
	}{
		{Result{}, false},
		{Result{Matched: []string{"r"}, Errors: []error{&EvalError{Rule: "x"}}}, false},
		{Result{AddFlags: []FlagChange{{Flag: `\Seen`}}}, true},
		{Result{RemoveFlags: []FlagChange{{Flag: `\Seen`}}}, true},
		{Result{Copies: []Target{{Mailbox: "Backup"}}}, true},
		{Result{Final: &Final{Kind: FinalDelete}}, true},
	} {
		if got := tc.res.HasActions(); got != tc.want {
			t.Errorf("%+v.HasActions() = %v, want %v", tc.res, got, tc.want)
		}
	}
}
