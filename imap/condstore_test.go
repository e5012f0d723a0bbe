package imap

import (
	"context"
	"fmt"
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

// TestUIDFetchChangedSinceOnTheWire scripts what a server without
// QRESYNC sends for UID FETCH (CHANGEDSINCE): the answers with their UID
// and MODSEQ reach the callback; a FETCH without UID meanwhile (another
// client's change, by sequence number) is news and reaches the update
// handler, so a waiting client learns of it. Scripted: on Dovecot the
// interleaving is a matter of timing (TestDovecotCondStore sees it too).
func TestUIDFetchChangedSinceOnTheWire(t *testing.T) {
	var updates []Update
	c := dialFake(t, &Options{UpdateHandler: func(u Update) { updates = append(updates, u) }}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 CONDSTORE ENABLE] ready")
		tag := s.expect("SELECT INBOX (CONDSTORE)")
		s.send("* 3 EXISTS", "* OK [HIGHESTMODSEQ 20] Highest", tag+" OK [READ-WRITE] done")
		tag = s.expect("UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 12)")
		s.send(`* 2 FETCH (UID 7 FLAGS (\Flagged) MODSEQ (19))`,
			`* 3 FETCH (FLAGS (\Seen) MODSEQ (21))`,
			tag+" OK done")
		tag = s.expect("UID STORE 7,9 (UNCHANGEDSINCE 19) +FLAGS.SILENT ($Done)")
		s.send(tag + " OK [MODIFIED 9] Conditional STORE failed")
	})
	ctx := context.Background()
	st, err := c.Select(ctx, "INBOX", &SelectOptions{CondStore: true})
	if err != nil || st.HighestModSeq != 20 {
		t.Fatalf("Select(CONDSTORE) = %+v, %v; want HIGHESTMODSEQ 20", st, err)
	}
	var got []string
	_, err = c.UIDFetchWith(ctx, SeqSet{{Start: 1, Stop: 0}}, []FetchItem{FetchUID, FetchFlags}, &FetchOptions{ChangedSince: 12}, func(m *FetchMessage) error {
		got = append(got, fmt.Sprintf("%d %v %d", m.UID, m.Flags, m.ModSeq))
		return nil
	})
	if err != nil || len(got) != 1 || got[0] != `7 [\Flagged] 19` {
		t.Fatalf("UIDFetchWith(CHANGEDSINCE 12) = %q, %v; want UID 7 alone", got, err)
	}
	if len(updates) != 1 || updates[0].Kind != UpdateFetch || updates[0].Num != 3 || updates[0].Message.ModSeq != 21 {
		t.Errorf("updates = %+v, want the FETCH of message 3 (MODSEQ 21)", updates)
	}
	modified, err := c.UIDStoreUnchangedSince(ctx, SeqSetFromNums(7, 9), 19, StoreAdd, true, []string{"$Done"})
	if err != nil || modified.String() != "9" {
		t.Errorf("UIDStoreUnchangedSince = %v, %v; want MODIFIED 9", modified, err)
	}
}
