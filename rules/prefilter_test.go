package rules

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/message"
)

// sweepFilterOf compiles when as the only rule, with scope "all", and
// returns its sweep filter at testNow.
func sweepFilterOf(t *testing.T, when string) *Filter {
	t.Helper()
	set := mustCompile(t, []Spec{{Name: "r", When: when, Scope: ScopeAll, Move: "Archive"}})
	f := set.SweepFilter(testNow)
	if f == nil {
		t.Fatalf("SweepFilter(%q) = nil, want a filter", when)
	}
	return f
}

func TestSweepFilterPatterns(t *testing.T) {
	// testNow is 2024-06-15 12:00 UTC.
	tests := []struct {
		when, want string
	}{
		// The examples from the brief.
		{`age > days(365) && !flagged`, `(AND (BEFORE 2023-06-18) (NOT (FLAG \Flagged)))`},
		{`internalDate.Unix() < 1030838400`, `(BEFORE 2002-09-03)`},
		{`internalDate.Year() < 2025 && !flagged`, `(AND (BEFORE 2025-01-03) (NOT (FLAG \Flagged)))`},

		// Flags.
		{`flagged`, `(FLAG \Flagged)`},
		{`seen`, `(FLAG \Seen)`},
		{`answered and draft`, `(AND (FLAG \Answered) (FLAG \Draft))`},
		{`not seen`, `(NOT (FLAG \Seen))`},
		{`!seen`, `(NOT (FLAG \Seen))`},
		{`seen == false`, `(NOT (FLAG \Seen))`},
		{`false == seen`, `(NOT (FLAG \Seen))`},
		{`draft != false`, `(FLAG \Draft)`},
		{`flagged != true`, `(NOT (FLAG \Flagged))`},
		{`hasFlag("\\answered")`, `(FLAG \Answered)`},
		{`!hasFlag("\\Deleted")`, `(NOT (FLAG \Deleted))`},
		{`hasFlag("$Label1")`, `(FLAG $Label1)`},
		{`!hasFlag("$Label1")`, `(ALL)`}, // keywords are not exact
		{`hasFlag("\\Recent")`, `(ALL)`},
		{`hasFlag("bad flag")`, `(ALL)`},
		{`"\\Seen" in flags`, `(FLAG \Seen)`},
		{`"\\Seen" not in flags`, `(ALL)`}, // exact-case membership: not exact
		{`"Work" in flags`, `(FLAG Work)`},

		// Internal dates.
		{`olderThan("30d")`, `(BEFORE 2024-05-18)`},
		{`olderThan("1y")`, `(BEFORE 2023-06-18)`},
		{`newerThan("2w")`, `(SINCE 2024-05-30)`},
		{`age < days(7)`, `(SINCE 2024-06-06)`},
		{`age <= hours(24)`, `(SINCE 2024-06-12)`},
		{`age >= weeks(1)`, `(BEFORE 2024-06-10)`},
		{`days(30) < age`, `(BEFORE 2024-05-18)`},
		{`age > duration("48h")`, `(BEFORE 2024-06-15)`},
		{`age > days(300) + days(65)`, `(BEFORE 2023-06-18)`},
		{`age == days(10)`, `(AND (SINCE 2024-06-03) (BEFORE 2024-06-07))`},
		{`age != days(10)`, `(ALL)`},
		{`internalDate < date("2024-01-01")`, `(BEFORE 2024-01-03)`},
		{`date("2024-01-01") > internalDate`, `(BEFORE 2024-01-03)`},
		{`internalDate >= date("2024-01-01")`, `(SINCE 2023-12-30)`},
		{`internalDate == date("2024-01-01")`, `(AND (SINCE 2023-12-30) (BEFORE 2024-01-03))`},
		{`internalDate < now - days(3)`, `(BEFORE 2024-06-14)`},
		{`now - days(3) > internalDate`, `(BEFORE 2024-06-14)`},
		{`internalDate.Before(now.Add(days(-3)))`, `(BEFORE 2024-06-14)`},
		{`internalDate.Before(now.AddDate(-1, 0, 0))`, `(BEFORE 2023-06-17)`},
		{`internalDate.After(date("2024-01-01"))`, `(SINCE 2023-12-30)`},
		{`date("2024-01-01").Before(internalDate)`, `(SINCE 2023-12-30)`},
		{`now.Sub(internalDate) > hours(48)`, `(BEFORE 2024-06-15)`},
		{`internalDate.Unix() <= 1030838400`, `(BEFORE 2002-09-03)`},
		{`internalDate.Unix() >= 1700000000`, `(SINCE 2023-11-12)`},
		{`1700000000 < internalDate.Unix()`, `(SINCE 2023-11-12)`},
		{`internalDate.Year() <= 2023`, `(BEFORE 2024-01-03)`},
		{`internalDate.Year() > 2023`, `(SINCE 2023-12-30)`},
		{`internalDate.Year() >= 2023`, `(SINCE 2022-12-30)`},
		{`internalDate.Year() == 2023`, `(AND (SINCE 2022-12-30) (BEFORE 2024-01-03))`},
		{`internalDate.Year() != 2023`, `(ALL)`},
		{`internalDate.Year() < 1900`, `(ALL)`}, // outside the dates servers handle
		{`int(internalDate.Month()) == 1`, `(ALL)`},
		{`date.Year() < 2020`, `(ALL)`},        // the Date header is not INTERNALDATE
		{`date < now - days(30)`, `(ALL)`},     // likewise
		{`!(age > days(30))`, `(ALL)`},         // BEFORE with margins is not exact
		{`not olderThan("30d")`, `(ALL)`},      // likewise
		{`olderThan(subject)`, `(ALL)`},        // not a constant
		{`age > days(uid)`, `(ALL)`},           // not a constant
		{`internalDate.Year() < uid`, `(ALL)`}, // not a constant

		// Sizes: LARGER n is size > n, SMALLER n is size < n, both exact.
		{`size > 1048576`, `(LARGER 1048576)`},
		{`size > mb(1)`, `(LARGER 1048576)`},
		{`size >= kb(1)`, `(LARGER 1023)`},
		{`size < mb(1)`, `(SMALLER 1048576)`},
		{`size <= 100`, `(SMALLER 101)`},
		{`100 < size`, `(LARGER 100)`},
		{`size > 1024 * 1024`, `(LARGER 1048576)`},
		{`size > 1.5`, `(LARGER 1)`},
		{`size >= 1.5`, `(LARGER 1)`},
		{`size < 1.5`, `(SMALLER 2)`},
		{`size == 100`, `(AND (LARGER 99) (SMALLER 101))`},
		{`size != 100`, `(NOT (AND (LARGER 99) (SMALLER 101)))`},
		{`!(size > 5)`, `(NOT (LARGER 5))`},
		{`size > -1`, `(ALL)`},
		{`size < 0`, `(NOT (ALL))`},
		{`size > 10000000000`, `(ALL)`}, // beyond IMAP's 32-bit numbers

		// Headers.
		{`header("X-Spam-Flag") == "YES"`, `(HEADER X-Spam-Flag "YES")`},
		{`"YES" == header("X-Spam-Flag")`, `(HEADER X-Spam-Flag "YES")`},
		{`header("X-Spam-Flag") contains "YES"`, `(HEADER X-Spam-Flag "YES")`},
		{`header("x-mailer") startsWith "Mutt"`, `(HEADER x-mailer "Mutt")`},
		{`header("X-Spam-Flag") != ""`, `(HEADER X-Spam-Flag "")`},
		{`header("X-Spam-Flag") == ""`, `(ALL)`},
		{`header("X-Spam-Flag") != "NO"`, `(ALL)`},
		{`subject contains "invoice"`, `(HEADER Subject "invoice")`},
		{`subject endsWith "[urgent]"`, `(HEADER Subject "[urgent]")`},
		{`subject == "Cron Daemon"`, `(HEADER Subject "Daemon")`}, // no white space: a fold could be there
		{`subject contains "Zażółć gęślą"`, `(ALL)`},              // no plain ASCII run long enough
		{`subject contains "say \"hi\""`, `(HEADER Subject "say")`},
		{`subject contains "a\"b\\c"`, `(ALL)`}, // quotes and backslashes are not pushed down
		{`subject contains ""`, `(ALL)`},
		{`subject != ""`, `(HEADER Subject "")`},
		{`!(subject contains "x")`, `(ALL)`},
		{`subject matches "(?i)invoice"`, `(ALL)`},
		{`icontains(subject, "newsletter")`, `(HEADER Subject "newsletter")`},
		{`iequals(header("X-Spam-Flag"), "yes")`, `(HEADER X-Spam-Flag "yes")`},
		{`glob(listId, "*.example.org")`, `(HEADER List-Id ".example.org")`},
		{`glob(listId, "*")`, `(ALL)`},
		{`listId != ""`, `(HEADER List-Id "")`},
		{`listId == "golang-nuts.googlegroups.com"`, `(HEADER List-Id "golang-nuts.googlegroups.com")`},
		{`listName == "golang-nuts"`, `(ALL)`},
		{`messageId == "abc@example.org"`, `(HEADER Message-Id "abc@example.org")`},
		{`hasHeader("List-Unsubscribe")`, `(HEADER List-Unsubscribe "")`},
		{`!hasHeader("List-Unsubscribe")`, `(ALL)`},
		{`header(subject) == "x"`, `(ALL)`},
		{`header("a:b") == "xyz"`, `(ALL)`},
		{`hasHeader("a\"b")`, `(ALL)`},
		{`any(from, .domain == "example.org")`, `(ALL)`},
		{`spamScore() > 5`, `(ALL)`},
		{`body contains "unsubscribe"`, `(ALL)`},

		// Combinations.
		{`flagged || age > days(1)`, `(OR (FLAG \Flagged) (BEFORE 2024-06-16))`},
		{`flagged or subject matches "x"`, `(ALL)`},
		{`age > days(365) && subject matches "x"`, `(BEFORE 2023-06-18)`},
		{`(flagged and subject matches "x") or seen`, `(OR (FLAG \Flagged) (FLAG \Seen))`},
		{`!(flagged && seen)`, `(NOT (AND (FLAG \Flagged) (FLAG \Seen)))`},
		{`!(flagged || size > 5)`, `(NOT (OR (FLAG \Flagged) (LARGER 5)))`},
		{`not (flagged and age > days(3))`, `(ALL)`},
		{`!(flagged && subject matches "x")`, `(ALL)`},
		{`!!flagged`, `(FLAG \Flagged)`},
		{`flagged && (seen && size > 10)`, `(AND (FLAG \Flagged) (FLAG \Seen) (LARGER 10))`},
		{`(flagged || seen) || (draft || answered)`, `(OR (FLAG \Flagged) (FLAG \Seen) (FLAG \Draft) (FLAG \Answered))`},
		{`age > days(30) || age > days(60) || olderThan("1d")`, `(BEFORE 2024-06-16)`},
		{`age > days(30) && age > days(60) && flagged`, `(AND (BEFORE 2024-04-18) (FLAG \Flagged))`},
		{`newerThan("2w") || newerThan("1w")`, `(SINCE 2024-05-30)`},
		{`newerThan("2w") && newerThan("1w")`, `(SINCE 2024-06-06)`},
		{`newerThan("2w") && olderThan("1w")`, `(AND (SINCE 2024-05-30) (BEFORE 2024-06-10))`},
		{`seen ? size > 10 : flagged`, `(OR (AND (FLAG \Seen) (LARGER 10)) (AND (NOT (FLAG \Seen)) (FLAG \Flagged)))`},
		{`olderThan("30d") ? flagged : seen`, `(OR (AND (BEFORE 2024-05-18) (FLAG \Flagged)) (FLAG \Seen))`},
		{`let s = subject; s contains "x"`, `(ALL)`},
		{`let n = 5; flagged && size > n`, `(FLAG \Flagged)`},
		{`true`, `(ALL)`},
		{`false`, `(NOT (ALL))`},
		{`false || flagged`, `(FLAG \Flagged)`},
		{`true && flagged`, `(FLAG \Flagged)`},
		{`false && subject matches "x"`, `(NOT (ALL))`},
		{`mailbox == "INBOX" && flagged`, `(FLAG \Flagged)`},
		{`now.Year() > 2000 && flagged`, `(FLAG \Flagged)`},
	}
	for _, tc := range tests {
		got := sweepFilterOf(t, tc.when).String()
		if got != tc.want {
			t.Errorf("SweepFilter(%q) = %s, want %s", tc.when, got, tc.want)
		}
	}
}

func TestSweepFilterSets(t *testing.T) {
	tests := []struct {
		name  string
		specs []Spec
		want  string // "" means nil
	}{
		{"no rules", nil, ""},
		{"only scope new", []Spec{
			{Name: "a", When: `flagged`, Stop: true},
			{Name: "b", When: `age > days(3)`, Scope: ScopeNew, Stop: true},
		}, ""},
		{"new rules are left out", []Spec{
			{Name: "a", When: `subject matches "x"`, Stop: true},
			{Name: "b", When: `olderThan("30d")`, Scope: ScopeAll, Move: "Archive"},
		}, `(BEFORE 2024-05-18)`},
		{"sweep rules are ORed", []Spec{
			{Name: "a", When: `olderThan("30d") && !flagged`, Scope: ScopeAll, Move: "Archive"},
			{Name: "b", When: `size > mb(10)`, Scope: ScopeAll, Move: "Big"},
		}, `(OR (AND (BEFORE 2024-05-18) (NOT (FLAG \Flagged))) (LARGER 10485760))`},
		{"one underivable sweep rule", []Spec{
			{Name: "a", When: `olderThan("30d")`, Scope: ScopeAll, Move: "Archive"},
			{Name: "b", When: `subject matches "x"`, Scope: ScopeAll, Move: "X"},
		}, `(ALL)`},
		{"a never-true rule drops out", []Spec{
			{Name: "a", When: `false`, Scope: ScopeAll, Move: "Archive"},
			{Name: "b", When: `flagged`, Scope: ScopeAll, Move: "X"},
		}, `(FLAG \Flagged)`},
		{"only never-true rules", []Spec{
			{Name: "a", When: `false`, Scope: ScopeAll, Move: "Archive"},
		}, `(NOT (ALL))`},
	}
	for _, tc := range tests {
		set := mustCompile(t, tc.specs)
		f := set.SweepFilter(testNow)
		switch {
		case tc.want == "" && f != nil:
			t.Errorf("%s: SweepFilter() = %s, want nil", tc.name, f)
		case tc.want != "" && f == nil:
			t.Errorf("%s: SweepFilter() = nil, want %s", tc.name, tc.want)
		case f != nil && f.String() != tc.want:
			t.Errorf("%s: SweepFilter() = %s, want %s", tc.name, f, tc.want)
		}
	}
}

func TestSweepFilterFor(t *testing.T) {
	set := mustCompile(t, []Spec{
		{Name: "work", When: `olderThan("30d")`, Scope: ScopeAll, Move: "Archive", Accounts: []string{"work"}},
		{Name: "home", When: `flagged`, Scope: ScopeAll, Move: "Starred", Accounts: []string{"home"}},
	})
	tests := []struct{ account, want string }{
		{"work", `(BEFORE 2024-05-18)`},
		{"home", `(FLAG \Flagged)`},
	}
	for _, tc := range tests {
		if got := set.For(tc.account, "INBOX").SweepFilter(testNow); got == nil || got.String() != tc.want {
			t.Errorf("For(%q, INBOX).SweepFilter() = %v, want %s", tc.account, got, tc.want)
		}
	}
	if got := set.For("other", "INBOX").SweepFilter(testNow); got != nil {
		t.Errorf(`For("other", INBOX).SweepFilter() = %s, want nil`, got)
	}
}

// imapMatch evaluates f against msg with the IMAP SEARCH semantics of
// RFC 3501 section 6.4.4, as a server in time zone loc would: BEFORE and
// SINCE compare the internal date's day in loc, LARGER and SMALLER the size,
// FLAG the flags ignoring case, HEADER a case-insensitive substring of any
// field of that name, unfolded and RFC 2047-decoded.
func imapMatch(f *Filter, msg *Message, loc *time.Location) bool {
	day := func(t time.Time) time.Time {
		l := t.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	}
	switch f.Op {
	case FilterAll:
		return true
	case FilterNone:
		return false
	case FilterAnd:
		for _, c := range f.Children {
			if !imapMatch(c, msg, loc) {
				return false
			}
		}
		return true
	case FilterOr:
		for _, c := range f.Children {
			if imapMatch(c, msg, loc) {
				return true
			}
		}
		return false
	case FilterNot:
		return !imapMatch(f.Children[0], msg, loc)
	case FilterBefore:
		return day(msg.InternalDate).Before(f.Date)
	case FilterSince:
		return !day(msg.InternalDate).Before(f.Date)
	case FilterFlag:
		for _, fl := range msg.Flags {
			if strings.EqualFold(fl, f.Flag) {
				return true
			}
		}
		return false
	case FilterLarger:
		return msg.Size > f.Size
	case FilterSmaller:
		return msg.Size < f.Size
	case FilterHeader:
		var h message.Header
		h.Parse(msg.Header)
		dec := message.NewDecoder()
		for _, raw := range h.Values(f.Header) {
			if strings.Contains(asciiLower(dec.Text(raw)), asciiLower(f.Value)) {
				return true
			}
		}
		return false
	}
	panic(fmt.Sprintf("imapMatch: unknown op %v", f.Op))
}

// asciiLower folds ASCII letters only, as a server's i;ascii-casemap would.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

func TestImapMatch(t *testing.T) {
	msg := &Message{
		InternalDate: time.Date(2024, 3, 10, 23, 30, 0, 0, time.UTC),
		Size:         100,
		Flags:        []string{`\Seen`, "$label1"},
		Header:       []byte("Subject: =?utf-8?q?Weekly_Report?=\r\nX-Spam-Flag: yes\r\nList-Id: <a.example.org>\r\n\r\n"),
	}
	plus14 := time.FixedZone("+14", 14*3600)
	tests := []struct {
		f    *Filter
		loc  *time.Location
		want bool
	}{
		{&Filter{Op: FilterBefore, Date: time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)}, time.UTC, true},
		{&Filter{Op: FilterBefore, Date: time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)}, time.UTC, false},
		{&Filter{Op: FilterBefore, Date: time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)}, plus14, false},
		{&Filter{Op: FilterSince, Date: time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)}, time.UTC, true},
		{&Filter{Op: FilterSince, Date: time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)}, plus14, true},
		{&Filter{Op: FilterLarger, Size: 99}, time.UTC, true},
		{&Filter{Op: FilterLarger, Size: 100}, time.UTC, false},
		{&Filter{Op: FilterSmaller, Size: 101}, time.UTC, true},
		{&Filter{Op: FilterSmaller, Size: 100}, time.UTC, false},
		{&Filter{Op: FilterFlag, Flag: `\Seen`}, time.UTC, true},
		{&Filter{Op: FilterFlag, Flag: "$Label1"}, time.UTC, true},
		{&Filter{Op: FilterFlag, Flag: `\Flagged`}, time.UTC, false},
		{&Filter{Op: FilterHeader, Header: "subject", Value: "report"}, time.UTC, true},
		{&Filter{Op: FilterHeader, Header: "X-Spam-Flag", Value: "YES"}, time.UTC, true},
		{&Filter{Op: FilterHeader, Header: "List-Id", Value: ""}, time.UTC, true},
		{&Filter{Op: FilterHeader, Header: "Cc", Value: ""}, time.UTC, false},
		{noneFilter(), time.UTC, false},
	}
	for _, tc := range tests {
		if got := imapMatch(tc.f, msg, tc.loc); got != tc.want {
			t.Errorf("imapMatch(%s, in %s) = %v, want %v", tc.f, tc.loc, got, tc.want)
		}
	}
}

// propertyRules are sweep conditions covering every pattern SweepFilter
// recognizes, alone and combined, plus some it does not.
var propertyRules = []string{
	`age > days(365) && !flagged`,
	`internalDate.Unix() < 1030838400`,
	`internalDate.Year() < 2025 && !flagged`,
	`internalDate.Year() == 2023 || internalDate.Year() > 2024`,
	`internalDate.Year() <= 2022 and not seen`,
	`olderThan("30d") && !hasFlag("\\Answered")`,
	`newerThan("2w")`,
	`age < days(7) || age >= weeks(52)`,
	`age == days(10)`,
	`internalDate < date("2024-01-01") && size > kb(2)`,
	`internalDate >= date("2024-01-01")`,
	`internalDate.Before(now.Add(days(-3)))`,
	`internalDate < now - days(3) || age > days(300) + days(65)`,
	`now - days(20) > internalDate || age > duration("1000h")`,
	`age > days(uid) || internalDate.Year() < uid`,
	`internalDate.After(now.AddDate(0, -1, 0))`,
	`now.Sub(internalDate) > hours(36)`,
	`internalDate.Unix() >= 1700000000`,
	`size > mb(1) || size < 300`,
	`size >= 2048 && size <= 4096`,
	`size == 1000 || size != 1000 && flagged`,
	`!(size > 5000) && !(flagged || seen)`,
	`hasFlag("$label1") || hasFlag("\\draft")`,
	`"\\Seen" in flags && "Work" in flags`,
	`!hasFlag("\\draft") && (answered || !seen)`,
	`header("X-Spam-Flag") == "YES"`,
	`header("x-spam-flag") contains "YES" && olderThan("1d")`,
	`subject contains "Cron Daemon"`,
	`icontains(subject, "weekly report")`,
	`iequals(subject, "invoice")`,
	`subject startsWith "Re:" || subject endsWith "[urgent]"`,
	`listId != "" && age > days(30)`,
	`listId == "golang-nuts.googlegroups.com"`,
	`glob(listId, "*.example.org")`,
	`messageId == "gen-1@example.org"`,
	`hasHeader("List-Unsubscribe") && !seen`,
	`subject != "" && size > 1000`,
	`seen ? size > 3000 : flagged`,
	`olderThan("90d") ? !flagged : subject contains "invoice"`,
	`subject matches "(?i)cron" && age > days(2)`,
	`date.Year() < 2020 || flagged`,
	`let s = subject; s contains "x" || draft`,
}

var (
	propertySubjects = []string{
		"", "Cron Daemon report", "=?utf-8?q?Cron_Daemon?= weekly", "Cron\r\n Daemon", "Weekly\r\n\tReport",
		"=?utf-8?b?V2Vla2x5IFJlcG9ydA==?=", "Re: invoice", "INVOICE", "=?iso-8859-1?q?Invoice?=", "sale [URGENT]",
		"Zażółć gęślą", "re: cron daemon",
	}
	propertyHeaders = []string{
		"", "X-Spam-Flag: YES\r\n", "X-Spam-Flag: yes\r\n", "X-Spam-Flag: NO\r\n", "X-SPAM-FLAG:   YES  \r\n",
		"List-Id: Go nuts <golang-nuts.googlegroups.com>\r\n", "List-Id: <News.Example.ORG>\r\n",
		"List-Id: =?utf-8?q?Announce?= <announce.example.org>\r\n", "List-Id: plainid\r\n",
		"List-Unsubscribe: <mailto:u@example.org>\r\n", "Message-Id: <gen-1@example.org>\r\n",
		"Message-ID: <GEN-1@EXAMPLE.ORG>\r\n", "X-Spam-Flag: NO\r\nX-Spam-Flag: YES\r\n",
	}
	propertyFlags = []string{`\Seen`, `\Flagged`, `\Answered`, `\Draft`, `\seen`, "$label1", "$Label1", "Work", "work"}
	propertyZones = []*time.Location{
		time.UTC, time.FixedZone("-12", -12*3600), time.FixedZone("+14", 14*3600), time.FixedZone("+0530", 5*3600+1800),
	}
)

// propertyMessages returns the testdata messages and generated ones with
// internal dates, sizes, flags and headers near the rules' boundaries.
func propertyMessages(t *testing.T) []*Message {
	t.Helper()
	var msgs []*Message
	names, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("testdata messages: %v (%d found)", err, len(names))
	}
	for _, name := range names {
		for _, flags := range [][]string{nil, {`\Seen`}, {`\Flagged`, "$label1"}} {
			m := loadMessage(t, filepath.Base(name), flags...)
			m.New = false
			msgs = append(msgs, m)
		}
	}
	if _, err := os.Stat(filepath.Join("testdata", "list.eml")); err != nil {
		t.Fatal(err)
	}
	// Instants near the boundaries the rules use.
	anchors := []time.Time{
		testNow, testNow.Add(-365 * 24 * time.Hour), testNow.Add(-30 * 24 * time.Hour), testNow.Add(-14 * 24 * time.Hour),
		testNow.Add(-7 * 24 * time.Hour), testNow.Add(-10 * 24 * time.Hour), testNow.Add(-90 * 24 * time.Hour),
		time.Unix(1030838400, 0), time.Unix(1700000000, 0), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2022, 12, 31, 23, 0, 0, 0, time.UTC), testNow.AddDate(0, -1, 0), testNow.Add(-36 * time.Hour),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var date time.Time
		if i%2 == 0 {
			date = anchors[rng.IntN(len(anchors))].Add(time.Duration(rng.Int64N(int64(96*time.Hour))) - 48*time.Hour)
		} else {
			date = testNow.Add(-time.Duration(rng.Int64N(int64(25 * 365 * 24 * time.Hour))))
		}
		zone := time.FixedZone("", (rng.IntN(27)-12)*3600)
		var flags []string
		for _, f := range propertyFlags {
			if rng.IntN(3) == 0 {
				flags = append(flags, f)
			}
		}
		sizes := []int64{0, 1, 5, 299, 300, 999, 1000, 1001, 2047, 2048, 2049, 3000, 4096, 4097, 5000, 5001, 1 << 20, 1<<20 + 1}
		size := sizes[rng.IntN(len(sizes))]
		if rng.IntN(2) == 0 {
			size = rng.Int64N(3 << 20)
		}
		var hdr strings.Builder
		if s := propertySubjects[rng.IntN(len(propertySubjects))]; s != "" {
			hdr.WriteString("Subject: " + s + "\r\n")
		}
		for range rng.IntN(3) {
			hdr.WriteString(propertyHeaders[rng.IntN(len(propertyHeaders))])
		}
		hdr.WriteString("\r\n")
		msgs = append(msgs, &Message{
			Account: "a", Mailbox: "INBOX", UID: uint32(i + 1), Flags: flags,
			InternalDate: date.In(zone), Size: size, Header: []byte(hdr.String()),
		})
	}
	return msgs
}

// TestSweepFilterConservative is the promise: whenever a sweep rule matches
// a message, a server evaluating the filter returns that message, in any
// time zone.
func TestSweepFilterConservative(t *testing.T) {
	msgs := propertyMessages(t)
	var all []Spec
	for i, when := range propertyRules {
		all = append(all, Spec{Name: fmt.Sprintf("r%d", i), When: when, Scope: ScopeAll, Flag: []string{"$x"}})
	}
	sets := []*Set{mustCompile(t, all)}
	for _, sp := range all {
		sets = append(sets, mustCompile(t, []Spec{sp}))
	}
	for _, set := range sets {
		f := set.SweepFilter(testNow)
		if f == nil {
			t.Fatalf("SweepFilter(%v) = nil", set.Names())
		}
		// A filter derived as exact must match exactly the rule's messages.
		exact := false
		if set.Len() == 1 {
			exact = derive(set.rules[0].cond, testNow).exact
		}
		matched := 0
		narrowed := 0
		for _, msg := range msgs {
			res := set.Evaluate(msg, testNow)
			if len(res.Errors) > 0 {
				t.Fatalf("Evaluate(uid %d) for %v: %v", msg.UID, set.Names(), res.Errors)
			}
			for _, loc := range propertyZones {
				in := imapMatch(f, msg, loc)
				if len(res.Matched) > 0 && !in {
					t.Fatalf("rules %v match message uid %d (date %s, size %d, flags %v, header %q) but SweepFilter() = %s does not (server zone %s)",
						res.Matched, msg.UID, msg.InternalDate, msg.Size, msg.Flags, msg.Header, f, loc)
				}
				if exact && len(res.Matched) == 0 && in {
					t.Fatalf("rule %v does not match message uid %d (size %d, flags %v) but its exact filter %s does",
						set.Names(), msg.UID, msg.Size, msg.Flags, f)
				}
				if !in && loc == time.UTC {
					narrowed++
				}
			}
			if len(res.Matched) > 0 {
				matched++
			}
		}
		t.Logf("%v: filter %s (exact %v): %d of %d messages match, %d filtered out", set.Names(), f, exact, matched, len(msgs), narrowed)
	}
}

// BenchmarkSweepFilter measures deriving the filter once per pass for a
// set of every property rule.
func BenchmarkSweepFilter(b *testing.B) {
	var specs []Spec
	for i, when := range propertyRules {
		specs = append(specs, Spec{Name: fmt.Sprintf("r%d", i), When: when, Scope: ScopeAll, Flag: []string{"$x"}})
	}
	set, err := Compile(specs)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if set.SweepFilter(testNow) == nil {
			b.Fatal("SweepFilter() = nil")
		}
	}
}
