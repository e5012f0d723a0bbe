package imap

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// Kinds of server response (RFC 3501 section 7).
const (
	respUntagged = iota
	respCont
	respTagged
)

// RawResponse is an untagged response kept as it was received (literals
// inline as "{n}" CRLF data), as returned by Execute.
type RawResponse struct {
	Line string
}

// Fields splits a raw response like "* 3 EXISTS" after the "* " into
// its first two atoms, for quick dispatch: ("3", "EXISTS") or ("FLAGS", ...).
func (r RawResponse) Fields() []string {
	return strings.Fields(strings.TrimPrefix(r.Line, "* "))
}

// readResponse reads one response from the server (RFC 3501 section 7):
// a continuation request (text in c.cont), a tagged status (in c.tagged) or
// untagged data, which it dispatches. Syntax errors inside untagged data are
// recovered from by skipping the response; other errors are fatal.
func (c *Client) readResponse() (int, error) {
	d := c.dec
	b, err := d.Peek()
	if err != nil {
		return 0, err
	}
	d.StartResponse()
	switch b {
	case '+':
		d.ReadByte()
		d.SkipSpaces()
		text, err := d.Text()
		if err != nil {
			return 0, err
		}
		c.cont = append(c.cont[:0], text...)
		return respCont, nil
	case '*':
		d.ReadByte()
		if c.cur != nil && c.cur.raw != nil {
			return respUntagged, c.readRaw()
		}
		err := c.untagged(d)
		if imapwire.IsSyntax(err) {
			if serr := d.SkipLine(); serr != nil {
				return 0, serr
			}
			c.deliver(Update{Kind: UpdateOther, Text: "unparsable response: " + err.Error()})
			return respUntagged, nil
		}
		return respUntagged, err
	}
	// tagged: tag SP resp-cond-state
	tag, err := d.AtomString()
	if err != nil {
		return 0, protocolError(err)
	}
	if err := d.SP(); err != nil {
		return 0, protocolError(err)
	}
	kw, err := d.Atom()
	if err != nil {
		return 0, protocolError(err)
	}
	st := upperKeyword(kw)
	if st != "OK" && st != "NO" && st != "BAD" {
		return 0, fmt.Errorf("protocol error: tagged response %q", st)
	}
	s, err := c.respText(d, st)
	if err != nil {
		return 0, protocolError(err)
	}
	s.tag = tag
	c.tagged = s
	return respTagged, nil
}

func protocolError(err error) error {
	if imapwire.IsSyntax(err) {
		return fmt.Errorf("protocol error: %w", err)
	}
	return err
}

// readRaw keeps an untagged response verbatim for Execute, then re-parses
// the copy to keep the Client's state current.
func (c *Client) readRaw() error {
	c.dec.SkipSpaces()
	line, err := c.dec.RawLine(append(c.rawBuf[:0], "* "...))
	c.rawBuf = line[:0]
	if err != nil {
		return err
	}
	*c.cur.raw = append(*c.cur.raw, RawResponse{Line: string(line)})
	sub := imapwire.NewDecoder(bytes.NewReader(append(line[2:], '\r', '\n')), 4096)
	sub.MaxLiteral = c.opts.maxLiteralSize()
	sub.MaxResponse = c.opts.maxResponseSize()
	raw := c.cur.raw
	c.cur.raw = nil
	c.quiet = true
	err = c.untagged(sub)
	c.quiet = false
	c.cur.raw = raw
	if imapwire.IsSyntax(err) {
		return nil
	}
	return err
}

// upperKeyword returns kw upper-cased as a string, without allocating for
// the keywords that matter.
func upperKeyword(kw []byte) string {
	for _, k := range keywords {
		if eqFold(kw, k) {
			return k
		}
	}
	return strings.ToUpper(string(kw))
}

var keywords = [...]string{"FETCH", "OK", "NO", "BAD", "EXISTS", "EXPUNGE", "RECENT", "BYE", "PREAUTH",
	"CAPABILITY", "FLAGS", "LIST", "LSUB", "STATUS", "SEARCH", "ESEARCH", "ENABLED"}

// untagged parses one untagged response after "* " (RFC 3501 section 7).
func (c *Client) untagged(d *imapwire.Decoder) error {
	d.SkipSpaces()
	b, err := d.Peek()
	if err != nil {
		return err
	}
	if b >= '0' && b <= '9' {
		n, err := d.Number()
		if err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		kw, err := d.Atom()
		if err != nil {
			return err
		}
		switch upperKeyword(kw) {
		case "FETCH":
			if err := d.SP(); err != nil {
				return err
			}
			return c.handleFetch(d, n)
		case "EXISTS":
			c.onExists(n)
		case "RECENT":
			c.onRecent(n)
		case "EXPUNGE":
			c.onExpunge(n)
		default:
			return c.other(d, strconv.FormatUint(uint64(n), 10)+" "+string(kw))
		}
		return d.CRLF()
	}
	kw, err := d.Atom()
	if err != nil {
		return err
	}
	name := upperKeyword(kw)
	if h := c.dataHandler(name); h != nil {
		return h(d)
	}
	switch name {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		s, err := c.respText(d, name)
		if err != nil {
			return err
		}
		c.onStatus(&s)
		return nil
	case "CAPABILITY":
		caps, err := readCapabilities(d)
		if err != nil {
			return err
		}
		c.setCaps(caps)
		return d.CRLF()
	case "FLAGS":
		if err := d.SP(); err != nil {
			return err
		}
		flags, err := c.readFlags(d, nil)
		if err != nil {
			return err
		}
		c.onFlags(flags)
		return d.CRLF()
	case "LIST", "LSUB":
		if err := d.SP(); err != nil {
			return err
		}
		l, err := c.readList(d)
		if err != nil {
			return err
		}
		if c.cur != nil && c.cur.list != nil {
			*c.cur.list = append(*c.cur.list, l)
		} else {
			c.deliver(Update{Kind: UpdateOther, Text: name + " " + l.Name})
		}
		return d.CRLF()
	case "STATUS":
		if err := d.SP(); err != nil {
			return err
		}
		s, err := c.readStatus(d)
		if err != nil {
			return err
		}
		if c.cur != nil && c.cur.status != nil {
			*c.cur.status = *s
		}
		return d.CRLF()
	case "SEARCH":
		nums, err := readSearch(d)
		if err != nil {
			return err
		}
		if c.cur != nil && c.cur.search != nil {
			*c.cur.search = append(*c.cur.search, nums...)
		}
		return d.CRLF()
	case "ESEARCH":
		nums, err := readESearch(d)
		if err != nil {
			return err
		}
		if c.cur != nil && c.cur.search != nil {
			*c.cur.search = append(*c.cur.search, nums...)
		}
		return d.CRLF()
	case "ENABLED":
		var caps []Cap
		for !d.AtEOL() {
			a, err := d.Atom()
			if err != nil {
				return err
			}
			caps = append(caps, Cap(strings.ToUpper(string(a))))
		}
		c.onEnabled(caps)
		return d.CRLF()
	}
	return c.other(d, string(kw))
}

// dataHandler returns the command in flight's handler for untagged
// responses named name, if it has one.
func (c *Client) dataHandler(name string) func(d *imapwire.Decoder) error {
	if c.cur == nil || c.cur.data == nil {
		return nil
	}
	return c.cur.data[name]
}

// other keeps an untagged response this package does not know, raw, and
// delivers it as UpdateOther (or to Execute).
func (c *Client) other(d *imapwire.Decoder, head string) error {
	rest, err := d.RawLine(nil)
	if err != nil {
		return err
	}
	c.deliver(Update{Kind: UpdateOther, Text: head + string(rest)})
	return nil
}

// respText parses resp-text (RFC 3501 section 9): an optional response
// code in brackets and human-readable text. It is lenient: the SP and the
// text may be missing.
func (c *Client) respText(d *imapwire.Decoder, st string) (status, error) {
	s := status{status: st}
	d.SkipSpaces()
	if d.Accept('[') {
		code, err := d.Atom()
		if err != nil {
			return s, err
		}
		s.code = strings.ToUpper(string(code))
		if d.Accept(' ') {
			args, err := d.TextUntil(']')
			if err != nil {
				return s, err
			}
			s.codeArgs = strings.TrimSpace(string(args))
		}
		if !d.Accept(']') {
			return s, fmt.Errorf("protocol error: unterminated response code [%s", s.code)
		}
		d.SkipSpaces()
		c.onCode(s.code, s.codeArgs)
	}
	text, err := d.Text()
	if err != nil {
		return s, err
	}
	s.text = string(text)
	return s, nil
}

// onCode applies a response code (RFC 3501 section 7.1) to the Client's state.
func (c *Client) onCode(code, args string) {
	switch code {
	case "CAPABILITY":
		caps := CapSet{}
		for _, f := range strings.Fields(args) {
			caps[Cap(strings.ToUpper(f))] = struct{}{}
		}
		c.setCaps(caps)
		return
	}
	if c.cur != nil {
		c.cur.codes = append(c.cur.codes, respCode{code, args})
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	mb := c.mailbox
	if c.cur != nil && c.cur.sel != nil {
		mb = c.cur.sel
	}
	if mb == nil {
		return
	}
	switch code {
	case "UIDVALIDITY":
		if n, err := strconv.ParseUint(args, 10, 32); err == nil {
			mb.UIDValidity = uint32(n)
		}
	case "UIDNEXT":
		if n, err := strconv.ParseUint(args, 10, 32); err == nil {
			mb.UIDNext = uint32(n)
		}
	case "UNSEEN":
		if n, err := strconv.ParseUint(args, 10, 32); err == nil {
			mb.Unseen = uint32(n)
		}
	case "HIGHESTMODSEQ":
		if n, err := strconv.ParseUint(args, 10, 64); err == nil {
			mb.HighestModSeq = n
		}
	case "NOMODSEQ":
		mb.HighestModSeq = 0
	case "PERMANENTFLAGS":
		if flags, err := ParseFlags(args); err == nil {
			mb.PermanentFlags = flags
		}
	case "READ-ONLY":
		mb.ReadOnly = true
	case "READ-WRITE":
		mb.ReadOnly = false
	}
}

func (c *Client) setCaps(caps CapSet) {
	c.smu.Lock()
	c.caps = caps
	c.capsGen++
	c.smu.Unlock()
}

// onStatus handles an untagged OK/NO/BAD/BYE/PREAUTH (RFC 3501 section 7.1).
func (c *Client) onStatus(s *status) {
	switch {
	case s.status == "BYE":
		c.byeText = s.text
		c.deliver(Update{Kind: UpdateBye, Text: s.text, Code: s.code})
	case s.code == "ALERT":
		c.deliver(Update{Kind: UpdateAlert, Text: s.text, Code: s.code})
	case s.status == "OK" && stateCodes[s.code]:
		// mailbox state (SELECT answer, COPYUID of MOVE...): applied or
		// returned by the command in flight
	case s.status == "OK" && c.idle != nil && s.code == "":
		// "* OK Still here" keep-alives during IDLE
	default:
		text := s.status
		if s.code != "" {
			text += " [" + s.code
			if s.codeArgs != "" {
				text += " " + s.codeArgs
			}
			text += "]"
		}
		if s.text != "" {
			text += " " + s.text
		}
		c.deliver(Update{Kind: UpdateOther, Text: text, Code: s.code})
	}
}

// stateCodes are response codes whose data is applied to the Client's
// state or returned by a command, so an untagged OK carrying one is not an
// update by itself.
var stateCodes = map[string]bool{"UIDVALIDITY": true, "UIDNEXT": true, "UNSEEN": true, "HIGHESTMODSEQ": true,
	"NOMODSEQ": true, "PERMANENTFLAGS": true, "READ-ONLY": true, "READ-WRITE": true, "COPYUID": true,
	"APPENDUID": true, "CAPABILITY": true, "CLOSED": true}

func (c *Client) onExists(n uint32) {
	c.smu.Lock()
	selecting := c.cur != nil && c.cur.sel != nil
	if selecting {
		c.cur.sel.Exists = n
	} else if c.mailbox != nil {
		c.mailbox.Exists = n
	}
	c.smu.Unlock()
	if !selecting {
		c.deliver(Update{Kind: UpdateExists, Num: n})
	}
}

func (c *Client) onRecent(n uint32) {
	c.smu.Lock()
	selecting := c.cur != nil && c.cur.sel != nil
	if selecting {
		c.cur.sel.Recent = n
	} else if c.mailbox != nil {
		c.mailbox.Recent = n
	}
	c.smu.Unlock()
	if !selecting {
		c.deliver(Update{Kind: UpdateRecent, Num: n})
	}
}

func (c *Client) onExpunge(n uint32) {
	c.smu.Lock()
	if c.mailbox != nil && c.mailbox.Exists > 0 {
		c.mailbox.Exists--
	}
	c.smu.Unlock()
	if c.cur != nil && c.cur.expunged != nil && !c.quiet {
		*c.cur.expunged = append(*c.cur.expunged, n)
		return
	}
	c.deliver(Update{Kind: UpdateExpunge, Num: n})
}

func (c *Client) onFlags(flags []string) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.cur != nil && c.cur.sel != nil {
		c.cur.sel.Flags = flags
	} else if c.mailbox != nil {
		c.mailbox.Flags = flags
	}
}

func (c *Client) onEnabled(caps []Cap) {
	c.smu.Lock()
	if c.enabled == nil {
		c.enabled = map[Cap]bool{}
	}
	for _, cp := range caps {
		c.enabled[cp] = true
		if cp == CapUTF8Accept {
			c.utf8 = true
		}
	}
	c.smu.Unlock()
	if c.cur != nil && c.cur.enabled != nil {
		*c.cur.enabled = append(*c.cur.enabled, caps...)
	}
}

// readCapabilities parses the rest of a CAPABILITY response (RFC 3501 section 7.2.1).
func readCapabilities(d *imapwire.Decoder) (CapSet, error) {
	caps := CapSet{}
	for !d.AtEOL() {
		a, err := d.Atom()
		if err != nil {
			return nil, err
		}
		caps[Cap(strings.ToUpper(string(a)))] = struct{}{}
	}
	return caps, nil
}

// readFlags parses a flag list "(\Seen foo)" into dst[:0], interning the
// strings so that repeated flags do not allocate.
func (c *Client) readFlags(d *imapwire.Decoder, dst []string) ([]string, error) {
	dst = dst[:0]
	err := d.List(func() error {
		a, err := d.Atom()
		if err != nil {
			return err
		}
		dst = append(dst, c.intern(a))
		return nil
	})
	return dst, err
}

var systemFlags = [...]string{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft, FlagRecent, FlagWildcard}

// intern returns a string equal to b, reusing earlier strings; system flags
// are canonicalized to their usual spelling (RFC 3501: flags are
// case-insensitive).
func (c *Client) intern(b []byte) string {
	if len(b) > 0 && b[0] == '\\' {
		for _, f := range systemFlags {
			if eqFold(b, f) {
				return f
			}
		}
	}
	if s, ok := c.atoms[string(b)]; ok {
		return s
	}
	s := string(b)
	if c.atoms == nil {
		c.atoms = make(map[string]string)
	}
	if len(c.atoms) < 4096 {
		c.atoms[s] = s
	}
	return s
}

// readSearch parses the rest of a SEARCH response (RFC 3501 section 7.2.5),
// tolerating the trailing "(MODSEQ n)" of RFC 7162 section 3.1.5.
func readSearch(d *imapwire.Decoder) ([]uint32, error) {
	var nums []uint32
	for !d.AtEOL() {
		b, err := d.Peek()
		if err != nil {
			return nil, err
		}
		if b == '(' {
			if err := d.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		n, err := d.Number()
		if err != nil {
			return nil, err
		}
		nums = append(nums, n)
	}
	return nums, nil
}

// readESearch parses an ESEARCH response (RFC 4731 section 3.2) and returns
// the numbers of its ALL result.
func readESearch(d *imapwire.Decoder) ([]uint32, error) {
	var nums []uint32
	for !d.AtEOL() {
		b, err := d.Peek()
		if err != nil {
			return nil, err
		}
		if b == '(' { // search-correlator
			if err := d.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		a, err := d.Atom()
		if err != nil {
			return nil, err
		}
		key := strings.ToUpper(string(a))
		if key == "UID" {
			continue
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		if key == "ALL" {
			v, err := d.Atom()
			if err != nil {
				return nil, err
			}
			set, err := ParseSeqSet(string(v))
			if err != nil {
				return nil, &imapwire.SyntaxError{Msg: err.Error()}
			}
			nums = append(nums, set.Nums()...)
			continue
		}
		if err := d.SkipValue(); err != nil {
			return nil, err
		}
	}
	return nums, nil
}

// eqFold reports whether b equals s under ASCII case folding, as IMAP
// keywords and the name INBOX compare (RFC 3501 sections 5.1 and 9).
func eqFold[T string | []byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
