package imap

import (
	"context"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// ListStatus sends LIST with several patterns and RETURN (STATUS (items))
// (LIST-STATUS, RFC 5819; multiple patterns, RFC 5258 section 3): one
// command that answers STATUS for every mailbox the patterns match, such
// as the exact names of the mailboxes to poll. With no items it asks for
// MESSAGES, UIDNEXT, UIDVALIDITY and UNSEEN. The STATUS results come in the
// server's order; a mailbox that cannot be selected (\Noselect,
// \NonExistent) has a LIST response but no STATUS (RFC 5819 section 1).
// ListStatus fails with ErrNotSupported when the server lacks LIST-STATUS
// or LIST-EXTENDED.
func (c *Client) ListStatus(ctx context.Context, ref string, patterns []string, items ...StatusItem) ([]*ListData, []*StatusData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapListStatus) {
		return nil, nil, notSupported("list-status", CapListStatus)
	}
	if !c.Has(CapListExtended) {
		return nil, nil, notSupported("list-status", CapListExtended)
	}
	if len(patterns) == 0 {
		return nil, nil, nil
	}
	if len(items) == 0 {
		items = []StatusItem{StatusMessages, StatusUIDNext, StatusUIDValidity, StatusUnseen}
	}
	var (
		lists    []*ListData
		statuses []*StatusData
	)
	cmd := &command{name: "LIST", list: &lists, on: handlers{"STATUS": func(d *imapwire.Decoder, _ uint32) error {
		s, err := c.readStatusLine(d)
		if err != nil {
			return err
		}
		statuses = append(statuses, s)
		return nil
	}}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("LIST ")
		if err := b.listMailbox(ref); err != nil {
			return err
		}
		b.raw(" (")
		for i, p := range patterns {
			if i > 0 {
				b.sp()
			}
			if err := b.listMailbox(p); err != nil {
				return err
			}
		}
		b.raw(") RETURN (STATUS ")
		if err := b.statusItems(items); err != nil {
			return err
		}
		b.raw(")")
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return lists, statuses, nil
}
