package imap

import (
	"context"
	"fmt"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// ACL is an access control list (RFC 4314 section 2): identifier (a user
// name, "anyone", or a negative "-name") -> rights, e.g. "lrswipkxtecda".
type ACL map[string]string

// ListRightsData is a LISTRIGHTS response (RFC 4314 section 3.7): the
// rights always granted to Identifier on Mailbox (Required) and the
// groups of rights that may be granted, each group all or nothing.
type ListRightsData struct {
	Mailbox    string
	Identifier string
	Required   string
	Optional   []string
}

func (c *Client) requireACL(cmd string) error {
	if !c.Has(CapACL) {
		return notSupported(cmd, CapACL)
	}
	return nil
}

// GetACL sends GETACL mailbox (RFC 4314 section 3.3) and returns the
// mailbox's access control list. It needs the ACL capability.
func (c *Client) GetACL(ctx context.Context, mailbox string) (ACL, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireACL("getacl"); err != nil {
		return nil, err
	}
	acl := ACL{}
	cmd := &command{name: "GETACL", on: handlers{
		// * ACL mailbox *(SP identifier SP rights), RFC 4314 section 3.6
		"ACL": func(d *imapwire.Decoder, _ uint32) error {
			if err := d.SP(); err != nil {
				return err
			}
			if _, err := d.AString(); err != nil {
				return err
			}
			for !d.AtEOL() {
				id, err := d.AString()
				if err != nil {
					return err
				}
				ident := string(id)
				if err := d.SP(); err != nil {
					return err
				}
				rights, err := d.AString()
				if err != nil {
					return err
				}
				acl[ident] = string(rights)
			}
			return d.CRLF()
		},
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("GETACL ")
		return b.mailbox(mailbox)
	})
	if err != nil {
		return nil, err
	}
	return acl, nil
}

// SetACL sends SETACL mailbox identifier rights (RFC 4314 section 3.1).
// rights replaces the identifier's rights; a leading "+" adds to them and a
// leading "-" removes from them. It needs the ACL capability.
func (c *Client) SetACL(ctx context.Context, mailbox, identifier, rights string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireACL("setacl"); err != nil {
		return err
	}
	err := c.simple(ctx, "SETACL", func(b *builder) error {
		b.atom("SETACL ")
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		b.sp()
		if err := b.astring(identifier); err != nil {
			return err
		}
		b.sp()
		return b.astring(rights)
	})
	if err != nil {
		return err
	}
	return nil
}

// DeleteACL sends DELETEACL mailbox identifier (RFC 4314 section 3.2),
// removing the identifier's entry from the mailbox's ACL. It needs the ACL
// capability.
func (c *Client) DeleteACL(ctx context.Context, mailbox, identifier string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireACL("deleteacl"); err != nil {
		return err
	}
	err := c.simple(ctx, "DELETEACL", func(b *builder) error {
		b.atom("DELETEACL ")
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		b.sp()
		return b.astring(identifier)
	})
	if err != nil {
		return err
	}
	return nil
}

// MyRights sends MYRIGHTS mailbox (RFC 4314 section 3.5) and returns the
// rights the logged-in user has on it (section 3.8). It needs the ACL
// capability.
func (c *Client) MyRights(ctx context.Context, mailbox string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireACL("myrights"); err != nil {
		return "", err
	}
	var rights string
	cmd := &command{name: "MYRIGHTS", on: handlers{
		// * MYRIGHTS mailbox rights
		"MYRIGHTS": func(d *imapwire.Decoder, _ uint32) error {
			if err := d.SP(); err != nil {
				return err
			}
			if _, err := d.AString(); err != nil {
				return err
			}
			if err := d.SP(); err != nil {
				return err
			}
			r, err := d.AString()
			if err != nil {
				return err
			}
			rights = string(r)
			return d.CRLF()
		},
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("MYRIGHTS ")
		return b.mailbox(mailbox)
	})
	if err != nil {
		return "", err
	}
	return rights, nil
}

// ListRights sends LISTRIGHTS mailbox identifier (RFC 4314 section 3.4)
// and returns which rights can be granted to identifier on mailbox. It
// needs the ACL capability.
func (c *Client) ListRights(ctx context.Context, mailbox, identifier string) (*ListRightsData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireACL("listrights"); err != nil {
		return nil, err
	}
	var data *ListRightsData
	cmd := &command{name: "LISTRIGHTS", on: handlers{
		// * LISTRIGHTS mailbox identifier required *(SP optional), section 3.7
		"LISTRIGHTS": func(d *imapwire.Decoder, _ uint32) error {
			lr := &ListRightsData{Optional: []string{}}
			if err := d.SP(); err != nil {
				return err
			}
			name, err := d.AString()
			if err != nil {
				return err
			}
			lr.Mailbox = c.decodeMailbox(name)
			if err := d.SP(); err != nil {
				return err
			}
			id, err := d.AString()
			if err != nil {
				return err
			}
			lr.Identifier = string(id)
			if err := d.SP(); err != nil {
				return err
			}
			req, err := d.AString()
			if err != nil {
				return err
			}
			lr.Required = string(req)
			for !d.AtEOL() {
				opt, err := d.AString()
				if err != nil {
					return err
				}
				lr.Optional = append(lr.Optional, string(opt))
			}
			data = lr
			return d.CRLF()
		},
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("LISTRIGHTS ")
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		b.sp()
		return b.astring(identifier)
	})
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("listrights %q %q: server sent no LISTRIGHTS response", mailbox, identifier)
	}
	return data, nil
}
