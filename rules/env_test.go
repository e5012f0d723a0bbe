package rules

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/mailrules/mailrules/message"
)

var testNow = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// loadMessage reads a testdata message as the engine would hand it over:
// header block, whole message, flags and dates.
func loadMessage(t testing.TB, name string, flags ...string) *Message {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	hdr, _ := message.SplitHeader(data)
	return &Message{
		Account: "personal", Mailbox: "INBOX", UID: 42, Flags: flags,
		InternalDate: time.Date(2023, 3, 1, 8, 0, 0, 0, time.UTC), Size: int64(len(data)),
		Header: hdr, Raw: data, New: true,
	}
}

// evalValue compiles src against the message environment and evaluates it.
func evalValue(t *testing.T, msg *Message, src string) any {
	t.Helper()
	c := newCompiler()
	sp := &Spec{Name: "t"}
	prog := c.compileExpr(sp, "when", 0, 0, src, false)
	if prog == nil {
		t.Fatalf("compile %q: %v", src, c.problems)
	}
	env := &evalEnv{dec: c.dec, body: message.DefaultBodyLimit}
	env.reset(msg, testNow)
	var m vm.VM
	out, err := m.Run(prog, env)
	if err != nil {
		t.Fatalf("run %q: %v", src, err)
	}
	return out
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		file string
		expr string
		want any
	}{
		// RFC 2047 in KOI8-R and Windows-1252, adjacent words joined, folded lines unfolded.
		{"charsets.eml", `subject`, "Привет, мир “quoted” € and a folded tail"},
		{"charsets.eml", `from[0].name`, "Иван Петров"},
		{"charsets.eml", `from[0].addr`, "Ivan@example.ru"},
		{"charsets.eml", `from[0].domain`, "example.ru"},
		{"charsets.eml", `from[0].local`, "Ivan"},
		{"charsets.eml", `map(to, .name)`, []any{"Jörg Müller", "Smith, John"}},
		{"charsets.eml", `len(recipients)`, 2},
		{"charsets.eml", `messageId`, "abc.123@mail.example.ru"},
		{"charsets.eml", `date.Unix()`, time.Date(2024, 5, 14, 6, 30, 0, 0, time.UTC).Unix()},
		{"charsets.eml", `spamScore()`, -0.9},
		{"charsets.eml", `header("x-spam-status") startsWith "No,"`, true},
		{"charsets.eml", `hasHeader("Return-Path")`, true},
		{"charsets.eml", `hasHeader("List-Id")`, false},
		{"charsets.eml", `listId`, ""},
		{"charsets.eml", `icontains(subject, "QUOTED")`, true},
		{"charsets.eml", `icontains(subject, "ПРИВЕТ")`, true},
		// ISO-8859-2, List-Id, groups.
		{"list.eml", `subject`, "Zażółć gęślą jaźń"},
		{"list.eml", `listId`, "golang-nuts.googlegroups.com"},
		{"list.eml", `listName`, "golang-nuts"},
		{"list.eml", `len(to)`, 0},
		{"list.eml", `map(cc, .addr)`, []any{"a@example.com", "b@example.com", "c@example.com"}},
		{"list.eml", `spamScore()`, 6.2},
		{"list.eml", `glob(from[0].addr, "*@golang.org")`, true},
		{"list.eml", `glob(from[0].addr, "*@GOLANG.ORG")`, true},
		{"list.eml", `glob(from[0].addr, "*@golang.com")`, false},
		// Malformed: never fails the message.
		{"malformed.eml", `map(from, .addr)`, []any{"broken@@example.com", "bob@example.com"}},
		{"malformed.eml", `map(to, .addr)`, []any{"x@example.com", "plain@example.org"}},
		{"malformed.eml", `subject`, "café and =?utf-8?q?broken"},
		{"malformed.eml", `date.IsZero()`, true},
		{"malformed.eml", `spamScore()`, 12.5},
		{"malformed.eml", `header("X-Rspamd-Score")`, "12.50 / 15.00"},
		{"malformed.eml", `messageId`, ""},
		// MIME body and attachments.
		{"multipart.eml", `body`, "Grüße, here is your invoice for the café order. Total: 12 €"},
		{"multipart.eml", `len(attachments)`, 1},
		{"multipart.eml", `attachments[0].filename`, "Rechnung März.pdf"},
		{"multipart.eml", `attachments[0].contentType`, "application/pdf"},
		{"multipart.eml", `attachments[0].size`, 520},
		{"htmlonly.eml", `body`, "Hallo Welt & more"},
		{"htmlonly.eml", `subject`, "Grüße aus Köln"},
		{"htmlonly.eml", `from[0].name`, "Zoë"},
		{"htmlonly.eml", `len(attachments)`, 0},
		// Message attributes and helpers.
		{"list.eml", `size > kb(0) && size < mb(1)`, true},
		{"list.eml", `age`, testNow.Sub(time.Date(2023, 3, 1, 8, 0, 0, 0, time.UTC))},
		{"list.eml", `age > days(365)`, true},
		{"list.eml", `olderThan("1y") && !olderThan("2y") && newerThan("70w")`, true},
		{"list.eml", `now == now()`, true},
		{"list.eml", `internalDate.Year()`, 2023},
		{"list.eml", `mailbox + "/" + account + "/" + string(uid)`, "INBOX/personal/42"},
		{"list.eml", `iequals("ABC", "abc") && !iequals("a", "b")`, true},
		{"list.eml", `weeks(1) == days(7) && hours(24) == days(1)`, true},
	}
	for _, tc := range tests {
		msg := loadMessage(t, tc.file)
		got := evalValue(t, msg, tc.expr)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %s = %#v, want %#v", tc.file, tc.expr, got, tc.want)
		}
	}
}

func TestFlags(t *testing.T) {
	msg := loadMessage(t, "list.eml", `\Seen`, `\Flagged`, "$List")
	tests := []struct {
		expr string
		want any
	}{
		{`seen`, true},
		{`flagged`, true},
		{`answered`, false},
		{`draft`, false},
		{`hasFlag("$list")`, true},
		{`hasFlag("$Other")`, false},
		{`len(flags)`, 3},
		{`"$List" in flags`, true},
	}
	for _, tc := range tests {
		if got := evalValue(t, msg, tc.expr); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.expr, got, tc.want)
		}
	}
}

func TestHeaderOnlyMessage(t *testing.T) {
	// The engine hands over only the fetched header fields: the body is not there.
	msg := &Message{Header: []byte("Subject: hi\r\n\r\n"), New: true}
	if got := evalValue(t, msg, `body == "" && len(attachments) == 0 && subject == "hi"`); got != true {
		t.Fatalf("body/attachments on a header-only message = %v, want true", got)
	}
	// And the whole message without a separate header block.
	msg = &Message{Raw: []byte("Subject: whole\r\n\r\nthe body\r\n"), New: true}
	if got := evalValue(t, msg, `subject + "|" + body`); got != "whole|the body\r\n" {
		t.Fatalf("subject|body = %q, want %q", got, "whole|the body\r\n")
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"2w", 14 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"1y", 365 * 24 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"", 0, false},
		{"30", 0, false},
		{"3x", 0, false},
		{"d", 0, false},
	} {
		got, err := parseAge(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseAge(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"*.example.org", "mail.EXAMPLE.org", true},
		{"*.example.org", "example.org", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"*x*y", "axbxcy", true},
		{"ü*", "Über", true},
		{"über*", "ÜBERALL", true},
	} {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		s, sub string
		want   bool
	}{
		{"Hello World", "WORLD", true},
		{"Hello", "", true},
		{"Straße", "STRASSE", false},
		{"ÄÖÜ", "öü", true},
		{"abc", "abcd", false},
		{"Grüße aus Köln", "KÖLN", true},
		{"Grüße aus Köln", "aus k", true},
		{"\u212Aelvin", "kelvin", true}, // Kelvin sign folds to k
		{"Grüße", "GRÜSSE", false},
	} {
		if got := containsFold(tc.s, tc.sub); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", tc.s, tc.sub, got, tc.want)
		}
	}
}
