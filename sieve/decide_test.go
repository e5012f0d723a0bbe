package sieve

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/rules"
)

// TestInPlace checks the table of README.md, "Sieve": what each action
// means for a message that already sits in a mailbox, through a rules.Set
// as the engine runs it.
func TestInPlace(t *testing.T) {
	const hdr = "From: a@example.org\r\nSubject: hello\r\n\r\n"
	tests := []struct {
		name   string
		script string
		flags  []string // the message's flags before
		want   string   // rules.Result.String()
	}{
		{"implicit keep", `keep;`, nil, "keep"},
		{"nothing at all", `if false { discard; }`, nil, "keep"},
		{"fileinto is a move", `require "fileinto"; fileinto "A";`, nil, "move A"},
		{"fileinto and keep is a copy", `require "fileinto"; fileinto "A"; keep;`, nil, "copy A"},
		{"fileinto :copy is a copy", `require ["fileinto", "copy"]; fileinto :copy "A";`, nil, "copy A"},
		{"two fileintos: a move and a copy", `require "fileinto"; fileinto "A"; fileinto "B";`, nil, "copy B; move A"},
		{"the same mailbox twice is stored once", `require "fileinto"; fileinto "A"; fileinto "A";`, nil, "move A"},
		{"fileinto the mailbox itself is a keep", `require "fileinto"; fileinto "INBOX"; fileinto "A";`, nil, "copy A"},
		{"fileinto inbox in any case", `require "fileinto"; fileinto "inbox";`, nil, "keep"},
		{"discard is a delete to Trash", `discard;`, nil, "delete"},
		{"discard then keep keeps", `discard; keep;`, nil, "keep"},
		{"discard with fileinto is a move", `require "fileinto"; fileinto "A"; discard;`, nil, "move A"},
		{"stop keeps what was decided", `require ["fileinto", "imap4flags"]; fileinto :flags "x" "A"; stop; fileinto "B";`, nil, ""},
		{"flags on the kept message", `require "imap4flags"; addflag "\\seen";`, nil, `flag \Seen`},
		{"setflag replaces the message's flags", `require "imap4flags"; setflag "$Done";`, []string{`\Flagged`, `\Seen`}, `flag $Done; unflag \Flagged; unflag \Seen`},
		{"removeflag", `require "imap4flags"; removeflag "\\Flagged";`, []string{`\Flagged`, `\Seen`}, `unflag \Flagged`},
		{"hasflag sees the message's flags", `require ["imap4flags", "fileinto"]; if hasflag "\\Flagged" { fileinto "Starred"; }`, []string{`\Flagged`}, "move Starred"},
		{"flags of a move go on the message first", `require ["imap4flags", "fileinto"]; fileinto :flags "\\Seen" "A";`, nil, `flag \Seen; move A`},
		{"flags at the time of fileinto", `require ["imap4flags", "fileinto"]; addflag "a"; fileinto "A"; addflag "b";`, nil, `flag a; move A`},
		{"implicit keep takes the final flags", `require ["imap4flags", "fileinto", "copy"]; addflag "a"; fileinto :copy "A"; addflag "b";`, nil, `flag a; flag b; copy A with flags a`},
		{"deleted and recent are never touched", `require "imap4flags"; setflag "\\Deleted \\Recent x";`, []string{`\Deleted`}, `flag x`},
		{"unsupported redirect keeps", `redirect "x@example.org";`, nil, "keep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile("t.sieve", []byte(tt.script), nil)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			set, err := rules.Compile([]rules.Spec{{Name: "sieve:t.sieve", Script: s}})
			if err != nil {
				t.Fatalf("rules.Compile: %v", err)
			}
			msg := &rules.Message{Account: "a", Mailbox: "INBOX", Header: []byte(hdr), Flags: tt.flags, New: true}
			res := set.Evaluate(msg, time.Now())
			if len(res.Errors) > 0 {
				t.Fatalf("Evaluate errors: %v", res.Errors)
			}
			want := tt.want
			if want == "" {
				want = `flag x; move A`
			}
			if got := res.String(); got != want {
				t.Errorf("Evaluate(%s) = %q, want %q", tt.script, got, want)
			}
			if res.Final != nil && res.Final.Rule != "sieve:t.sieve" {
				t.Errorf("Final.Rule = %q, want the script's rule name", res.Final.Rule)
			}
		})
	}
}

// TestExprRulesFirst checks the order when both exist: expr rules run
// first, and a final action there ends processing before the script.
func TestExprRulesFirst(t *testing.T) {
	s, err := Compile("t.sieve", []byte(`require ["fileinto", "imap4flags"]; addflag "s"; fileinto "FromSieve";`), nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile([]rules.Spec{
		{Name: "flag", When: `subject == "flag me"`, Flag: []string{"e"}},
		{Name: "move", When: `subject == "move me"`, Move: "FromExpr"},
		{Name: "sieve:t.sieve", Script: s},
	})
	if err != nil {
		t.Fatal(err)
	}
	for subject, want := range map[string]string{
		"flag me": "flag e; flag s; move FromSieve",
		"move me": "move FromExpr",
	} {
		msg := &rules.Message{Mailbox: "INBOX", Header: []byte("Subject: " + subject + "\r\n\r\n"), New: true}
		if got := set.Evaluate(msg, time.Now()).String(); got != want {
			t.Errorf("Evaluate(%q) = %q, want %q", subject, got, want)
		}
	}
	needs := set.Needs()
	if !needs.Flags || strings.Join(needs.Headers, " ") != "SUBJECT" {
		t.Errorf("Needs = %+v, want flags and SUBJECT", needs)
	}
}

// TestNeeds checks that a script asks for only what it reads.
func TestNeeds(t *testing.T) {
	tests := []struct {
		script string
		want   rules.Needs
	}{
		{`keep;`, rules.Needs{}},
		{`if header :is ["Subject", "x-Foo"] "a" { keep; } if exists "List-Id" { keep; }`, rules.Needs{Headers: []string{"LIST-ID", "SUBJECT", "X-FOO"}}},
		{`if size :over 1M { discard; }`, rules.Needs{Size: true}},
		{`require "body"; if body :contains "x" { discard; }`, rules.Needs{Body: true}},
		{`require "imap4flags"; addflag "x";`, rules.Needs{Flags: true}},
		{`require "variables"; set "h" "Subject"; if header :is "${h}" "a" { keep; }`, rules.Needs{AllHeaders: true}},
		{`require "envelope"; if envelope "to" "a" { keep; }`, rules.Needs{Headers: []string{"DELIVERED-TO", "RETURN-PATH", "X-ORIGINAL-TO"}}},
		{`require "spamtest"; if spamtest "5" { discard; }`, rules.Needs{Headers: []string{"X-RSPAMD-SCORE", "X-SPAM-SCORE", "X-SPAM-STATUS"}}},
		{`require "date"; if date "Date" "year" "2025" { keep; }`, rules.Needs{Headers: []string{"DATE"}}},
		{`require "mailbox"; if mailboxexists "A" { keep; }`, rules.Needs{Mailboxes: true}},
	}
	for _, tt := range tests {
		s, err := Compile("n.sieve", []byte(tt.script), nil)
		if err != nil {
			t.Fatalf("Compile(%s): %v", tt.script, err)
		}
		got := s.Needs()
		if strings.Join(got.Headers, ",") != strings.Join(tt.want.Headers, ",") || got.AllHeaders != tt.want.AllHeaders ||
			got.Flags != tt.want.Flags || got.Size != tt.want.Size || got.Body != tt.want.Body || got.InternalDate ||
			got.Mailboxes != tt.want.Mailboxes {
			t.Errorf("Needs(%s) = %+v, want %+v", tt.script, got, tt.want)
		}
	}
}

// TestRun covers what the Pigeonhole corpus cannot: match variables of
// several wildcards, mailboxexists, currentdate against a fixed time,
// :count on addresses, encoded characters in :flags.
func TestRun(t *testing.T) {
	hdr := []byte("From: A <a@x.example>, b@y.example\r\nSubject: one two three\r\nX-Fr: Réunion\r\n\r\nbody\r\n")
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	tests := []struct{ script, want string }{
		{`require ["fileinto", "variables"]; if header :matches "subject" "* * *" { fileinto "${3}-${2}-${1}-${0}"; }`, `fileinto "three-two-one-one two three"`},
		{`require ["fileinto", "variables"]; if header :matches "subject" "o?e*" { fileinto "${1}${2}"; }`, `fileinto "n two three"`},
		// "?" is one character, UTF-8 included, and literal text after it
		// must follow (Pigeonhole 0.5 matches "R?union*" against "Re: x").
		{`require "fileinto"; if header :matches "subject" "o?e*" { fileinto "A"; } if header :matches "subject" "?ne*" { fileinto "B"; } if header :matches "subject" "?nx*" { fileinto "C"; }`, `fileinto "A"; fileinto "B"`},
		{`require "fileinto"; if header :matches "x-fr" "R?union*" { fileinto "Fr"; } if header :matches "subject" "o?union*" { fileinto "No"; }`, `fileinto "Fr"`},
		{`require ["fileinto", "mailbox"]; if mailboxexists "Nowhere" { fileinto "Yes"; }`, `fileinto "Yes"`},
		{`require ["fileinto", "date"]; if currentdate :zone "+0100" "hour" "16" { fileinto "H"; }`, `fileinto "H"`},
		{`require ["fileinto", "relational", "comparator-i;ascii-numeric"]; if address :count "eq" :comparator "i;ascii-numeric" "from" "2" { fileinto "Two"; }`, `fileinto "Two"`},
		{`require ["imap4flags", "encoded-character"]; addflag "${hex:24}X";`, `implicit keep flags $X`},
		{`require ["fileinto", "variables", "regex"]; set :quoteregex "q" "one (two)"; if string :regex "one (two) three" "^${q}" { fileinto "${q}"; }`, `fileinto "one \\(two\\)"`},
		{`require ["fileinto", "variables"]; set "a" "${b}"; set "b" "x"; fileinto "-${a}-${b}-${unknown}-${}-";`, `fileinto "--x--${}-"`},
	}
	for _, tt := range tests {
		s, err := Compile("r.sieve", []byte(tt.script), nil)
		if err != nil {
			t.Fatalf("Compile(%s): %v", tt.script, err)
		}
		out, err := s.Run(&Env{Header: hdr, Raw: hdr, Now: now})
		if err != nil {
			t.Fatalf("Run(%s): %v", tt.script, err)
		}
		if got := out.String(); got != tt.want {
			t.Errorf("Run(%s) = %q, want %q", tt.script, got, tt.want)
		}
	}
}

// TestRunRegexFromVariable checks that a :regex built at run time that
// does not compile is an error, not a silent false.
func TestRunRegexFromVariable(t *testing.T) {
	s, err := Compile("r.sieve", []byte(`require ["regex", "variables", "fileinto"]; set "re" "("; if header :regex "subject" "${re}" { fileinto "X"; }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(&Env{Header: []byte("Subject: x\r\n\r\n")}); err == nil || !strings.Contains(err.Error(), "r.sieve:1:") {
		t.Errorf("Run = %v, want an error with the position", err)
	}
}

// TestDecideWholeMessage checks the engine's shape for scripts with a
// body test: the whole message in Raw and no separate Header.
func TestDecideWholeMessage(t *testing.T) {
	s, err := Compile("b.sieve", []byte(`require ["body", "fileinto"]; if allof (header :contains "subject" "news", body :contains "unsubscribe") { fileinto "Bulk"; }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Needs().Body {
		t.Fatalf("Needs = %+v, want Body", s.Needs())
	}
	raw := []byte("Subject: our news\r\nContent-Type: text/plain\r\n\r\nClick to unsubscribe.\r\n")
	d, err := s.Decide(&rules.Message{Mailbox: "INBOX", Raw: raw, Size: int64(len(raw))}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.Final == nil || d.Final.Kind != rules.FinalMove || d.Final.Mailbox != "Bulk" {
		t.Errorf("Decide = %+v, want a move to Bulk", d)
	}
}

// TestDecideMailboxExists checks that mailboxexists asks the message's
// MailboxExists, for every name of its list (RFC 5490 section 3.1).
func TestDecideMailboxExists(t *testing.T) {
	s, err := Compile("m.sieve", []byte(`require ["fileinto", "mailbox"]; if mailboxexists ["Lists", "Lists/go"] { fileinto "Lists"; }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		existing []string // nil: no MailboxExists
		want     bool     // moved to Lists
	}{
		{nil, true},
		{[]string{"Lists", "Lists/go"}, true},
		{[]string{"Lists"}, false},
		{[]string{}, false},
	}
	for _, tt := range tests {
		msg := &rules.Message{Mailbox: "INBOX", Header: []byte("Subject: x\r\n\r\n")}
		if tt.existing != nil {
			msg.MailboxExists = func(path string) bool { return slices.Contains(tt.existing, path) }
		}
		d, err := s.Decide(msg, time.Now())
		if err != nil {
			t.Fatalf("Decide with %q: %v", tt.existing, err)
		}
		if got := d.Final != nil && d.Final.Mailbox == "Lists"; got != tt.want {
			t.Errorf("Decide with mailboxes %q: moved = %v, want %v", tt.existing, got, tt.want)
		}
	}
}

// TestInPlaceCopyFlags checks that a copy whose fileinto stores other
// flags than the kept message's gets them (Decision.CopyFlags), and one
// with the same flags does not.
func TestInPlaceCopyFlags(t *testing.T) {
	tests := []struct {
		script string
		flags  []string
		want   [][]string // CopyFlags
	}{
		{`require ["fileinto", "copy", "imap4flags"]; fileinto :copy :flags "\\flagged" "S";`, []string{`\Answered`}, [][]string{{`\Flagged`}}},
		{`require ["fileinto", "copy", "imap4flags"]; fileinto :copy :flags "" "S";`, []string{`\Seen`}, [][]string{{}}},
		{`require ["fileinto", "copy"]; fileinto :copy "S";`, []string{`\Seen`}, nil},
		{`require ["fileinto", "imap4flags"]; fileinto :flags "\\Seen" "M"; fileinto "C";`, []string{`\Answered`}, [][]string{{`\Answered`}}},
		{`require ["fileinto", "imap4flags"]; addflag "x"; fileinto "C"; keep;`, nil, nil},
	}
	for _, tt := range tests {
		s, err := Compile("f.sieve", []byte(tt.script), nil)
		if err != nil {
			t.Fatalf("Compile(%s): %v", tt.script, err)
		}
		d, err := s.Decide(&rules.Message{Mailbox: "INBOX", Flags: tt.flags, Header: []byte("Subject: x\r\n\r\n")}, time.Now())
		if err != nil {
			t.Fatalf("Decide(%s): %v", tt.script, err)
		}
		if fmt.Sprintf("%q", d.CopyFlags) != fmt.Sprintf("%q", tt.want) || (tt.want != nil && len(d.CopyFlags) > 0 && (d.CopyFlags[0] == nil) != (tt.want[0] == nil)) {
			t.Errorf("Decide(%s).CopyFlags = %q, want %q", tt.script, d.CopyFlags, tt.want)
		}
	}
}
