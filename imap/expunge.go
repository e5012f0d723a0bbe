package imap

import "context"

// Expunge sends EXPUNGE (RFC 3501 section 6.4.3): every message flagged
// \Deleted in the selected mailbox is removed, including messages other
// clients flagged. It returns the sequence numbers as the server reported
// them (each relative to the mailbox after the previous ones went).
func (c *Client) Expunge(ctx context.Context) ([]uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireWritable("expunge"); err != nil {
		return nil, err
	}
	expunged := []uint32{}
	cmd := &command{name: "EXPUNGE", on: handlers{"EXPUNGE": c.collectExpunge(&expunged)}}
	if _, err := c.run(ctx, cmd, func(b *builder) error { b.atom("EXPUNGE"); return nil }); err != nil {
		return nil, err
	}
	return expunged, nil
}

// UIDExpunge sends UID EXPUNGE (RFC 4315 section 2.1): only the \Deleted
// messages whose UIDs are in uids are removed. It fails with ErrNotSupported
// when the server lacks UIDPLUS, sending nothing.
func (c *Client) UIDExpunge(ctx context.Context, uids SeqSet) ([]uint32, error) {
	if len(uids) == 0 {
		return []uint32{}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapUIDPlus) {
		return nil, notSupported("uid expunge", CapUIDPlus)
	}
	if err := c.requireWritable("uid expunge"); err != nil {
		return nil, err
	}
	expunged := []uint32{}
	cmd := &command{name: "UID EXPUNGE", on: handlers{"EXPUNGE": c.collectExpunge(&expunged)}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("UID EXPUNGE ")
		b.raw(uids.String())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return expunged, nil
}
