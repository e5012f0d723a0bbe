package gmailfilter_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/gmailfilter"
	"github.com/mailrules/mailrules/rules"
)

// now is the time of the test pass.
var now = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// testMessage is a message of the condition tests: raw text, size and
// where and when it arrived.
type testMessage struct {
	raw     string
	flags   []string
	arrived time.Time
	size    int64 // 0: the length of raw
}

var messages = map[string]testMessage{
	"amazon": {raw: "From: \"Amazon.com\" <orders@amazon.com>\r\nTo: Alice <alice.example@gmail.com>\r\nSubject: Your order has shipped\r\n" +
		"Message-ID: <abc123@mail.example>\r\n\r\nTrack your package.\r\n", arrived: now.Add(-48 * time.Hour)},
	"list": {raw: "From: Bob <bob@github.com>\r\nTo: golang/go <go@noreply.github.com>\r\nCc: accounting@work.example\r\n" +
		"List-Id: golang/go <go.golang.github.com>\r\nDelivered-To: alice.example+lists@gmail.com\r\nSubject: Re: [golang/go] spec: generics\r\n\r\nLGTM\r\n",
		flags: []string{`\Seen`}, arrived: now.Add(-400 * 24 * time.Hour)},
	"invoice": {raw: "From: =?utf-8?q?M=C3=BCller_GmbH?= <rechnung@mueller.example>\r\nTo: alice@example.org\r\n" +
		"Subject: =?utf-8?q?Rechnung_f=C3=BCr_Ihre_Bestellung?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSiehe Anhang, unsubscribe hier.\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"rechnung-42.pdf\"\r\n\r\nJVBERi0=\r\n--b--\r\n",
		flags: []string{`\Flagged`}, arrived: now.Add(-3 * time.Hour), size: 12 << 20},
}

// matches compiles cond as the only rule and reports which messages it
// matches, sorted by name.
func matches(t *testing.T, cond string) []string {
	t.Helper()
	set, err := rules.Compile([]rules.Spec{{Name: "gmail", When: cond, Flag: []string{"$Match"}}})
	if err != nil {
		t.Fatalf("condition %s does not compile: %v", cond, err)
	}
	var out []string
	for _, name := range []string{"amazon", "invoice", "list"} {
		m := messages[name]
		size := m.size
		if size == 0 {
			size = int64(len(m.raw))
		}
		header, _, _ := strings.Cut(m.raw, "\r\n\r\n")
		res := set.Evaluate(&rules.Message{Account: "gmail", Mailbox: "INBOX", UID: 1, Flags: m.flags, InternalDate: m.arrived,
			Size: size, Header: []byte(header + "\r\n\r\n"), Raw: []byte(m.raw), New: true}, now)
		if len(res.Errors) > 0 {
			t.Fatalf("condition %s on %s: %v", cond, name, res.Errors)
		}
		if len(res.Matched) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// TestConditionMatches translates searches and checks, by evaluating
// them with the rule compiler on real messages, which messages each
// finds.
func TestConditionMatches(t *testing.T) {
	tests := []struct {
		search string
		want   string // matching messages, space-separated
	}{
		{"from:orders@amazon.com", "amazon"},
		{"from:ORDERS@Amazon.COM", "amazon"},
		{"from:@github.com", "list"},
		{"from:amazon", "amazon"},
		{"from:müller", "invoice"},
		{"from:(amazon OR github)", "amazon list"},
		{`from:("Amazon.com" <orders@amazon.com>)`, "amazon"},
		{"from:(orders@amazon.com, bob@github.com)", ""}, // both at once: Gmail's AND
		{"from:(orders@amazon.com, OR bob@github.com)", "amazon list"},
		{"from:{amazon github}", "amazon list"},
		{"-from:amazon", "invoice list"},
		{"to:me", "amazon"},
		{"to:accounting@work.example", "list"}, // to: covers Cc
		{"cc:accounting@work.example", "list"},
		{"bcc:accounting@work.example", ""},
		{"subject:shipped", "amazon"},
		{`subject:"has shipped"`, "amazon"},
		{`subject:"shipped has"`, ""},
		{"subject:(order shipped)", "amazon"},
		{"subject:(order generics)", ""},
		{"subject:(order OR generics)", "amazon list"},
		{"subject:ship", ""},          // whole words only, as in Gmail
		{"subject:SHIPPED", "amazon"}, // ignoring case
		{`"order, has"`, "amazon"},    // punctuation between words does not matter
		{"[golang/go]", "list"},       // nor around them
		{"rechnung", "invoice"},       // subject
		{"unsubscribe", "invoice"},    // body
		{"bob", "list"},               // sender name
		{"package", "amazon"},         // body
		{"für bestellung", "invoice"}, // unicode, both words
		{"list:go.golang.github.com", "list"},
		{"list:go@golang.github.com", "list"},
		{"has:attachment", "invoice"},
		{"-has:attachment", "amazon list"},
		{"filename:pdf", "invoice"},
		{"filename:rechnung-42", "invoice"},
		{"larger:10M", "invoice"},
		{"larger:1K", "invoice"},
		{"smaller:1K", "amazon list"},
		{"size:100", "amazon invoice list"},
		{"older_than:1y", "list"},
		{"older_than:1d", "amazon list"},
		{"newer_than:1d", "invoice"},
		{"newer_than:2m", "amazon invoice"},
		{"after:2024/06/01", "amazon invoice"},
		{"before:2024/06/01", "list"},
		{"older:2024-06-14", "amazon list"},
		{"after:1718000000", "amazon invoice"}, // 2024-06-10T06:13:20Z
		{"before:06/14/2024", "amazon list"},
		{"is:unread", "amazon invoice"},
		{"is:read", "list"},
		{"is:starred", "invoice"},
		{"in:inbox", "amazon invoice list"},
		{"deliveredto:alice.example+lists@gmail.com", "list"},
		{"rfc822msgid:<abc123@mail.example>", "amazon"},
		{"from:amazon OR is:starred shipped", "amazon"},
		{"(from:amazon OR is:starred) -shipped", "invoice"},
		{"+LGTM", "list"},
		{"AND-ROUND", ""},
	}
	for _, tc := range tests {
		cond, err := gmailfilter.Condition(tc.search, "alice.example@gmail.com", nil)
		if err != nil {
			t.Errorf("Condition(%q) = %v", tc.search, err)
			continue
		}
		if got := strings.Join(matches(t, cond), " "); got != tc.want {
			t.Errorf("Condition(%q) = %s, matches %q, want %q", tc.search, cond, got, tc.want)
		}
	}
}

// TestConditionNoBody checks that with NoBody words are not looked for
// in the body, and that the rule then needs no whole message.
func TestConditionNoBody(t *testing.T) {
	cond, err := gmailfilter.Condition("unsubscribe", "", &gmailfilter.Options{NoBody: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := matches(t, cond); len(got) != 0 {
		t.Errorf("Condition(unsubscribe, NoBody) = %s matches %q, want nothing", cond, got)
	}
	set, err := rules.Compile([]rules.Spec{{Name: "x", When: cond, Seen: new(bool)}})
	if err != nil {
		t.Fatal(err)
	}
	if set.Needs().Body {
		t.Errorf("Condition(unsubscribe, NoBody) = %s needs the body", cond)
	}
}

func TestConditionUntranslatable(t *testing.T) {
	tests := []struct {
		search string
		want   []string
	}{
		{"is:important", []string{"is:important"}},
		{"label:work -category:promotions", []string{"label:work", "category:promotions"}},
		{"has:drive", []string{"has:drive"}},
		{"in:spam", []string{"in:spam"}},
		{"a AROUND 3 b", []string{"AROUND"}},
		{"from:me", []string{"from:me"}}, // no owner given
		{"larger:ten", []string{"larger:ten"}},
		{"older_than:3w", []string{"unknown unit"}},
		{"after:yesterday", []string{"after:yesterday"}},
	}
	for _, tc := range tests {
		cond, err := gmailfilter.Condition(tc.search, "", nil)
		var u *gmailfilter.Untranslatable
		if !errors.As(err, &u) {
			t.Errorf("Condition(%q) = %q, %v; want an *Untranslatable", tc.search, cond, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Condition(%q) error %q does not name %q", tc.search, err, w)
			}
		}
	}
	var se *gmailfilter.SyntaxError
	if _, err := gmailfilter.Condition("(a", "", nil); !errors.As(err, &se) {
		t.Errorf("Condition(\"(a\") = %v, want a *SyntaxError", err)
	}
}
