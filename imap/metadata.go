package imap

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// MetadataDepth is the DEPTH option of GETMETADATA (RFC 5464 section 4.2.2).
type MetadataDepth string

// Depths.
const (
	MetadataDepthZero     MetadataDepth = "0"        // only the named entries (the default)
	MetadataDepthOne      MetadataDepth = "1"        // and their immediate children
	MetadataDepthInfinity MetadataDepth = "infinity" // and every descendant
)

// MetadataOptions modify GetMetadata. A nil *MetadataOptions is the zero
// value: no size limit, depth 0.
type MetadataOptions struct {
	MaxSize int64         // MAXSIZE: leave out values larger than this; 0 for no limit (RFC 5464 section 4.2.1)
	Depth   MetadataDepth // DEPTH; "" for 0
}

// MetadataData is the answer to GETMETADATA (RFC 5464 section 4.4.1).
type MetadataData struct {
	Mailbox string // "" for server annotations
	// Entries maps entry names (e.g. "/private/comment") to values; a nil
	// value means the server returned NIL (the entry does not exist).
	Entries map[string][]byte
	// LongEntries is the size of the largest value left out because of
	// MaxSize (the [METADATA LONGENTRIES n] response code), 0 if none.
	LongEntries int64
}

func (c *Client) requireMetadata(cmd, mailbox string) error {
	// METADATA-SERVER covers only server annotations (mailbox "").
	if c.Has(CapMetadata) || (mailbox == "" && c.Has(CapMetadataServer)) {
		return nil
	}
	return notSupported(cmd, CapMetadata)
}

// CapMetadataServer is METADATA-SERVER: metadata on the server ("" mailbox)
// only (RFC 5464 section 1).
const CapMetadataServer Cap = "METADATA-SERVER"

// GetMetadata sends GETMETADATA [(options)] mailbox (entries) (RFC 5464
// section 4.2) and returns the entries' values. mailbox "" addresses
// server annotations. Entry names start with "/private/" or "/shared/".
// It needs METADATA (or METADATA-SERVER for mailbox "").
func (c *Client) GetMetadata(ctx context.Context, mailbox string, entries []string, opts *MetadataOptions) (*MetadataData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireMetadata("getmetadata", mailbox); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("getmetadata %q: no entries", mailbox)
	}
	for _, e := range entries {
		if err := checkEntryName(e); err != nil {
			return nil, fmt.Errorf("getmetadata %q: %w", mailbox, err)
		}
	}
	var o MetadataOptions
	if opts != nil {
		o = *opts
	}
	data := &MetadataData{Mailbox: mailbox, Entries: map[string][]byte{}}
	cmd := &command{name: "GETMETADATA", on: handlers{
		"METADATA": func(d *imapwire.Decoder, _ uint32) error { return c.readMetadata(d, data) },
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("GETMETADATA ")
		var options []string
		if o.MaxSize > 0 {
			options = append(options, "MAXSIZE "+strconv.FormatInt(o.MaxSize, 10))
		}
		if o.Depth != "" && o.Depth != MetadataDepthZero {
			if !imapwire.IsAtom(string(o.Depth)) {
				return fmt.Errorf("invalid depth %q", o.Depth)
			}
			options = append(options, "DEPTH "+string(o.Depth))
		}
		if len(options) > 0 {
			b.raw("(" + strings.Join(options, " ") + ") ")
		}
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		b.raw(" (")
		for i, e := range entries {
			if i > 0 {
				b.sp()
			}
			if err := b.astring(e); err != nil {
				return err
			}
		}
		b.raw(")")
		return nil
	})
	if err != nil {
		return nil, err
	}
	// RFC 5464 section 4.2.1: OK [METADATA LONGENTRIES n]
	if c.tagged.code == "METADATA" {
		if n, ok := strings.CutPrefix(strings.ToUpper(c.tagged.codeArgs), "LONGENTRIES "); ok {
			data.LongEntries, _ = strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		}
	}
	return data, nil
}

// readMetadata parses the rest of "* METADATA mailbox (entry value ...)"
// (RFC 5464 section 4.4.1). The unsolicited form "* METADATA mailbox entry
// ..." (section 4.4.2), which names changed entries without values, is
// delivered as an UpdateOther.
func (c *Client) readMetadata(d *imapwire.Decoder, data *MetadataData) error {
	if err := d.SP(); err != nil {
		return err
	}
	name, err := d.AString()
	if err != nil {
		return err
	}
	mailbox := c.decodeMailbox(name)
	if err := d.SP(); err != nil {
		return err
	}
	if b, err := d.Peek(); err != nil {
		return err
	} else if b != '(' {
		rest, err := d.RawLine(nil)
		if err != nil {
			return err
		}
		c.deliver(Update{Kind: UpdateOther, Text: "METADATA " + mailbox + " " + string(rest)})
		return nil
	}
	var entry string
	i := 0
	err = d.List(func() error {
		defer func() { i++ }()
		if i%2 == 0 {
			e, err := d.AString()
			entry = string(e)
			return err
		}
		v, isNil, err := d.NString()
		if err != nil {
			return err
		}
		if isNil {
			data.Entries[entry] = nil
		} else {
			val := make([]byte, len(v))
			copy(val, v)
			data.Entries[entry] = val
		}
		return nil
	})
	if err != nil {
		return err
	}
	return d.CRLF()
}

// SetMetadata sends SETMETADATA mailbox (entry value ...) (RFC 5464
// section 4.3), entries in sorted order. A nil value removes the entry
// (sent as NIL). Values are sent as quoted strings or literals; a value
// containing NUL is refused. mailbox "" addresses server annotations.
func (c *Client) SetMetadata(ctx context.Context, mailbox string, entries map[string][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireMetadata("setmetadata", mailbox); err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("setmetadata %q: no entries", mailbox)
	}
	names := slices.Sorted(maps.Keys(entries))
	for _, e := range names {
		if err := checkEntryName(e); err != nil {
			return fmt.Errorf("setmetadata %q: %w", mailbox, err)
		}
	}
	err := c.simple(ctx, "SETMETADATA", func(b *builder) error {
		b.atom("SETMETADATA ")
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		b.raw(" (")
		for i, e := range names {
			if i > 0 {
				b.sp()
			}
			if err := b.astring(e); err != nil {
				return err
			}
			b.sp()
			if err := b.nstringValue(e, entries[e]); err != nil {
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

// checkEntryName enforces RFC 5464 section 3.2: entry names are
// slash-separated printable ASCII without "*" and "%" (and so always go
// as atoms or quoted strings, never literals).
func checkEntryName(e string) error {
	if !strings.HasPrefix(e, "/") || strings.HasSuffix(e, "/") || strings.Contains(e, "//") {
		return fmt.Errorf("invalid entry name %q", e)
	}
	for i := 0; i < len(e); i++ {
		if e[i] < 0x21 || e[i] > 0x7e || e[i] == '*' || e[i] == '%' {
			return fmt.Errorf("invalid entry name %q: only printable ASCII without * and %%", e)
		}
	}
	return nil
}

// nstringValue writes a metadata or annotation value: NIL for nil (which
// removes the entry, RFC 5464 section 4.3), else a string or literal. A
// value with a NUL cannot be sent as either.
func (b *builder) nstringValue(name string, v []byte) error {
	switch {
	case v == nil:
		b.raw("NIL")
	case bytes.IndexByte(v, 0) >= 0:
		return fmt.Errorf("value of %q contains NUL", name)
	default:
		return b.str(string(v))
	}
	return nil
}
