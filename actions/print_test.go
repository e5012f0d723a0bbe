package actions

import (
	"strings"
	"testing"

	"github.com/mailrules/mailrules/rules"
)

func TestPrint(t *testing.T) {
	p := NewPlan("INBOX", []Decision{
		{UID: 7, From: "Go Dev <golang-dev@googlegroups.com>", Subject: "proposal: spec", MessageID: "<7@x>",
			Result: rules.Result{Matched: []string{"lists"}, AddFlags: add("lists", `\Seen`), Final: moveTo("lists", "Lists/go-dev")}},
		{UID: 9, From: "spammer@example.com", Subject: "WIN\x1b[2J\r\nBIG\tNOW", MessageID: "<9@x>",
			Result: rules.Result{Matched: []string{"spam"}, Final: &rules.Final{Kind: rules.FinalDelete, Rule: "spam"}}},
	})
	var b strings.Builder
	p.Print(&b)
	out := b.String()
	for _, want := range []string{
		"INBOX: 2 messages, 3 steps",
		`1. add \Seen to 1 message`,
		`2. move 1 message to "Lists/go-dev"`,
		"3. delete 1 message (move to Trash)",
		"lists  1 message",
		"spam   1 message",
		"UID  ACTION",
		`7    +flags \Seen`,
		"7    move",
		"Lists/go-dev",
		"Go Dev <golang-dev@googlegroups.com>",
		"9    delete",
		"(Trash)",
		"WIN [2J  BIG NOW",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Print() output lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\r") {
		t.Errorf("Print() output contains control characters:\n%q", out)
	}
}

func TestPrintEmpty(t *testing.T) {
	var b strings.Builder
	NewPlan("Lists.go-dev", nil).Print(&b)
	if got, want := b.String(), "Lists.go-dev: nothing to do\n"; got != want {
		t.Fatalf("Print() = %q, want %q", got, want)
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"plain", 10, "plain"},
		{"", 10, "-"},
		{"0123456789abc", 10, "0123456789…"},
		{"0123456789", 10, "0123456789"},
		{"a\tb\nc\u202ed", 10, "a b c d"},
	}
	for _, tt := range tests {
		if got := printable(tt.in, tt.limit); got != tt.want {
			t.Errorf("printable(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}
