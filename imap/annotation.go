package imap

import (
	"context"
	"maps"
	"slices"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// CapAnnotateMore is ANNOTATEMORE (draft-daboo-imap-annotatemore), the
// pre-standard form of METADATA that imaplib's getannotation and
// setannotation speak. New servers offer METADATA (RFC 5464) instead: see
// GetMetadata and SetMetadata.
const CapAnnotateMore Cap = "ANNOTATEMORE"

// Annotation is one ANNOTATION response of ANNOTATEMORE: an entry of a
// mailbox with its attributes (e.g. "value.priv", "value.shared"); a nil
// value is NIL.
type Annotation struct {
	Mailbox    string
	Entry      string
	Attributes map[string][]byte
}

// GetAnnotation sends GETANNOTATION mailbox entry attribute
// (draft-daboo-imap-annotatemore section 6.8); entry and attribute may
// hold the draft's "*" and "%" wildcards. It fails with ErrNotSupported,
// sending nothing, when the server lacks ANNOTATEMORE.
func (c *Client) GetAnnotation(ctx context.Context, mailbox, entry, attribute string) ([]Annotation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapAnnotateMore) {
		return nil, notSupported("getannotation", CapAnnotateMore)
	}
	out := []Annotation{}
	cmd := &command{name: "GETANNOTATION", on: handlers{
		// * ANNOTATION mailbox entry (attribute value ...)
		"ANNOTATION": func(d *imapwire.Decoder, _ uint32) error {
			if err := d.SP(); err != nil {
				return err
			}
			name, err := d.AString()
			if err != nil {
				return err
			}
			a := Annotation{Mailbox: c.decodeMailbox(name), Attributes: map[string][]byte{}}
			if err := d.SP(); err != nil {
				return err
			}
			e, err := d.AString()
			if err != nil {
				return err
			}
			a.Entry = string(e)
			if err := d.SP(); err != nil {
				return err
			}
			var attr string
			i := 0
			err = d.List(func() error {
				defer func() { i++ }()
				v, isNil, err := d.NString()
				switch {
				case err != nil:
					return err
				case i%2 == 0:
					attr = string(v)
				case isNil:
					a.Attributes[attr] = nil
				default:
					val := make([]byte, len(v))
					copy(val, v)
					a.Attributes[attr] = val
				}
				return nil
			})
			if err != nil {
				return err
			}
			out = append(out, a)
			return d.CRLF()
		},
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("GETANNOTATION ")
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		b.sp()
		if err := b.str(entry); err != nil {
			return err
		}
		b.sp()
		return b.str(attribute)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetAnnotation sends SETANNOTATION mailbox entry (attribute value ...)
// (draft-daboo-imap-annotatemore section 6.7), attributes in sorted order;
// a nil value is sent as NIL, which removes the attribute. It fails with
// ErrNotSupported, sending nothing, when the server lacks ANNOTATEMORE.
func (c *Client) SetAnnotation(ctx context.Context, mailbox, entry string, attrs map[string][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapAnnotateMore) {
		return notSupported("setannotation", CapAnnotateMore)
	}
	err := c.simple(ctx, "SETANNOTATION", func(b *builder) error {
		b.atom("SETANNOTATION ")
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		b.sp()
		if err := b.str(entry); err != nil {
			return err
		}
		b.raw(" (")
		for i, k := range slices.Sorted(maps.Keys(attrs)) {
			if i > 0 {
				b.sp()
			}
			if err := b.str(k); err != nil {
				return err
			}
			b.sp()
			if err := b.nstringValue(k, attrs[k]); err != nil {
				return err
			}
		}
		b.raw(")")
		return nil
	})
	if err != nil {
		return err
	}
	return nil
}
