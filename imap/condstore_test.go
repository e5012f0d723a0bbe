package imap

import (
	"io"
	"strings"
	"testing"
)

// TestVanishedResponses parses VANISHED (RFC 7162 section 3.2.10) as the
// default handler sees it: a live VANISHED lowers the message count, a
// VANISHED (EARLIER) does not, and both reach the update handler.
func TestVanishedResponses(t *testing.T) {
	var got []*VanishedData
	data := "* VANISHED (EARLIER) 41,43:45\r\n* VANISHED 405,407\r\n* VANISHED (LATER) 1\r\n"
	c, err := New(rwc{strings.NewReader("* OK [CAPABILITY IMAP4rev1] hi\r\n" + data), io.Discard}, &Options{UpdateHandler: func(u Update) {
		if u.Kind == UpdateVanished {
			got = append(got, u.Vanished)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	c.mailbox = &MailboxStatus{Name: "INBOX", Exists: 10}
	for i := 0; i < 2; i++ {
		if _, err := c.readResponse(); err != nil {
			t.Fatalf("readResponse %d: %v", i, err)
		}
	}
	// An unknown tag is a syntax error: the line is skipped (the parser
	// is lenient with untagged data), nothing is delivered.
	_, _ = c.readResponse()
	if len(got) != 2 || !got[0].Earlier || got[0].UIDs.String() != "41,43:45" || got[1].Earlier || got[1].UIDs.String() != "405,407" {
		t.Fatalf("VANISHED updates = %+v, want EARLIER 41,43:45 then 405,407", got)
	}
	if c.mailbox.Exists != 8 {
		t.Errorf("Exists after VANISHED 405,407 = %d, want 8", c.mailbox.Exists)
	}
}

// TestFetchModifiers checks what FetchOptions put on the wire.
func TestFetchModifiers(t *testing.T) {
	tests := []struct {
		opts *FetchOptions
		want string
	}{
		{nil, ""},
		{&FetchOptions{}, ""},
		{&FetchOptions{ChangedSince: 12345}, " (CHANGEDSINCE 12345)"},
		{&FetchOptions{ChangedSince: 7, Vanished: true}, " (CHANGEDSINCE 7 VANISHED)"},
	}
	for _, tt := range tests {
		if got := tt.opts.modifiers(); got != tt.want {
			t.Errorf("modifiers(%+v) = %q, want %q", tt.opts, got, tt.want)
		}
	}
	q := &QResyncState{UIDValidity: 67890007, ModSeq: 20050715194045000, KnownUIDs: SeqSet{{Start: 41, Stop: 41}, {Start: 43, Stop: 211}}}
	if got, want := q.param(), " (QRESYNC (67890007 20050715194045000 41,43:211))"; got != want {
		t.Errorf("QResyncState.param() = %q, want %q", got, want)
	}
}
