package imap

import (
	"bytes"
	"os"
	"reflect"
	"testing"
	"time"
)

// A SELECT answer as Dovecot 2.3 sends it.
func TestParseDovecotSelect(t *testing.T) {
	input := "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n" +
		"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n" +
		"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 2] First unseen.\r\n" +
		"* OK [UIDVALIDITY 1732496123] UIDs valid\r\n* OK [UIDNEXT 4] Predicted next UID\r\n" +
		"* OK [HIGHESTMODSEQ 5] Highest\r\n" +
		"A4 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n"
	sel := &MailboxStatus{Name: "INBOX"}
	_, updates, err := collect(t, input, &command{sel: sel})
	want := &MailboxStatus{Name: "INBOX", Exists: 3, Unseen: 2, UIDValidity: 1732496123, UIDNext: 4, HighestModSeq: 5,
		Flags:          []string{FlagAnswered, FlagFlagged, FlagDeleted, FlagSeen, FlagDraft},
		PermanentFlags: []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`, `\*`}}
	if err != nil || !reflect.DeepEqual(sel, want) || len(updates) != 0 {
		t.Fatalf("Dovecot SELECT parsed as %+v (updates %v, err %v), want %+v", sel, updates, err, want)
	}
}

// The FETCH stream recorded from Dovecot (see TestRecordFetchHeaders)
// parses completely, message by message.
func TestParseDovecotFetchRecording(t *testing.T) {
	stream, err := os.ReadFile("testdata/fetch_headers.imap")
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Count(stream, []byte(" FETCH ("))
	n := 0
	var last uint32
	_, updates, err := collect(t, string(stream)+"A1 OK Fetch completed.\r\n", &command{fetch: func(m *FetchMessage) error {
		n++
		if m.UID <= last || m.SeqNum != uint32(n) {
			t.Errorf("message %d: UID %d after %d, seq %d", n, m.UID, last, m.SeqNum)
		}
		last = m.UID
		if m.InternalDate.Before(time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC)) || len(m.Sections) != 1 ||
			m.Sections[0].Section != "HEADER.FIELDS (X-SPAM-FLAG LIST-ID SUBJECT FROM TO MESSAGE-ID DATE)" ||
			!bytes.HasSuffix(m.Sections[0].Data, []byte("\r\n")) {
			t.Errorf("message %d parsed as %+v", n, m)
		}
		return nil
	}})
	if err != nil || n != want || len(updates) != 0 {
		t.Fatalf("recording: %d of %d messages, updates %v, err %v", n, want, updates, err)
	}
}
