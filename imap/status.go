package imap

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// StatusItem is a STATUS data item (RFC 3501 section 6.3.10).
type StatusItem string

// Status items.
const (
	StatusMessages      StatusItem = "MESSAGES"
	StatusRecent        StatusItem = "RECENT"
	StatusUIDNext       StatusItem = "UIDNEXT"
	StatusUIDValidity   StatusItem = "UIDVALIDITY"
	StatusUnseen        StatusItem = "UNSEEN"
	StatusHighestModSeq StatusItem = "HIGHESTMODSEQ" // RFC 7162
)

// StatusData is a STATUS response (RFC 3501 section 7.2.4). A nil pointer
// means the server did not return that item.
type StatusData struct {
	Mailbox       string
	Messages      *uint32
	Recent        *uint32
	UIDNext       *uint32
	UIDValidity   *uint32
	Unseen        *uint32
	HighestModSeq uint64
}

// Status sends STATUS for name (RFC 3501 section 6.3.10). With no items it
// asks for MESSAGES, UIDNEXT, UIDVALIDITY and UNSEEN.
func (c *Client) Status(ctx context.Context, name string, items ...StatusItem) (*StatusData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(items) == 0 {
		items = []StatusItem{StatusMessages, StatusUIDNext, StatusUIDValidity, StatusUnseen}
	}
	data := &StatusData{}
	cmd := &command{name: "STATUS", status: data, statusOf: name}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("STATUS ")
		if err := b.mailbox(name); err != nil {
			return err
		}
		b.sp()
		return b.statusItems(items)
	})
	if err != nil {
		return nil, err
	}
	if data.Mailbox == "" {
		data.Mailbox = name
	}
	return data, nil
}

// readStatusLine parses an untagged STATUS response after its name: SP,
// the response (readStatus), CRLF.
func (c *Client) readStatusLine(d *imapwire.Decoder) (*StatusData, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	s, err := c.readStatus(d)
	if err != nil {
		return nil, err
	}
	return s, d.CRLF()
}

// statusItems writes a parenthesized list of STATUS items (RFC 3501
// section 6.3.10), upper-cased.
func (b *builder) statusItems(items []StatusItem) error {
	b.raw("(")
	for i, it := range items {
		if i > 0 {
			b.sp()
		}
		if !imapwire.IsAtom(string(it)) {
			return fmt.Errorf("invalid status item %q", it)
		}
		b.atom(strings.ToUpper(string(it)))
	}
	b.raw(")")
	return nil
}

// readStatus parses the rest of a STATUS response: mailbox SP "(" [status-att-list] ")".
func (c *Client) readStatus(d *imapwire.Decoder) (*StatusData, error) {
	name, err := d.AString()
	if err != nil {
		return nil, err
	}
	s := &StatusData{Mailbox: c.decodeMailbox(name)}
	if err := d.SP(); err != nil {
		return nil, err
	}
	var item string
	i := 0
	err = d.List(func() error {
		defer func() { i++ }()
		if i%2 == 0 {
			a, err := d.Atom()
			item = strings.ToUpper(string(a))
			return err
		}
		n, err := d.Number64()
		if err != nil {
			return err
		}
		v := uint32(n)
		switch StatusItem(item) {
		case StatusMessages:
			s.Messages = &v
		case StatusRecent:
			s.Recent = &v
		case StatusUIDNext:
			s.UIDNext = &v
		case StatusUIDValidity:
			s.UIDValidity = &v
		case StatusUnseen:
			s.Unseen = &v
		case StatusHighestModSeq:
			s.HighestModSeq = n
		}
		return nil
	})
	return s, err
}
