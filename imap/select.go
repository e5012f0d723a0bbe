package imap

import (
	"context"
	"fmt"
)

// MailboxStatus is the state of a selected mailbox (RFC 3501 section 6.3.1).
type MailboxStatus struct {
	Name           string
	ReadOnly       bool
	Flags          []string // FLAGS: the flags defined in the mailbox
	PermanentFlags []string // PERMANENTFLAGS: the flags that can be changed permanently; \* means new keywords are allowed
	Exists         uint32
	Recent         uint32
	Unseen         uint32 // first unseen sequence number, 0 if not sent
	UIDValidity    uint32
	UIDNext        uint32
	HighestModSeq  uint64 // RFC 7162; 0 if the server sent none (or NOMODSEQ: the mailbox keeps no mod-sequences)
	// Vanished are the UIDs expunged since the QRESYNC state given to
	// Select (VANISHED (EARLIER), RFC 7162 section 3.2.5.1); nil otherwise.
	Vanished SeqSet
}

// SelectOptions modify Select. A nil *SelectOptions is the zero value.
type SelectOptions struct {
	ReadOnly  bool // send EXAMINE instead of SELECT
	CondStore bool // add the CONDSTORE parameter (RFC 7162 section 3.1.8)
	// QResync, if set, adds the QRESYNC parameter (RFC 7162 section
	// 3.2.5): the server then reports what changed since that state, the
	// expunged UIDs in MailboxStatus.Vanished and the changed flags as
	// UpdateFetch updates. QRESYNC must be enabled first (EnableQResync).
	QResync *QResyncState
}

// Select sends SELECT (or EXAMINE with opts.ReadOnly) for name (RFC 3501
// section 6.3.1) and returns the mailbox's status. A failed SELECT leaves no
// mailbox selected (section 6.3.1: the previous one is deselected).
func (c *Client) Select(ctx context.Context, name string, opts *SelectOptions) (*MailboxStatus, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var o SelectOptions
	if opts != nil {
		o = *opts
	}
	verb := "SELECT"
	if o.ReadOnly {
		verb = "EXAMINE"
	}
	sel := &MailboxStatus{Name: name, ReadOnly: o.ReadOnly}
	cmd := &command{name: verb, sel: sel}
	if o.QResync != nil {
		if !c.Enabled(CapQResync) {
			return nil, fmt.Errorf("%s with QRESYNC: QRESYNC is not enabled (RFC 7162 section 3.2.3)", verb)
		}
		cmd.on = handlers{"VANISHED": c.collectVanished(&sel.Vanished, true)}
	}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		b.sp()
		if err := b.mailbox(name); err != nil {
			return err
		}
		switch {
		case o.QResync != nil:
			b.raw(o.QResync.param())
		case o.CondStore:
			b.raw(" (CONDSTORE)")
		}
		return nil
	})
	if err != nil {
		c.setState(Authenticated)
		return nil, err
	}
	// RFC 3501 section 6.3.1: the tagged OK carries [READ-ONLY] or [READ-WRITE].
	switch c.tagged.code {
	case "READ-ONLY":
		sel.ReadOnly = true
	case "READ-WRITE":
		sel.ReadOnly = false
	}
	c.smu.Lock()
	c.state = Selected
	c.mailbox = sel
	c.smu.Unlock()
	return c.Mailbox(), nil
}

// Examine sends EXAMINE (RFC 3501 section 6.3.2): Select, read-only.
func (c *Client) Examine(ctx context.Context, name string) (*MailboxStatus, error) {
	return c.Select(ctx, name, &SelectOptions{ReadOnly: true})
}

// Unselect sends UNSELECT (RFC 3691): leaves the selected mailbox without
// expunging anything. It needs the UNSELECT capability.
func (c *Client) Unselect(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapUnselect) {
		return notSupported("unselect", CapUnselect)
	}
	if err := c.simple(ctx, "UNSELECT", func(b *builder) error { b.atom("UNSELECT"); return nil }); err != nil {
		return err
	}
	c.setState(Authenticated)
	return nil
}

// CloseMailbox sends CLOSE (RFC 3501 section 6.4.2). Beware: CLOSE
// silently expunges every \Deleted message of a mailbox opened read-write.
func (c *Client) CloseMailbox(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.simple(ctx, "CLOSE", func(b *builder) error { b.atom("CLOSE"); return nil }); err != nil {
		return err
	}
	c.setState(Authenticated)
	return nil
}

// requireWritable fails with ErrReadOnly when the selected mailbox was
// opened read-only.
func (c *Client) requireWritable(cmd string) error {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.mailbox != nil && c.mailbox.ReadOnly {
		return fmt.Errorf("%s: %q: %w", cmd, c.mailbox.Name, ErrReadOnly)
	}
	return nil
}
