package imap

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// ID sends ID (RFC 2971) with the client's identification fields (e.g.
// "name", "version"; nil or empty sends ID NIL) and returns the server's
// fields (empty if it answered NIL). Fields with NIL values are left out.
// It needs the ID capability.
func (c *Client) ID(ctx context.Context, fields map[string]string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapID) {
		return nil, notSupported("id", CapID)
	}
	server := map[string]string{}
	cmd := &command{name: "ID", on: handlers{
		// * ID ("name" "Dovecot" ...) or * ID NIL, RFC 2971 section 3.2
		"ID": func(d *imapwire.Decoder, _ uint32) error {
			if err := d.SP(); err != nil {
				return err
			}
			var key string
			i := 0
			err := d.List(func() error {
				defer func() { i++ }()
				v, isNil, err := d.NString()
				if err != nil {
					return err
				}
				if i%2 == 0 {
					key = string(v)
				} else if !isNil {
					server[key] = string(v)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return d.CRLF()
		},
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("ID ")
		if len(fields) == 0 {
			b.raw("NIL")
			return nil
		}
		// RFC 2971 section 3.3: at most 30 pairs, keys at most 30 octets,
		// values at most 1024.
		if len(fields) > 30 {
			return fmt.Errorf("%d fields, at most 30 allowed", len(fields))
		}
		b.raw("(")
		for i, k := range slices.Sorted(maps.Keys(fields)) {
			if len(k) > 30 || len(fields[k]) > 1024 {
				return fmt.Errorf("field %q too long", k)
			}
			if i > 0 {
				b.sp()
			}
			if err := b.str(k); err != nil {
				return err
			}
			b.sp()
			if err := b.str(fields[k]); err != nil {
				return err
			}
		}
		b.raw(")")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return server, nil
}
