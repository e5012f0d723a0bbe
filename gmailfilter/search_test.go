package gmailfilter

import (
	"errors"
	"strings"
	"testing"
)

// TestParse checks the tree Parse builds, written back with Node.String,
// which brackets every And and Or so that the grouping shows.
func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "<nil>"},
		{"   ", "<nil>"},
		{"invoice", "invoice"},
		{"a b c", "(a b c)"},
		{"a AND b", "(a b)"},
		{"a OR b", "{a b}"},
		{"a | b", "{a b}"},
		{"a|b", "{a b}"},
		{"a or b", "(a or b)"}, // OR must be upper case
		// OR binds tighter than the space.
		{"a b OR c d", "(a {b c} d)"},
		{"a OR b OR c", "{a b c}"},
		{"{a b}", "{a b}"},
		{"{a OR b}", "{a b}"},
		{"{a}", "a"},
		{"(a b)", "(a b)"},
		{"(a OR b) c", "({a b} c)"},
		{"-a", "-a"},
		{"-(a b)", "-(a b)"},
		{"-{a b}", "-{a b}"},
		{"--a", "--a"},
		{"e-mail", "e-mail"},
		{"a - b", "(a - b)"},
		{`"a phrase"`, `"a phrase"`},
		{`"a phrase" -"b c"`, `("a phrase" -"b c")`},
		{`""`, `""`},
		{"+exact", "+exact"}, // the translator reads the +
		{"from:alice", "from:alice"},
		{"FROM:alice", "from:alice"},
		{"from:(a OR b)", "{from:a from:b}"},
		{"from:{a b}", "{from:a from:b}"},
		{"subject:(a b)", "(subject:a subject:b)"},
		{`subject:"a b"`, `subject:"a b"`},
		{"from: alice", "from:alice"},
		{"-from:x", "-from:x"},
		{"from:(to:x y)", "(to:x from:y)"},
		{"from:(-x)", "-from:x"},
		{"has:attachment larger:10M", "(has:attachment larger:10M)"},
		{"older_than:1y", "older_than:1y"},
		{"http://example.org/x", "http://example.org/x"},
		{"meet at 10:30", "(meet at 10:30)"},
		{"re:hello", "re:hello"},
		{"rfc822msgid:<a@b>", "rfc822msgid:<a@b>"},
		{"ünïcödé Ärger", "(ünïcödé Ärger)"},
		{"a\tb\nc", "(a b c)"},
	}
	for _, tc := range tests {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q) = %v", tc.in, err)
			continue
		}
		got := "<nil>"
		if n != nil {
			got = n.String()
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestParseColumns checks that terms know where they start, in
// characters; a word in an operator's group starts where it is written.
func TestParseColumns(t *testing.T) {
	n, err := Parse(`é "ü x" from:(a)`)
	if err != nil {
		t.Fatal(err)
	}
	and, ok := n.(And)
	if !ok || len(and) != 3 {
		t.Fatalf("Parse = %#v, want an And of 3", n)
	}
	for i, want := range []int{1, 3, 15} {
		if got := and[i].(Term).Col; got != want {
			t.Errorf("term %d (%s) at column %d, want %d", i, and[i], got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		col  int
		want string
	}{
		{`"open`, 1, "unterminated quoted phrase"},
		{`a "b`, 3, "unterminated quoted phrase"},
		{"(a b", 1, "never closed"},
		{"{a (b}", 6, `"}" closes "("`},
		{"a)", 2, `unexpected ")"`},
		{"()", 1, "empty ()"},
		{"{ }", 1, "empty {}"},
		{"OR a", 1, "OR with nothing before it"},
		{"a OR", 3, "OR with nothing after it"},
		{"a | )", 3, "| with nothing after it"},
		{"AND a", 1, "AND with nothing before it"},
		{"a AND", 3, "AND with nothing after it"},
		{"from:", 1, "from: has no value"},
		{"from: )", 1, "from: has no value"},
		{"-", 1, ""},
		{strings.Repeat("(", 200) + "a" + strings.Repeat(")", 200), 101, "nested more than"},
		{strings.Repeat("-", 200) + "a", 101, "nested more than"},
	}
	for _, tc := range tests {
		n, err := Parse(tc.in)
		if tc.want == "" {
			// a lone minus is a word, as Gmail reads it
			if err != nil || n == nil {
				t.Errorf("Parse(%q) = %v, %v; want a word", tc.in, n, err)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, %v; want a *SyntaxError", tc.in, n, err)
			continue
		}
		if se.Col != tc.col || !strings.Contains(se.Msg, tc.want) {
			t.Errorf("Parse(%q) error = %v, want column %d and %q", tc.in, err, tc.col, tc.want)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts it can
// write back, and that what it writes back parses to the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a b OR c", `from:(a@b.c OR "d e") -{x y} has:attachment larger:10M`,
		`subject:"[x]" older_than:2m`, "((a)", `"`, "-", "a|b|", "{a (b c) -d}", "from: x",
		"AND OR | - ( ) { }", "ü:ö é-e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil || n == nil {
			return
		}
		again, err := Parse(n.String())
		var se *SyntaxError
		if errors.As(err, &se) && strings.HasPrefix(se.Msg, "nested more than") {
			return // String's brackets add a level to a search at the limit
		}
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, n, err)
		}
		if again.String() != n.String() {
			t.Fatalf("Parse(%q) = %s, but that parses to %s", s, n, again)
		}
	})
}
