package imap

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
	"github.com/mailrules/mailrules/imap/internal/utf7"
)

// ListData is one LIST or LSUB response (RFC 3501 section 7.2.2).
type ListData struct {
	Attrs []string // name attributes, e.g. \Noselect, \HasChildren, \Trash (RFC 6154)
	Delim string   // hierarchy delimiter; "" if NIL (flat namespace)
	Name  string   // mailbox name, decoded from modified UTF-7
	// OldName is the name a renamed mailbox had, from the OLDNAME
	// extended data item (RFC 5465 section 5.4, RFC 5258 section 3.5);
	// "" otherwise.
	OldName string
}

// HasAttr reports whether the mailbox has the attribute (case-insensitively).
func (l *ListData) HasAttr(attr string) bool {
	for _, a := range l.Attrs {
		if strings.EqualFold(a, attr) {
			return true
		}
	}
	return false
}

// List sends LIST (RFC 3501 section 6.3.8) with a reference and a pattern
// ("*" matches across hierarchy levels, "%" within one); both are encoded
// like mailbox names.
func (c *Client) List(ctx context.Context, ref, pattern string) ([]*ListData, error) {
	return c.list(ctx, "LIST", ref, pattern)
}

// Lsub sends LSUB (RFC 3501 section 6.3.9): List restricted to subscribed
// mailboxes.
func (c *Client) Lsub(ctx context.Context, ref, pattern string) ([]*ListData, error) {
	return c.list(ctx, "LSUB", ref, pattern)
}

func (c *Client) list(ctx context.Context, verb, ref, pattern string) ([]*ListData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*ListData
	cmd := &command{name: verb, list: &out}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		b.sp()
		if err := b.listMailbox(ref); err != nil {
			return err
		}
		b.sp()
		return b.listMailbox(pattern)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listMailbox sends a list-mailbox: wildcards % and * are allowed as atom
// characters (RFC 3501 section 9).
func (b *builder) listMailbox(s string) error {
	if !b.c.utf8 {
		s = utf7.Encode(s)
	}
	if s != "" && imapwire.IsAtom(strings.NewReplacer("%", "", "*", "").Replace(s)+"x") {
		b.raw(s)
		return nil
	}
	return b.str(s)
}

// readList parses mailbox-list (RFC 3501 section 9).
func (c *Client) readList(d *imapwire.Decoder) (*ListData, error) {
	l := &ListData{}
	attrs, err := c.readFlags(d, nil)
	if err != nil {
		return nil, err
	}
	l.Attrs = attrs
	if err := d.SP(); err != nil {
		return nil, err
	}
	delim, isNil, err := d.NString()
	if err != nil {
		return nil, err
	}
	if !isNil {
		l.Delim = string(delim)
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	name, err := d.AString()
	if err != nil {
		return nil, err
	}
	l.Name = c.decodeMailbox(name)
	// RFC 5258 extended data, e.g. ("CHILDINFO" ("SUBSCRIBED")) or
	// ("OLDNAME" ("Old")): OLDNAME is kept, the rest skipped.
	for !d.AtEOL() {
		if b, err := d.Peek(); err != nil || b != '(' {
			if err := d.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		if err := c.readListExtended(d, l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// readListExtended parses mbox-list-extended (RFC 5258 section 9):
// "(" [tag SP value *(SP tag SP value)] ")", keeping OLDNAME.
func (c *Client) readListExtended(d *imapwire.Decoder, l *ListData) error {
	var tag string
	i := 0
	return d.List(func() error {
		defer func() { i++ }()
		if i%2 == 0 {
			t, err := d.AString()
			tag = strings.ToUpper(string(t))
			return err
		}
		if tag != "OLDNAME" {
			return d.SkipValue()
		}
		return d.List(func() error {
			name, err := d.AString()
			if err != nil {
				return err
			}
			l.OldName = c.decodeMailbox(name)
			return nil
		})
	})
}

// decodeMailbox decodes a mailbox name from the wire. A name that is not
// valid modified UTF-7 is kept as sent (some servers send raw UTF-8).
func (c *Client) decodeMailbox(b []byte) string {
	if c.utf8 {
		return string(b)
	}
	s := string(b)
	if IsInbox(s) {
		return "INBOX"
	}
	dec, err := utf7.Decode(s)
	if err != nil {
		return s
	}
	return dec
}

// EncodeMailboxName encodes a mailbox name in modified UTF-7 (RFC 3501
// section 5.1.3).
func EncodeMailboxName(name string) string { return utf7.Encode(name) }

// DecodeMailboxName decodes a modified UTF-7 mailbox name.
func DecodeMailboxName(s string) (string, error) {
	name, err := utf7.Decode(s)
	if err != nil {
		return "", fmt.Errorf("decode mailbox name %q: %w", s, err)
	}
	return name, nil
}
