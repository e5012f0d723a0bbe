package imap

import (
	"bytes"
	"strings"
	"time"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// fetchUpdate parses "n FETCH (msg-att)" (RFC 3501 section 7.4.2) that no
// command collects and delivers the message as an update.
func (c *Client) fetchUpdate(d *imapwire.Decoder, seq uint32) error {
	m := &FetchMessage{SeqNum: seq}
	if err := c.parseFetch(d, m); err != nil {
		return err
	}
	if err := d.CRLF(); err != nil {
		return err
	}
	m.bufs, m.names, m.flags = nil, nil, nil
	c.deliver(Update{Kind: UpdateFetch, Num: seq, Message: m})
	return nil
}

// parseFetch parses msg-att into m, reusing m's buffers.
func (c *Client) parseFetch(d *imapwire.Decoder, m *FetchMessage) error {
	return d.List(func() error {
		name, err := d.Atom()
		if err != nil {
			return err
		}
		item := upperFetchItem(name)
		switch item {
		case "UID":
			if err := d.SP(); err != nil {
				return err
			}
			m.UID, err = d.Number()
			return err
		case "FLAGS":
			if err := d.SP(); err != nil {
				return err
			}
			m.flags, err = c.readFlags(d, m.flags)
			m.Flags = m.flags
			return err
		case "INTERNALDATE":
			if err := d.SP(); err != nil {
				return err
			}
			s, isNil, err := d.NString()
			if err != nil || isNil {
				return err
			}
			if c.zones == nil {
				c.zones = make(map[int]*time.Location)
			}
			t, ok := parseDateTime(s, c.zones)
			if !ok {
				return &imapwire.SyntaxError{Msg: "invalid INTERNALDATE " + string(s)}
			}
			m.InternalDate = t
			return nil
		case "RFC822.SIZE":
			if err := d.SP(); err != nil {
				return err
			}
			n, err := d.Number64()
			m.Size = int64(n)
			return err
		case "MODSEQ":
			// RFC 7162 section 3.1.4.1: MODSEQ (n)
			if err := d.SP(); err != nil {
				return err
			}
			return d.List(func() error {
				m.ModSeq, err = d.Number64()
				return err
			})
		case "ENVELOPE":
			if err := d.SP(); err != nil {
				return err
			}
			m.Envelope, err = readEnvelope(d)
			return err
		case "BODYSTRUCTURE":
			if err := d.SP(); err != nil {
				return err
			}
			m.BodyStructure, err = readBody(d)
			return err
		case "BODY", "BINARY":
			if d.Accept('[') {
				return c.readSection(d, m, item == "BINARY")
			}
			if item == "BINARY" {
				break
			}
			// BODY without section: the non-extensible BODYSTRUCTURE
			if err := d.SP(); err != nil {
				return err
			}
			m.BodyStructure, err = readBody(d)
			return err
		case "RFC822", "RFC822.HEADER", "RFC822.TEXT":
			// RFC 3501 section 7.4.2: equivalent to BODY[], BODY[HEADER], BODY[TEXT]
			if err := d.SP(); err != nil {
				return err
			}
			return c.readSectionData(d, m, item, -1)
		}
		return c.readOther(d, m, item)
	})
}

// readOther keeps an unknown FETCH item (or one with unexpected shape) raw.
func (c *Client) readOther(d *imapwire.Decoder, m *FetchMessage, item string) error {
	raw := []byte(item)
	if d.Accept('[') {
		t, err := d.TextUntil(']')
		if err != nil {
			return err
		}
		raw = append(append(append(raw, '['), t...), ']')
		if err := d.Expect(']'); err != nil {
			return err
		}
	}
	if b, _ := d.Peek(); b == ' ' {
		d.SkipSpaces()
		if b, _ := d.Peek(); b != ')' && b != '\r' && b != '\n' {
			raw = append(raw, ' ')
			var err error
			if raw, err = d.AppendValue(raw); err != nil {
				return err
			}
		}
	}
	m.Other = append(m.Other, string(raw))
	return nil
}

// readSection parses section "]" ["<" origin ">"] SP nstring after "BODY[".
func (c *Client) readSection(d *imapwire.Decoder, m *FetchMessage, binary bool) error {
	spec, err := d.TextUntil(']')
	if err != nil {
		return err
	}
	i := len(m.Sections)
	name := ""
	if i < len(m.names) && eqUpper(m.names[i], spec, binary) {
		name = m.names[i]
	} else {
		name = canonicalSection(spec)
		if binary {
			name = "BINARY[" + name + "]"
		}
		if i < len(m.names) {
			m.names[i] = name
		} else {
			m.names = append(m.names, name)
		}
	}
	if err := d.Expect(']'); err != nil {
		return err
	}
	origin := int64(-1)
	if d.Accept('<') {
		n, err := d.Number64()
		if err != nil {
			return err
		}
		origin = int64(n)
		if err := d.Expect('>'); err != nil {
			return err
		}
	}
	if err := d.SP(); err != nil {
		return err
	}
	return c.readSectionData(d, m, name, origin)
}

func (c *Client) readSectionData(d *imapwire.Decoder, m *FetchMessage, name string, origin int64) error {
	if err := d.Hold(sectionCost); err != nil {
		return err
	}
	i := len(m.Sections)
	if i >= len(m.bufs) {
		m.bufs = append(m.bufs, nil)
	}
	data, isNil, err := d.NStringInto(m.bufs[i][:0])
	if err != nil {
		return err
	}
	if cap(data) <= 1<<20 { // keep ordinary buffers for the next message
		m.bufs[i] = data[:0]
	} else {
		m.bufs[i] = nil
	}
	if isNil {
		data = nil
	}
	m.Sections = append(m.Sections, BodySection{Section: name, Origin: origin, Data: data})
	return nil
}

// canonicalSection returns spec upper-cased with the header field names
// of HEADER.FIELDS lists unquoted: Courier answers a request for
// HEADER.FIELDS (MESSAGE-ID) with BODY[HEADER.FIELDS ("MESSAGE-ID")], the
// same section in another spelling.
func canonicalSection(spec []byte) string {
	if bytes.IndexByte(spec, '"') < 0 {
		return strings.ToUpper(string(spec))
	}
	out := make([]byte, 0, len(spec))
	quoted := false
	for i := 0; i < len(spec); i++ {
		switch ch := spec[i]; {
		case ch == '"':
			quoted = !quoted
		case ch == '\\' && quoted && i+1 < len(spec):
			i++
			out = append(out, spec[i])
		default:
			out = append(out, ch)
		}
	}
	return strings.ToUpper(string(out))
}

// eqUpper reports whether name equals upper-cased spec (wrapped in
// BINARY[...] when binary), without allocating.
func eqUpper(name string, spec []byte, binary bool) bool {
	if binary {
		if !strings.HasPrefix(name, "BINARY[") || !strings.HasSuffix(name, "]") {
			return false
		}
		name = name[len("BINARY[") : len(name)-1]
	}
	if len(name) != len(spec) {
		return false
	}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if name[i] != c {
			return false
		}
	}
	return true
}

var fetchItems = [...]string{"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "MODSEQ", "ENVELOPE",
	"BODYSTRUCTURE", "BODY", "BINARY", "RFC822", "RFC822.HEADER", "RFC822.TEXT"}

func upperFetchItem(name []byte) string {
	for _, k := range fetchItems {
		if eqFold(name, k) {
			return k
		}
	}
	return strings.ToUpper(string(name))
}

// Approximate sizes of what the FETCH parser builds, counted against
// Options.MaxResponseSize besides the bytes of the data itself so that
// many tiny items cannot make the Client hold many times the limit.
const (
	sectionCost  = 64  // a BodySection and its name
	envelopeCost = 256 // an Envelope
	bodyCost     = 512 // a BodyStructure with its parameter maps
)

// readEnvelope parses envelope (RFC 3501 section 9).
func readEnvelope(d *imapwire.Decoder) (*Envelope, error) {
	if err := d.Hold(envelopeCost); err != nil {
		return nil, err
	}
	e := &Envelope{}
	i := 0
	err := d.List(func() error {
		defer func() { i++ }()
		switch i {
		case 0, 1, 8, 9:
			s, err := nstring(d)
			switch i {
			case 0:
				e.Date = s
			case 1:
				e.Subject = s
			case 8:
				e.InReplyTo = s
			case 9:
				e.MessageID = s
			}
			return err
		case 2, 3, 4, 5, 6, 7:
			addrs, err := readAddresses(d)
			*[...]*[]Address{&e.From, &e.Sender, &e.ReplyTo, &e.To, &e.Cc, &e.Bcc}[i-2] = addrs
			return err
		}
		return d.SkipValue() // lenient: extra fields
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func nstring(d *imapwire.Decoder) (string, error) {
	s, _, err := d.NString()
	return string(s), err
}

// readAddresses parses "(" 1*address ")" / nil.
func readAddresses(d *imapwire.Decoder) ([]Address, error) {
	var out []Address
	err := d.List(func() error {
		var a Address
		i := 0
		err := d.List(func() error {
			s, err := nstring(d)
			switch i {
			case 0:
				a.Name = s
			case 1:
				a.Route = s
			case 2:
				a.Mailbox = s
			case 3:
				a.Host = s
			}
			i++
			return err
		})
		out = append(out, a)
		return err
	})
	return out, err
}

// readBody parses body (RFC 3501 section 9), recursively for multiparts,
// including extension data; extra unknown extension data is skipped.
func readBody(d *imapwire.Decoder) (*BodyStructure, error) {
	if d.IsNIL() {
		return nil, nil
	}
	if err := d.Expect('('); err != nil {
		return nil, err
	}
	if err := d.Enter(); err != nil {
		return nil, err
	}
	defer d.Leave()
	if err := d.Hold(bodyCost); err != nil {
		return nil, err
	}
	d.SkipSpaces()
	b := &BodyStructure{}
	var err error
	if c, _ := d.Peek(); c == '(' {
		err = readMultipart(d, b)
	} else {
		err = readSinglePart(d, b)
	}
	if err != nil {
		return nil, err
	}
	// skip any further extension data
	for {
		d.SkipSpaces()
		if d.Accept(')') {
			return b, nil
		}
		if d.AtEOL() {
			return nil, &imapwire.SyntaxError{Msg: "unterminated body structure"}
		}
		if err := d.SkipValue(); err != nil {
			return nil, err
		}
	}
}

// more reports whether another element follows in the current list.
func more(d *imapwire.Decoder) bool {
	d.SkipSpaces()
	c, err := d.Peek()
	return err == nil && c != ')' && c != '\r' && c != '\n'
}

func readMultipart(d *imapwire.Decoder, b *BodyStructure) error {
	b.Type = "multipart"
	for {
		d.SkipSpaces()
		if c, _ := d.Peek(); c != '(' {
			break
		}
		part, err := readBody(d)
		if err != nil {
			return err
		}
		b.Parts = append(b.Parts, part)
	}
	sub, err := nstring(d)
	if err != nil {
		return err
	}
	b.Subtype = strings.ToLower(sub)
	// body-ext-mpart: params, disposition, language, location
	if !more(d) {
		return nil
	}
	b.Extended = true
	if b.Params, err = readParams(d); err != nil {
		return err
	}
	return readExtTail(d, b)
}

func readSinglePart(d *imapwire.Decoder, b *BodyStructure) error {
	fields := []*string{&b.Type, &b.Subtype}
	for _, f := range fields {
		s, err := nstring(d)
		if err != nil {
			return err
		}
		*f = strings.ToLower(s)
		d.SkipSpaces()
	}
	var err error
	if b.Params, err = readParams(d); err != nil {
		return err
	}
	for _, f := range []*string{&b.ID, &b.Description, &b.Encoding} {
		d.SkipSpaces()
		if *f, err = nstring(d); err != nil {
			return err
		}
	}
	d.SkipSpaces()
	if d.IsNIL() { // lenient: NIL size
		b.Size = 0
	} else if b.Size, err = d.Number(); err != nil {
		return err
	}
	switch {
	case b.Type == "message" && (b.Subtype == "rfc822" || b.Subtype == "global") && more(d):
		if b.Envelope, err = readEnvelope(d); err != nil {
			return err
		}
		d.SkipSpaces()
		if b.Body, err = readBody(d); err != nil {
			return err
		}
		d.SkipSpaces()
		if b.Lines, err = d.Number(); err != nil {
			return err
		}
	case b.Type == "text" && more(d):
		if b.Lines, err = d.Number(); err != nil {
			return err
		}
	}
	// body-ext-1part: md5, disposition, language, location
	if !more(d) {
		return nil
	}
	b.Extended = true
	if b.MD5, err = nstring(d); err != nil {
		return err
	}
	return readExtTail(d, b)
}

// readExtTail parses [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]].
func readExtTail(d *imapwire.Decoder, b *BodyStructure) error {
	if !more(d) {
		return nil
	}
	// body-fld-dsp = "(" string SP body-fld-param ")" / nil
	if !d.IsNIL() {
		i := 0
		err := d.List(func() error {
			defer func() { i++ }()
			switch i {
			case 0:
				s, err := nstring(d)
				b.Disposition = strings.ToLower(s)
				return err
			case 1:
				p, err := readParams(d)
				b.DispositionParams = p
				return err
			}
			return d.SkipValue()
		})
		if err != nil {
			return err
		}
	}
	if !more(d) {
		return nil
	}
	// body-fld-lang = nstring / "(" string *(SP string) ")"
	if c, _ := d.Peek(); c == '(' {
		err := d.List(func() error {
			s, err := nstring(d)
			b.Language = append(b.Language, s)
			return err
		})
		if err != nil {
			return err
		}
	} else {
		s, isNil, err := d.NString()
		if err != nil {
			return err
		}
		if !isNil {
			b.Language = []string{string(s)}
		}
	}
	if !more(d) {
		return nil
	}
	var err error
	b.Location, err = nstring(d)
	return err
}

// readParams parses body-fld-param: "(" string SP string *(SP string SP string) ")" / nil.
func readParams(d *imapwire.Decoder) (map[string]string, error) {
	var params map[string]string
	var key string
	i := 0
	err := d.List(func() error {
		defer func() { i++ }()
		s, err := nstring(d)
		if err != nil {
			return err
		}
		if i%2 == 0 {
			key = strings.ToLower(s)
			return nil
		}
		if params == nil {
			params = make(map[string]string)
		}
		params[key] = s
		return nil
	})
	return params, err
}
