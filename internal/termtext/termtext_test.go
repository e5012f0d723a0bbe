package termtext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"Plain subject, Zażółć gęślą jaźń €", "Plain subject, Zażółć gęślą jaźń €"},
		{"tab\tstays", "tab\tstays"},
		{`back\slash \Flagged`, `back\slash \Flagged`},
		{"\x1b]0;pwned\x07\x1b[2J", `\x1b]0;pwned\x07\x1b[2J`},
		{"a\r\nb\bc\x00d\x7f", `a\x0d\x0ab\x08c\x00d\x7f`},
		{"c1 \u009b2J \u0085", `c1 \u009b2J \u0085`},
		{"file\u202egpj.exe", `file\u202egpj.exe`},
		{"\u202a\u202b\u202c\u202d \u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d \u2066\u2067\u2068\u2069`},
		{"raw \x9b2J and \xff", `raw \x9b2J and \xff`},
		{"replacement \ufffd stays", "replacement \ufffd stays"},
		{"\u200f\u2028 not controls", "\u200f\u2028 not controls"},
	}
	for _, tc := range tests {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzEscape checks that what Escape returns is UTF-8 without anything a
// terminal acts on, and that text without such characters is left alone.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\u202e", "\xc2\x9b", "\xff\xfe", "\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Escape(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if unsafe(r) {
				t.Fatalf("Escape(%q) = %q: has %U", s, got, r)
			}
		}
		if utf8.ValidString(s) && !strings.ContainsFunc(s, unsafe) && got != s {
			t.Fatalf("Escape(%q) = %q: changed safe text", s, got)
		}
	})
}
