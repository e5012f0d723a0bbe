package imap

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// Namespace is one namespace description (RFC 2342 section 5): mailboxes
// whose names start with Prefix, with hierarchy delimiter Delim.
type Namespace struct {
	Prefix string // decoded like a mailbox name, e.g. "" or "Other Users/"
	Delim  string // hierarchy delimiter; "" if NIL (flat)
	// Extensions holds namespace response extensions, e.g. TRANSLATION
	// (RFC 5255): name (upper-case) -> values.
	Extensions map[string][]string
}

// NamespaceData is a NAMESPACE response (RFC 2342 section 5): the
// personal, other users' and shared namespaces. A nil slice means the
// server sent NIL (no such namespace).
type NamespaceData struct {
	Personal []Namespace
	Other    []Namespace
	Shared   []Namespace
}

// Namespace sends NAMESPACE (RFC 2342) and returns the server's
// namespaces. It fails with ErrNotSupported, sending nothing, when the
// server does not advertise NAMESPACE.
func (c *Client) Namespace(ctx context.Context) (*NamespaceData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapNamespace) {
		return nil, notSupported("namespace", CapNamespace)
	}
	var data *NamespaceData
	cmd := &command{name: "NAMESPACE", on: handlers{
		"NAMESPACE": func(d *imapwire.Decoder, _ uint32) error {
			ns, err := c.readNamespace(d)
			if err != nil {
				return err
			}
			data = ns
			return d.CRLF()
		},
	}}
	if err := c.simpleCmd(ctx, cmd, "NAMESPACE"); err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("namespace: server sent no NAMESPACE response")
	}
	return data, nil
}

// simpleCmd runs cmd whose command line is just line (verbatim).
func (c *Client) simpleCmd(ctx context.Context, cmd *command, line string) error {
	_, err := c.run(ctx, cmd, func(b *builder) error { b.atom(line); return nil })
	return err
}

// readNamespace parses: Namespace SP Namespace SP Namespace, each NIL or
// "(" 1*( "(" string SP (quoted-char / nil) *(extension) ")" ) ")".
func (c *Client) readNamespace(d *imapwire.Decoder) (*NamespaceData, error) {
	ns := &NamespaceData{}
	for i, dst := range []*[]Namespace{&ns.Personal, &ns.Other, &ns.Shared} {
		if i == 0 {
			d.SkipSpaces()
		} else if err := d.SP(); err != nil {
			return nil, err
		}
		if d.IsNIL() {
			continue
		}
		list := []Namespace{}
		err := d.List(func() error {
			n, err := c.readNamespaceDescr(d)
			if err != nil {
				return err
			}
			list = append(list, n)
			return nil
		})
		if err != nil {
			return nil, err
		}
		*dst = list
	}
	return ns, nil
}

func (c *Client) readNamespaceDescr(d *imapwire.Decoder) (Namespace, error) {
	var n Namespace
	i := 0
	var extName string
	err := d.List(func() error {
		defer func() { i++ }()
		switch {
		case i == 0:
			prefix, err := d.AString()
			if err != nil {
				return err
			}
			n.Prefix = c.decodeMailbox(prefix)
		case i == 1:
			delim, isNil, err := d.NString()
			if err != nil {
				return err
			}
			if !isNil {
				n.Delim = string(delim)
			}
		case i%2 == 0:
			name, err := d.AString()
			if err != nil {
				return err
			}
			extName = strings.ToUpper(string(name))
		default:
			var values []string
			err := d.List(func() error {
				v, err := d.AString()
				values = append(values, string(v))
				return err
			})
			if err != nil {
				return err
			}
			if n.Extensions == nil {
				n.Extensions = map[string][]string{}
			}
			n.Extensions[extName] = values
		}
		return nil
	})
	if err == nil && i < 2 {
		err = &imapwire.SyntaxError{Msg: "namespace description without delimiter"}
	}
	return n, err
}
