package sieve

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/internal/diag"
)

// TestProblems checks that syntax and semantic errors come as FILE:LINE:COL
// with a short message, every one at once.
func TestProblems(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // problem strings, in order
	}{
		{"unknown command and test", "frobnicate;\nif headr \"a\" \"b\" { keep; }\n", []string{
			`f.sieve:1:1: unknown command "frobnicate"`,
			`f.sieve:2:4: unknown test "headr"; did you mean "header"?`,
		}},
		{"missing require", "fileinto \"X\";\nif body :contains \"x\" { setflag \"a\"; }\n", []string{
			`f.sieve:1:1: fileinto needs require "fileinto"`,
			`f.sieve:2:4: body needs require "body"`,
			`f.sieve:2:25: setflag needs require "imap4flags"`,
		}},
		{"argument types and counts", "require \"fileinto\";\nfileinto 5;\nif size 10 { keep; }\nif header \"a\" { stop; }\nkeep \"x\";\n", []string{
			`f.sieve:2:10: fileinto: argument 1 must be a string, not a number`,
			`f.sieve:3:4: size needs :over or :under`,
			`f.sieve:4:4: header takes a string list, a string list, got 1`,
			`f.sieve:5:1: keep takes no arguments, got 1`,
		}},
		{"tags", "if header :is :contains \"a\" \"b\" { keep; }\nif address :bogus \"from\" \"x\" { keep; }\nif header :regex \"a\" \"b\" { keep; }\nif address :domian \"from\" \"x\" { keep; }\n", []string{
			`f.sieve:1:15: header: :is and :contains exclude each other`,
			`f.sieve:2:12: address: unknown tagged argument :bogus`,
			`f.sieve:3:11: header :regex needs require "regex"`,
			`f.sieve:4:12: address: unknown tagged argument :domian; did you mean :domain?`,
		}},
		{"syntax", "keep\nif true { stop; \n\"x\";\n", []string{
			// keep if true {...} reads as keep with a test and a block.
			`f.sieve:1:1: keep takes no block`,
			`f.sieve:2:1: keep takes no test`,
			`f.sieve:2:1: if is a command, not a test`,
			`f.sieve:2:9: block has no closing }`,
			`f.sieve:3:1: expected a command, found a string`,
		}},
		{"require placement and extensions", "keep;\nrequire \"fileinto\";\nrequire \"x-unknown\";\n", []string{
			`f.sieve:2:1: require must come before any other command, at the top of the script`,
			`f.sieve:3:1: require must come before any other command, at the top of the script`,
		}},
		{"unknown extension", "require [\"fileinto\", \"x-unknown\"];\n", []string{
			`f.sieve:1:22: require: unknown or unsupported extension "x-unknown"`,
		}},
		{"elsif without if", "elsif true { keep; }\nelse { keep; }\n", []string{
			`f.sieve:1:1: elsif without a preceding if`,
			`f.sieve:2:1: else without a preceding if`,
		}},
		{"comparator and relational", "require [\"relational\"];\nif header :comparator \"i;fancy\" :value \"gg\" \"a\" \"b\" { keep; }\nif header :comparator \"i;ascii-numeric\" \"a\" \"1\" { keep; }\n", []string{
			`f.sieve:2:23: unknown comparator "i;fancy"`,
			`f.sieve:2:40: :value "gg": want one of gt, ge, lt, le, eq, ne (RFC 5231)`,
			`f.sieve:3:23: comparator "i;ascii-numeric" needs require "comparator-i;ascii-numeric"`,
		}},
		{"bad regex and date part", "require [\"regex\", \"date\"];\nif header :regex \"a\" \"(\" { keep; }\nif currentdate \"fortnight\" \"1\" { keep; }\n", []string{
			`f.sieve:2:22: header: bad :regex "(": error parsing regexp: missing closing ): ` + "`(`",
		}},
		{"envelope parts", "require \"envelope\";\nif envelope \"auth\" \"x\" { keep; }\n", []string{
			`f.sieve:2:13: envelope "auth": mailrules only knows the envelope from (Return-Path) and to (Delivered-To, X-Original-To) of a stored message`,
		}},
		{"unterminated", "if header \"a\" \"b\" { keep; }\n\"open", []string{
			`f.sieve:2:1: unterminated string`,
			`f.sieve:2:1: expected a command, found a string`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile("f.sieve", []byte(tt.src), nil)
			var ps diag.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Compile = %v, want diag.Problems", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Compile problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestUnsupportedActions checks that actions that send mail compile, are
// reported as warnings with their position, and leave the implicit keep.
func TestUnsupportedActions(t *testing.T) {
	src := "require [\"vacation\", \"reject\", \"imap4flags\"];\nredirect \"a@example.org\";\nif true { vacation \"away\"; reject \"no\"; }\naddflag [\"\\\\Deleted\", \"a(b\", \"\\\\Bogus\", \"ok\"];\n"
	s, err := Compile("v.sieve", []byte(src), nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	var got []string
	for _, w := range s.Warnings() {
		got = append(got, w.String())
	}
	want := []string{
		`v.sieve:1:10: warning: require "vacation": mailrules does not send mail, so the actions of vacation are not carried out`,
		`v.sieve:1:22: warning: require "reject": mailrules does not send mail, so the actions of reject are not carried out`,
		`v.sieve:2:1: warning: redirect is not supported: mailrules does not send mail; the action is not carried out and the message is kept`,
		`v.sieve:3:11: warning: vacation is not supported: mailrules does not send mail; the action is not carried out and the message is kept`,
		`v.sieve:3:28: warning: reject is not supported: mailrules does not send mail; the action is not carried out and the message is kept`,
		`v.sieve:4:10: warning: flag \Deleted is ignored: mailrules never sets \Deleted or \Recent (use discard)`,
		`v.sieve:4:23: warning: flag "a(b" is ignored: not an IMAP flag (\Seen \Answered \Flagged \Draft, or a keyword without spaces or any of (){%*"\])`,
		`v.sieve:4:30: warning: flag "\\Bogus" is ignored: not an IMAP flag (\Seen \Answered \Flagged \Draft, or a keyword without spaces or any of (){%*"\])`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, err := s.Run(&Env{Header: []byte("Subject: x\r\n\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Keeps() || len(out.Actions) != 4 || !strings.Contains(out.String(), "implicit keep flags \\Deleted a(b \\Bogus ok") {
		t.Errorf("Run = %s, want 3 unsupported actions and the implicit keep", out)
	}
}

// TestIncludeProblems checks include errors point into the right file.
func TestIncludeProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("sub.sieve", "require \"include\";\nbogus;\ninclude \"main\";\n")
	main := write("main.sieve", "require \"include\";\ninclude \"sub\";\ninclude :global \"x\";\ninclude \"../etc/passwd\";\n")
	_, err := CompileFile(main, nil)
	if err == nil {
		t.Fatal("CompileFile: no error")
	}
	got := err.Error()
	for _, want := range []string{
		filepath.Join(dir, "sub.sieve") + `:2:1: unknown command "bogus"`,
		filepath.Join(dir, "sub.sieve") + `:3:9: include "main": the script includes itself (RFC 6609 section 3.2)`,
		main + `:3:17: include :global "x": no global script directory is configured (sieve_global_dir)`,
		main + `:4:9: include: "../etc/passwd" is not a script name (no paths)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("CompileFile error lacks %q:\n%s", want, got)
		}
	}
}
