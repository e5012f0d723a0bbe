package imap

import (
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// collect reads responses from c until a tagged one (or an error), with cmd
// in flight, and returns the updates delivered meanwhile.
func collect(t testing.TB, input string, cmd *command) (*Client, []Update, error) {
	t.Helper()
	var updates []Update
	c := parseClient(t, input, &Options{UpdateHandler: func(u Update) { updates = append(updates, u) }})
	if cmd == nil {
		cmd = &command{}
	}
	c.cur = cmd
	for {
		kind, err := c.readResponse()
		if err != nil {
			return c, updates, err
		}
		if kind == respTagged {
			return c, updates, nil
		}
	}
}

// Examples of RFC 3501 section 7, one response each, followed by a tagged OK.
func TestParseRFC3501Section7(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []Update
	}{
		{"7.1.1 OK ALERT", "* OK [ALERT] System shutdown in 10 minutes", []Update{{Kind: UpdateAlert, Text: "System shutdown in 10 minutes", Code: "ALERT"}}},
		{"7.1.2 NO", "* NO Disk is 98% full, please delete unnecessary files", []Update{{Kind: UpdateOther, Text: "NO Disk is 98% full, please delete unnecessary files"}}},
		{"7.1.3 BAD", "* BAD Command line too long", []Update{{Kind: UpdateOther, Text: "BAD Command line too long"}}},
		{"7.1.5 BYE", "* BYE Autologout; idle for too long", []Update{{Kind: UpdateBye, Text: "Autologout; idle for too long"}}},
		{"7.3.1 EXISTS", "* 23 EXISTS", []Update{{Kind: UpdateExists, Num: 23}}},
		{"7.3.2 RECENT", "* 5 RECENT", []Update{{Kind: UpdateRecent, Num: 5}}},
		{"7.4.1 EXPUNGE", "* 44 EXPUNGE", []Update{{Kind: UpdateExpunge, Num: 44}}},
		{"unknown response kept", "* XPIG-LATIN ello-hay {3}\r\nabc here", []Update{{Kind: UpdateOther, Text: "XPIG-LATIN ello-hay {3}\r\nabc here"}}},
		{"lenient: extra spaces", "*  3  EXISTS  ", []Update{{Kind: UpdateExists, Num: 3}}},
		{"lenient: OK without text", "* OK", []Update{{Kind: UpdateOther, Text: "OK"}}},
		{"lenient: bare LF", "* 4 EXISTS\n", []Update{{Kind: UpdateExists, Num: 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.input
			if !strings.HasSuffix(input, "\n") {
				input += "\r\n"
			}
			_, got, err := collect(t, input+"A1 OK done\r\n", nil)
			if err != nil {
				t.Fatalf("parse %q: %v", tt.input, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parse %q = %+v, want %+v", tt.input, got, tt.want)
			}
		})
	}
}

func TestParseCapability(t *testing.T) {
	// RFC 3501 section 7.2.1
	c, _, err := collect(t, "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI XPIG-LATIN\r\nA1 OK\r\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range []Cap{CapIMAP4rev1, CapStartTLS, "AUTH=GSSAPI", "XPIG-LATIN"} {
		if !c.Has(cp) {
			t.Errorf("Has(%q) = false after CAPABILITY, want true", cp)
		}
	}
	if got := c.Caps().AuthMechs(); !reflect.DeepEqual(got, []string{"GSSAPI"}) {
		t.Errorf("AuthMechs() = %v, want [GSSAPI]", got)
	}
	// response code form, in a tagged OK
	c, _, err = collect(t, "A1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Has(CapMove) || !c.Has(CapIdle) || c.Has(CapStartTLS) {
		t.Errorf("Caps() = %v after [CAPABILITY ...] code, want IMAP4rev1 IDLE MOVE", c.Caps())
	}
}

func TestParseList(t *testing.T) {
	input := `* LIST (\Noselect) "/" ~/Mail/foo` + "\r\n" + // RFC 3501 section 7.2.2
		`* LSUB () "." #news.comp.mail.misc` + "\r\n" + // section 7.2.3
		`* LIST (\HasNoChildren \Trash) NIL "Entw&APw-rfe"` + "\r\n" +
		`* LIST () "/" {7}` + "\r\nfoo bar\r\n" +
		`* LIST (\HasChildren) "." INBOX ("CHILDINFO" ("SUBSCRIBED"))` + "\r\n" +
		"A1 OK\r\n"
	var got []*ListData
	_, _, err := collect(t, input, &command{list: &got})
	if err != nil {
		t.Fatal(err)
	}
	want := []*ListData{
		{Attrs: []string{`\Noselect`}, Delim: "/", Name: "~/Mail/foo"},
		{Attrs: nil, Delim: ".", Name: "#news.comp.mail.misc"},
		{Attrs: []string{`\HasNoChildren`, `\Trash`}, Delim: "", Name: "Entwürfe"},
		{Attrs: nil, Delim: "/", Name: "foo bar"},
		{Attrs: []string{`\HasChildren`}, Delim: ".", Name: "INBOX"},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d LIST responses, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("LIST %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseStatus(t *testing.T) {
	// RFC 3501 section 7.2.4
	var got StatusData
	_, _, err := collect(t, "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)\r\nA1 OK\r\n", &command{status: &got})
	if err != nil {
		t.Fatal(err)
	}
	if got.Mailbox != "blurdybloop" || got.Messages == nil || *got.Messages != 231 || got.UIDNext == nil ||
		*got.UIDNext != 44292 || got.Unseen != nil || got.HighestModSeq != 7011231777 {
		t.Fatalf("STATUS parsed as %+v", got)
	}
}

func TestParseSearch(t *testing.T) {
	tests := []struct {
		input string
		want  []uint32
	}{
		{"* SEARCH 2 3 6", []uint32{2, 3, 6}}, // RFC 3501 section 7.2.5
		{"* SEARCH", nil},
		{"* SEARCH 2 5 (MODSEQ 917162500)", []uint32{2, 5}},                           // RFC 7162 section 3.1.5
		{`* ESEARCH (TAG "A282") UID MIN 2 COUNT 3 ALL 2,10:11`, []uint32{2, 10, 11}}, // RFC 4731
	}
	for _, tt := range tests {
		var got []uint32
		_, _, err := collect(t, tt.input+"\r\nA1 OK\r\n", &command{search: &got})
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parse %q = %v, %v, want %v", tt.input, got, err, tt.want)
		}
	}
}

func TestParseSelect(t *testing.T) {
	// RFC 3501 section 6.3.1 example
	input := "* 172 EXISTS\r\n* 1 RECENT\r\n* OK [UNSEEN 12] Message 12 is first unseen\r\n" +
		"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n* OK [UIDNEXT 4392] Predicted next UID\r\n" +
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)` + "\r\n" +
		`* OK [PERMANENTFLAGS (\Deleted \Seen \*)] Limited` + "\r\n" +
		"* OK [HIGHESTMODSEQ 715194045007]\r\n" +
		"A142 OK [READ-WRITE] SELECT completed\r\n"
	sel := &MailboxStatus{Name: "INBOX"}
	_, updates, err := collect(t, input, &command{sel: sel})
	if err != nil {
		t.Fatal(err)
	}
	want := &MailboxStatus{Name: "INBOX", Exists: 172, Recent: 1, Unseen: 12, UIDValidity: 3857529045, UIDNext: 4392,
		Flags:          []string{FlagAnswered, FlagFlagged, FlagDeleted, FlagSeen, FlagDraft},
		PermanentFlags: []string{`\Deleted`, `\Seen`, `\*`}, HighestModSeq: 715194045007}
	if !reflect.DeepEqual(sel, want) {
		t.Fatalf("SELECT parsed as %+v, want %+v", sel, want)
	}
	if len(updates) != 0 {
		t.Fatalf("SELECT data delivered as updates: %+v", updates)
	}
}

// The FETCH of RFC 3501 section 8, with ENVELOPE and BODY.
func TestParseFetchFull(t *testing.T) {
	input := `* 12 FETCH (FLAGS (\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" ` +
		`RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" ` +
		`"IMAP4rev1 WG mtg summary and minutes" ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
		`((NIL NIL "imap" "cac.washington.edu")) ` +
		`((NIL NIL "minutes" "CNRI.Reston.VA.US") ` +
		`("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ` +
		`"<B27397-0100000@cac.washington.edu>") ` +
		`BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))` + "\r\nA1 OK\r\n"
	var got *FetchMessage
	_, _, err := collect(t, input, &command{fetch: func(m *FetchMessage) error { got = m.Clone(); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	gray := Address{Name: "Terry Gray", Mailbox: "gray", Host: "cac.washington.edu"}
	want := &FetchMessage{
		SeqNum: 12, Flags: []string{FlagSeen},
		InternalDate: time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600)),
		Size:         4286,
		Envelope: &Envelope{
			Date: "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", Subject: "IMAP4rev1 WG mtg summary and minutes",
			From: []Address{gray}, Sender: []Address{gray}, ReplyTo: []Address{gray},
			To:        []Address{{Mailbox: "imap", Host: "cac.washington.edu"}},
			Cc:        []Address{{Mailbox: "minutes", Host: "CNRI.Reston.VA.US"}, {Name: "John Klensin", Mailbox: "KLENSIN", Host: "MIT.EDU"}},
			MessageID: "<B27397-0100000@cac.washington.edu>",
		},
		BodyStructure: &BodyStructure{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "US-ASCII"},
			Encoding: "7BIT", Size: 3028, Lines: 92},
	}
	if got == nil {
		t.Fatal("no message delivered")
	}
	if !got.InternalDate.Equal(want.InternalDate) {
		t.Errorf("InternalDate = %v, want %v", got.InternalDate, want.InternalDate)
	}
	got.InternalDate = want.InternalDate
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FETCH parsed as\n%+v\nwant\n%+v", got, want)
	}
	if !reflect.DeepEqual(got.Envelope, want.Envelope) {
		t.Errorf("Envelope = %+v, want %+v", got.Envelope, want.Envelope)
	}
}

func TestParseFetchSections(t *testing.T) {
	header := "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\nSubject: IMAP4rev1 WG mtg summary and minutes\r\n\r\n"
	input := "* 12 FETCH (UID 4827313 BODY[HEADER] {" + strconv.Itoa(len(header)) + "}\r\n" + header +
		" BODY[header.fields (SUBJECT)] \"Subject: x\" BODY[HEADER.FIELDS (\"Message-ID\" \"X-\\\\Q\")] \"Message-ID: <a>\" BODY[]<0> ~{3}\r\nab\x00 BODY[1.MIME] NIL MODSEQ (624140003)" +
		" X-GM-LABELS (\\Inbox \"a b\") RFC822.SIZE 44827)\r\nA1 OK\r\n"
	var got *FetchMessage
	_, _, err := collect(t, input, &command{fetch: func(m *FetchMessage) error { got = m.Clone(); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	want := &FetchMessage{SeqNum: 12, UID: 4827313, Size: 44827, ModSeq: 624140003,
		Sections: []BodySection{
			{Section: "HEADER", Origin: -1, Data: []byte(header)},
			{Section: "HEADER.FIELDS (SUBJECT)", Origin: -1, Data: []byte("Subject: x")},
			{Section: `HEADER.FIELDS (MESSAGE-ID X-\Q)`, Origin: -1, Data: []byte("Message-ID: <a>")},
			{Section: "", Origin: 0, Data: []byte("ab\x00")},
			{Section: "1.MIME", Origin: -1, Data: nil},
		},
		Other: []string{`X-GM-LABELS (\Inbox "a b")`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("FETCH parsed as\n%+v\nwant\n%+v", got, want)
	}
	if s := got.Section("header.fields (subject)"); string(s) != "Subject: x" {
		t.Errorf("Section(header.fields (subject)) = %q", s)
	}
}

func TestParseBodyStructureMultipart(t *testing.T) {
	// RFC 3501 section 7.4.2 style multipart/mixed with extension data, a
	// nested message/rfc822 and a multipart/alternative.
	input := `* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL)` +
		`("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73 NIL ("attachment" ("FILENAME" "cc.diff")) NIL NIL)` +
		`("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 342 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "HTML" NIL NIL NIL "8BIT" 10 1) 12)` +
		`(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)("TEXT" "HTML" NIL NIL NIL "7BIT" 1 1) "ALTERNATIVE")` +
		` "MIXED" ("BOUNDARY" "x") NIL ("EN" "DE") "loc" extra (1 2)))` + "\r\nA1 OK\r\n"
	var bs *BodyStructure
	_, _, err := collect(t, input, &command{fetch: func(m *FetchMessage) error { bs = m.BodyStructure; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if bs == nil || bs.MediaType() != "multipart/mixed" || len(bs.Parts) != 4 || bs.Params["boundary"] != "x" ||
		!reflect.DeepEqual(bs.Language, []string{"EN", "DE"}) || bs.Location != "loc" {
		t.Fatalf("BODYSTRUCTURE root = %+v", bs)
	}
	att := bs.Parts[1]
	if att.Filename() != "cc.diff" || att.Disposition != "attachment" || att.Description != "Compiler diff" || att.Size != 4554 || att.Lines != 73 {
		t.Errorf("attachment part = %+v", att)
	}
	msg := bs.Parts[2]
	if msg.Envelope == nil || msg.Envelope.Subject != "inner" || msg.Body == nil || msg.Body.MediaType() != "text/html" || msg.Lines != 12 {
		t.Errorf("message/rfc822 part = %+v", msg)
	}
	var paths []string
	bs.Walk(func(path string, p *BodyStructure) bool {
		paths = append(paths, path+"="+p.MediaType())
		return true
	})
	wantPaths := []string{"=multipart/mixed", "1=text/plain", "2=text/plain", "3=message/rfc822", "4=multipart/alternative", "4.1=text/plain", "4.2=text/html"}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Errorf("Walk = %v, want %v", paths, wantPaths)
	}
}

// Unsolicited FETCH (flag change) outside a FETCH command becomes an update.
func TestParseUnsolicitedFetch(t *testing.T) {
	_, updates, err := collect(t, `* 12 FETCH (FLAGS (\Seen \Deleted))`+"\r\nA1 OK\r\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 1 || updates[0].Kind != UpdateFetch || updates[0].Num != 12 ||
		!reflect.DeepEqual(updates[0].Message.Flags, []string{FlagSeen, FlagDeleted}) {
		t.Fatalf("updates = %+v", updates)
	}
}

// A malformed known response is skipped (literal included) and reported;
// the connection goes on.
func TestParseMalformedRecovers(t *testing.T) {
	input := "* 3 FETCH (UID abc BODY[] {5}\r\nhello)\r\n* 4 EXISTS\r\nA1 OK\r\n"
	_, updates, err := collect(t, input, nil)
	if err != nil {
		t.Fatalf("malformed FETCH killed the connection: %v", err)
	}
	if len(updates) != 2 || updates[0].Kind != UpdateOther || updates[1].Kind != UpdateExists || updates[1].Num != 4 {
		t.Fatalf("updates = %+v", updates)
	}
}

func TestParseHostile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  error
	}{
		{"4 GB literal", "* 1 FETCH (BODY[] {4294967296}\r\n", imapwire.ErrLiteralTooLarge},
		{"4 GB literal in unknown response", "* XFOO {4294967296}\r\n", imapwire.ErrLiteralTooLarge},
		{"deep nesting", "* 1 FETCH (BODYSTRUCTURE " + strings.Repeat("(", 10000) + "\r\n", imapwire.ErrTooDeep},
		{"deep nesting unknown item", "* 1 FETCH (X " + strings.Repeat("(", 10000) + "\r\n", imapwire.ErrTooDeep},
		{"EOF mid literal", "* 1 FETCH (BODY[] {100}\r\nshort", nil},
		{"garbage tag response", "A1 MAYBE\r\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := collect(t, tt.input, &command{fetch: func(*FetchMessage) error { return nil }})
			if err == nil {
				t.Fatalf("parse %q succeeded, want error", tt.input)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("parse %q = %v, want %v", tt.input, err, tt.want)
			}
		})
	}
}

// A server announcing a 4 GB literal gets an error, not an allocation.
func TestHugeLiteralNotAllocated(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := collect(t, "* 1 FETCH (BODY[] {4294967296}\r\n"+strings.Repeat("x", 1000), &command{fetch: func(*FetchMessage) error { return nil }})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, imapwire.ErrLiteralTooLarge) {
		t.Fatalf("4 GB literal: err = %v, want ErrLiteralTooLarge", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("4 GB literal announcement allocated %d bytes", grew)
	}
	// Within the limit, memory follows the data that arrives, not the announcement.
	runtime.ReadMemStats(&before)
	_, _, err = collect(t, "* 1 FETCH (BODY[] {60000000}\r\nonly a few bytes", &command{fetch: func(*FetchMessage) error { return nil }})
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("truncated literal: no error")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("60 MB literal announcement with 16 bytes of data allocated %d bytes", grew)
	}
}
