package rules

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOnEvents(t *testing.T) {
	set := mustCompile(t, []Spec{
		{Name: "arrive", When: `true`, Flag: []string{"$A"}},
		{Name: "flagged", When: `flagged`, On: []string{"flags"}, Flag: []string{"$Done"}},
		{Name: "both", When: `subject == "x"`, On: []string{"arrival", "flags"}, Flag: []string{"$B"}},
		{Name: "sweep", When: `seen`, Scope: ScopeAll, Flag: []string{"$S"}},
	})
	if !set.HasFlagRules() {
		t.Fatalf("HasFlagRules() = false, want true")
	}
	if got, want := set.FlagNeeds().Headers, []string{"SUBJECT"}; !slices.Equal(got, want) {
		t.Errorf("FlagNeeds().Headers = %v, want %v", got, want)
	}
	if !set.FlagNeeds().Flags {
		t.Errorf("FlagNeeds().Flags = false, want true")
	}
	header := []byte("Subject: x\r\n\r\n")
	tests := []struct {
		name string
		msg  Message
		want []string
	}{
		{"new mail", Message{New: true, Flags: []string{`\Flagged`, `\Seen`}, Header: header}, []string{"arrive", "both", "sweep"}},
		{"old mail in a sweep", Message{Flags: []string{`\Flagged`, `\Seen`}, Header: header}, []string{"sweep"}},
		{"flag change", Message{FlagsChanged: true, Flags: []string{`\Flagged`, `\Seen`}, Header: header}, []string{"flagged", "both"}},
		{"flag change, not flagged", Message{FlagsChanged: true, Flags: []string{`\Seen`}}, nil},
	}
	for _, tt := range tests {
		res := set.Evaluate(&tt.msg, time.Now())
		if !slices.Equal(res.Matched, tt.want) {
			t.Errorf("%s: Evaluate().Matched = %v, want %v", tt.name, res.Matched, tt.want)
		}
	}
	if arrivalOnly := mustCompile(t, []Spec{{Name: "a", When: `true`, Flag: []string{"$A"}}}); arrivalOnly.HasFlagRules() {
		t.Errorf("HasFlagRules() without on = true, want false")
	}
	// A rule on flags alone adds nothing to what arrival passes fetch.
	onlyFlags := mustCompile(t, []Spec{{Name: "f", When: `header("List-Id") != ""`, On: []string{"flags"}, Seen: new(bool)}})
	if got := onlyFlags.Needs().Headers; len(got) != 0 {
		t.Errorf("Needs().Headers with a flags-only rule = %v, want none", got)
	}
}

func TestOnProblems(t *testing.T) {
	tests := []struct {
		on    []string
		scope Scope
		want  string
	}{
		{[]string{"flagz"}, "", `unknown event "flagz"; want "arrival" or "flags"; did you mean "flags"?`},
		{[]string{"flags", "flags"}, "", `"flags" given twice`},
		{[]string{}, "", `on: empty`},
		{[]string{"flags"}, ScopeAll, `scope = "all" widens arrival passes`},
	}
	for _, tt := range tests {
		_, err := Compile([]Spec{{Name: "r", When: `true`, On: tt.on, Scope: tt.scope, Flag: []string{"$X"}}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compile(on = %q, scope %q) = %v, want an error containing %q", tt.on, tt.scope, err, tt.want)
		}
	}
	if _, err := Compile([]Spec{{Name: "r", When: `true`, On: []string{"arrival", "flags"}, Scope: ScopeAll, Flag: []string{"$X"}}}); err != nil {
		t.Errorf(`Compile(on = ["arrival", "flags"], scope "all") = %v, want nil`, err)
	}
}
