package imap

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FetchItem is a FETCH data item (RFC 3501 section 6.4.5) as sent on the wire.
type FetchItem string

// Fetch items. See also FetchHeaderFields and FetchSection.
const (
	FetchUID           FetchItem = "UID"
	FetchFlags         FetchItem = "FLAGS"
	FetchInternalDate  FetchItem = "INTERNALDATE"
	FetchRFC822Size    FetchItem = "RFC822.SIZE"
	FetchEnvelope      FetchItem = "ENVELOPE"
	FetchBodyStructure FetchItem = "BODYSTRUCTURE"
	FetchModSeq        FetchItem = "MODSEQ" // RFC 7162
)

// FetchHeaderFields returns BODY.PEEK[HEADER.FIELDS (fields...)]: the named
// header fields, without setting \Seen. The server answers with the section
// name "HEADER.FIELDS (...)".
func FetchHeaderFields(fields ...string) FetchItem {
	return FetchItem("BODY.PEEK[HEADER.FIELDS (" + strings.ToUpper(strings.Join(fields, " ")) + ")]")
}

// FetchSection returns BODY[section]<offset.length>, or BODY.PEEK[...] with
// peek (which does not set \Seen). section is e.g. "" (whole message),
// "HEADER", "TEXT", "1.2". With length >= 0 only that many octets from
// offset are fetched (<offset.length>); a negative length fetches the whole
// section and offset is ignored.
func FetchSection(section string, peek bool, offset, length int64) FetchItem {
	var sb strings.Builder
	sb.WriteString("BODY")
	if peek {
		sb.WriteString(".PEEK")
	}
	sb.WriteByte('[')
	sb.WriteString(section)
	sb.WriteByte(']')
	if length >= 0 {
		if offset < 0 {
			offset = 0
		}
		sb.WriteByte('<')
		sb.WriteString(strconv.FormatInt(offset, 10))
		sb.WriteByte('.')
		sb.WriteString(strconv.FormatInt(length, 10))
		sb.WriteByte('>')
	}
	return FetchItem(sb.String())
}

// FetchMessage is the data of one FETCH response (RFC 3501 section 7.4.2).
// Items the server did not send keep their zero value.
type FetchMessage struct {
	SeqNum        uint32
	UID           uint32
	Flags         []string
	InternalDate  time.Time
	Size          int64 // RFC822.SIZE
	Envelope      *Envelope
	BodyStructure *BodyStructure
	Sections      []BodySection
	ModSeq        uint64 // RFC 7162
	// Other holds items this package does not parse, as "NAME value"
	// with the value re-encoded faithfully.
	Other []string

	// buffers kept across messages so that streaming allocates nothing
	bufs  [][]byte
	names []string
	flags []string
}

// BodySection is one BODY[section]<origin> item.
type BodySection struct {
	Section string // as the server named it, upper-case: "" for BODY[], "HEADER.FIELDS (SUBJECT)"
	Origin  int64  // partial origin, -1 if none
	Data    []byte // nil if the server sent NIL
}

// Section returns the data of the first section named section
// (case-insensitively, e.g. "HEADER.FIELDS (SUBJECT)" or "" for BODY[]), or
// nil.
func (m *FetchMessage) Section(section string) []byte {
	for i := range m.Sections {
		if strings.EqualFold(m.Sections[i].Section, section) {
			return m.Sections[i].Data
		}
	}
	return nil
}

// HasFlag reports whether the message has flag (case-insensitively).
func (m *FetchMessage) HasFlag(flag string) bool {
	for _, f := range m.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// Clone returns a deep copy of m that stays valid after the callback.
func (m *FetchMessage) Clone() *FetchMessage {
	out := &FetchMessage{SeqNum: m.SeqNum, UID: m.UID, InternalDate: m.InternalDate, Size: m.Size,
		Envelope: m.Envelope, BodyStructure: m.BodyStructure, ModSeq: m.ModSeq}
	if m.Flags != nil {
		out.Flags = append([]string{}, m.Flags...)
	}
	if m.Other != nil {
		out.Other = append([]string{}, m.Other...)
	}
	for _, s := range m.Sections {
		if s.Data != nil {
			s.Data = append([]byte{}, s.Data...)
		}
		out.Sections = append(out.Sections, s)
	}
	return out
}

// reset empties m for the next message of a streaming FETCH. The section
// buffers worth reusing stay in m.bufs; everything else the previous
// message referenced is let go, so that a large message is not kept alive
// while the next ones are read.
func (m *FetchMessage) reset() {
	m.SeqNum, m.UID, m.Size, m.ModSeq = 0, 0, 0, 0
	m.Flags = nil
	m.InternalDate = time.Time{}
	m.Envelope, m.BodyStructure = nil, nil
	clear(m.Sections)
	m.Sections = m.Sections[:0]
	m.Other = nil
}

// Envelope is the ENVELOPE of a message (RFC 3501 section 7.4.2). Strings
// are as the server sent them (RFC 2047 encoded words are not decoded).
type Envelope struct {
	Date      string
	Subject   string
	From      []Address
	Sender    []Address
	ReplyTo   []Address
	To        []Address
	Cc        []Address
	Bcc       []Address
	InReplyTo string
	MessageID string
}

// Address is an address of an envelope. A group start has Host "" and the
// group name in Mailbox; a group end has both empty (RFC 3501 section 7.4.2).
type Address struct {
	Name    string
	Route   string // at-domain-list (source route), obsolete
	Mailbox string
	Host    string
}

// Addr returns "mailbox@host", or just the mailbox if there is no host.
func (a Address) Addr() string {
	if a.Host == "" {
		return a.Mailbox
	}
	return a.Mailbox + "@" + a.Host
}

// BodyStructure is a BODYSTRUCTURE or BODY item (RFC 3501 section 7.4.2).
// Type and Subtype are lower-case. For multipart bodies only Parts,
// Subtype, Params and the extension fields are set.
type BodyStructure struct {
	Type        string
	Subtype     string
	Params      map[string]string // parameter names lower-case
	ID          string
	Description string
	Encoding    string
	Size        uint32
	Lines       uint32           // text/* and message/rfc822
	Envelope    *Envelope        // message/rfc822
	Body        *BodyStructure   // message/rfc822
	Parts       []*BodyStructure // multipart/*

	// Extension data (BODYSTRUCTURE only).
	Extended          bool
	MD5               string
	Disposition       string // lower-case, e.g. "attachment"
	DispositionParams map[string]string
	Language          []string
	Location          string
}

// MediaType returns "type/subtype", e.g. "text/plain".
func (b *BodyStructure) MediaType() string { return b.Type + "/" + b.Subtype }

// Filename returns the file name from the disposition or, failing that,
// the Content-Type name parameter.
func (b *BodyStructure) Filename() string {
	if f := b.DispositionParams["filename"]; f != "" {
		return f
	}
	return b.Params["name"]
}

// Walk calls fn for b and every part below it, depth first; path is the
// part's section number ("1.2"), "" for the root.
func (b *BodyStructure) Walk(fn func(path string, part *BodyStructure) bool) {
	b.walk("", fn)
}

func (b *BodyStructure) walk(path string, fn func(string, *BodyStructure) bool) {
	if !fn(path, b) {
		return
	}
	for i, p := range b.Parts {
		sub := strconv.Itoa(i + 1)
		if path != "" {
			sub = path + "." + sub
		}
		p.walk(sub, fn)
	}
}

// Fetch sends FETCH (RFC 3501 section 6.4.5) for the sequence numbers in
// set and calls fn with each message as soon as it is parsed. The
// *FetchMessage and its slices are reused: they are valid only during the
// call. An error from fn stops delivery; the command is still read to its
// end and the error returned.
func (c *Client) Fetch(ctx context.Context, set SeqSet, items []FetchItem, fn func(*FetchMessage) error) error {
	return c.fetch(ctx, &command{name: "FETCH", fetch: fn}, set, items, "")
}

// UIDFetch sends UID FETCH (RFC 3501 section 6.4.8); see Fetch. The UID
// of each message is always returned.
func (c *Client) UIDFetch(ctx context.Context, set SeqSet, items []FetchItem, fn func(*FetchMessage) error) error {
	return c.fetch(ctx, &command{name: "UID FETCH", fetch: fn}, set, items, "")
}

// fetch sends cmd (FETCH or UID FETCH, its name) for set and items, with
// modifiers (RFC 4466 section 2.4, e.g. " (CHANGEDSINCE 5)") after the items.
func (c *Client) fetch(ctx context.Context, cmd *command, set SeqSet, items []FetchItem, modifiers string) error {
	verb := cmd.name
	if len(set) == 0 {
		return nil
	}
	if len(items) == 0 {
		items = []FetchItem{FetchUID}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A large buffer while the responses stream, a small one after.
	c.dec.Resize(streamBuffer)
	defer c.dec.Resize(idleReadBuffer)
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		b.sp()
		b.raw(set.String())
		b.raw(" (")
		for i, it := range items {
			if i > 0 {
				b.sp()
			}
			if strings.ContainsAny(string(it), "\r\n") {
				return fmt.Errorf("invalid fetch item %q", it)
			}
			b.raw(string(it))
		}
		b.raw(")")
		b.raw(modifiers)
		return nil
	})
	if err != nil {
		return err
	}
	if cmd.fetchErr != nil {
		return cmd.fetchErr
	}
	return nil
}
