package imap

import (
	"reflect"
	"testing"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// TestRouteOrder checks who gets an untagged response: the command in
// flight, then the connection's registrations (as NOTIFY will use for
// STATUS of other mailboxes), then the default handler.
func TestRouteOrder(t *testing.T) {
	input := "* STATUS Lists (MESSAGES 4)\r\n" +
		"* QUOTA \"\" (STORAGE 10 512)\r\n" +
		"* 3 EXISTS\r\n" +
		"* FETCH (UID 1)\r\n" +
		"A1 OK done\r\n"
	var updates []Update
	c := parseClient(t, input, &Options{UpdateHandler: func(u Update) { updates = append(updates, u) }})
	var other []*StatusData
	c.on = handlers{"STATUS": func(d *imapwire.Decoder, _ uint32) error {
		if err := d.SP(); err != nil {
			return err
		}
		s, err := c.readStatus(d)
		if err != nil {
			return err
		}
		other = append(other, s)
		return d.CRLF()
	}}
	var roots []QuotaRoot
	c.cur = &command{on: handlers{"QUOTA": quotaHandler(&roots)}}
	for {
		kind, err := c.readResponse()
		if err != nil {
			t.Fatalf("readResponse: %v", err)
		}
		if kind == respTagged {
			break
		}
	}
	if len(other) != 1 || other[0].Mailbox != "Lists" || other[0].Messages == nil || *other[0].Messages != 4 {
		t.Errorf("connection STATUS handler got %+v", other)
	}
	if len(roots) != 1 {
		t.Errorf("command QUOTA handler got %+v", roots)
	}
	want := []Update{
		{Kind: UpdateExists, Num: 3},
		{Kind: UpdateOther, Text: "FETCH (UID 1)"},
	}
	if !reflect.DeepEqual(updates, want) {
		t.Errorf("updates = %+v, want %+v", updates, want)
	}
}

// TestRouteCommandFirst checks that a command's registration wins over the
// connection's for the same name.
func TestRouteCommandFirst(t *testing.T) {
	c := parseClient(t, "* STATUS INBOX (MESSAGES 2)\r\nA1 OK\r\n", nil)
	c.on = handlers{"STATUS": func(*imapwire.Decoder, uint32) error {
		t.Error("connection handler called for a STATUS the command collects")
		return nil
	}}
	var st StatusData
	c.cur = &command{status: &st}
	for {
		kind, err := c.readResponse()
		if err != nil {
			t.Fatalf("readResponse: %v", err)
		}
		if kind == respTagged {
			break
		}
	}
	if st.Mailbox != "INBOX" || st.Messages == nil || *st.Messages != 2 {
		t.Errorf("STATUS = %+v", st)
	}
}
