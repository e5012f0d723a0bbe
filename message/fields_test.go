package message

import (
	"testing"
	"time"
)

func TestParseListID(t *testing.T) {
	for _, tc := range []struct{ in, id, name string }{
		{`"Go nuts" <golang-nuts.googlegroups.com>`, "golang-nuts.googlegroups.com", "golang-nuts"},
		{`<Dev.Lists.Example.ORG>`, "dev.lists.example.org", "dev"},
		{`plain-id.example.com`, "plain-id.example.com", "plain-id"},
		{`Some list <weird/list id.example>`, "weird/list id.example", "weird-list-id"},
		{``, "", ""},
	} {
		id := ParseListID(tc.in)
		if id != tc.id || ListName(id) != tc.name {
			t.Errorf("ParseListID(%q) = %q (name %q), want %q (name %q)", tc.in, id, ListName(id), tc.id, tc.name)
		}
	}
}

func TestParseMsgID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<abc.123@mail.example.ru>", "abc.123@mail.example.ru"},
		{"  <a@b> (comment)", "a@b"},
		{"no-brackets@example.com ", "no-brackets@example.com"},
		{"<unclosed@example.com", "<unclosed@example.com"},
		{"", ""},
	} {
		if got := ParseMsgID(tc.in); got != tc.want {
			t.Errorf("ParseMsgID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2024, 5, 14, 6, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"Tue, 14 May 2024 08:30:00 +0200", want},
		{"14 May 2024 06:30:00 +0000", want},
		{"Tue, 14 May 2024 08:30:00 +0200 (CEST)", want},
		{"2024-05-14T06:30:00Z", want},
		{"2024-05-14 08:30:00 +0200", want},
		{"Tue, 14 May 2024 08:30 +0200", want},
		{"yesterday", time.Time{}},
		{"", time.Time{}},
	} {
		if got := ParseDate(tc.in); !got.Equal(tc.want) {
			t.Errorf("ParseDate(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSpamScore(t *testing.T) {
	for _, tc := range []struct {
		fields map[string]string
		want   float64
	}{
		{map[string]string{"X-Spam-Status": "Yes, score=7.3 required=5.0 tests=X"}, 7.3},
		{map[string]string{"X-Spam-Status": "No, hits=-0.9 required=5.0"}, -0.9},
		{map[string]string{"X-Spam-Status": "No", "X-Spam-Score": " 4.5"}, 4.5},
		{map[string]string{"X-Rspamd-Score": "12.50 / 15.00"}, 12.5},
		{map[string]string{"X-Spam-Score": "high", "X-Rspamd-Score": "3"}, 3},
		{map[string]string{"X-Spam-Score": "."}, 0},
		{nil, 0},
	} {
		if got := SpamScore(func(name string) string { return tc.fields[name] }); got != tc.want {
			t.Errorf("SpamScore(%v) = %v, want %v", tc.fields, got, tc.want)
		}
	}
}
