package imap

import (
	"fmt"
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

// readEnabled parses the rest of an ENABLED response (RFC 5161 section 3.2).
func readEnabled(d *imapwire.Decoder) ([]Cap, error) {
	var caps []Cap
	for !d.AtEOL() {
		a, err := d.Atom()
		if err != nil {
			return nil, err
		}
		caps = append(caps, Cap(strings.ToUpper(string(a))))
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
// keywords compare (RFC 3501 section 9); IsInbox uses it for the name INBOX
// (section 5.1).
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
