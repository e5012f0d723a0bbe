package message

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	raw := "Message-ID: <abc@example.org>\r\n" +
		"From: =?utf-8?q?J=C3=B6rg?= <Joerg@Example.ORG>\r\n" +
		"Subject: =?iso-8859-1?q?caf=E9?=\r\n" +
		"Date: Tue, 14 May 2024 08:30:00 +0200\r\n" +
		"\r\n" +
		"Subject: in the body\r\n"
	tests := []struct {
		name string
		raw  string
		want Summary
	}{
		{"whole message", raw, Summary{MessageID: "abc@example.org", From: "Jörg <Joerg@example.org>", Subject: "café", Date: "Tue, 14 May 2024 08:30:00 +0200"}},
		{"From without an address", "From: =?utf-8?q?n=C3=B6?= body\n", Summary{From: "nö body"}},
		{"empty header", "\r\nSubject: body\r\n", Summary{}},
		{"empty", "", Summary{}},
	}
	for _, tc := range tests {
		if got := Summarize([]byte(tc.raw)); got != tc.want {
			t.Errorf("%s: Summarize = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := ID([]byte(raw)); got != "abc@example.org" {
		t.Errorf("ID = %q, want %q", got, "abc@example.org")
	}
	if got := ID([]byte("Subject: none\r\n\r\nMessage-ID: <body@x>\r\n")); got != "" {
		t.Errorf("ID without Message-ID = %q, want \"\"", got)
	}
	if got, want := Date([]byte(raw)), time.Date(2024, 5, 14, 6, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Date = %v, want %v", got, want)
	}
	if got := Date([]byte("Date: garbage\n\n")); !got.IsZero() {
		t.Errorf("Date(garbage) = %v, want zero", got)
	}
}
