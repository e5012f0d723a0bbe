// Package imapwire reads and writes the IMAP4rev1 wire syntax (RFC 3501
// section 9): atoms, numbers, quoted strings, literals (and literal8, RFC
// 3516), parenthesized lists, response framing and response codes.
//
// The Decoder parses directly from a buffered reader while the bytes arrive;
// token bytes are returned in a scratch buffer owned by the Decoder and valid
// only until its next call, so a caller that only compares or converts them
// allocates nothing.
package imapwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Limits that protect the client from a hostile or broken server.
const (
	// DefaultMaxLiteral is the largest literal accepted when Decoder.MaxLiteral is zero.
	DefaultMaxLiteral = 64 << 20
	// MaxTokenLen bounds atoms, quoted strings and response text (one line's worth).
	MaxTokenLen = 1 << 20
	// MaxDepth bounds the nesting of parenthesized lists.
	MaxDepth = 64
)

// ErrLiteralTooLarge reports a literal announcement above the Decoder's limit.
// The literal is not read; the stream is unusable afterwards.
var ErrLiteralTooLarge = errors.New("imapwire: literal too large")

// ErrResponseTooLarge reports a response holding more than the Decoder's
// MaxResponse bytes. It is detected before the excess is read or
// allocated; the rest of the response is not read, so the stream is
// unusable afterwards.
var ErrResponseTooLarge = errors.New("imapwire: response too large")

// ErrTooDeep reports parenthesized lists nested deeper than MaxDepth.
var ErrTooDeep = errors.New("imapwire: lists nested too deeply")

// ErrTokenTooLong reports an atom, quoted string or line longer than MaxTokenLen.
var ErrTokenTooLong = errors.New("imapwire: token too long")

// SyntaxError is a violation of the response grammar inside one response.
// The stream itself is still in sync at a token boundary, so the caller may
// skip the rest of the response with SkipLine and go on.
type SyntaxError struct {
	Msg string
}

// Error describes what was malformed.
func (e *SyntaxError) Error() string { return "imapwire: syntax error: " + e.Msg }

// IsSyntax reports whether err is a recoverable *SyntaxError.
func IsSyntax(err error) bool {
	if err == nil {
		return false
	}
	var se *SyntaxError
	return errors.As(err, &se)
}

func syntaxf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...)}
}

// character classes, RFC 3501 section 9 (ATOM-CHAR, ASTRING-CHAR).
const (
	clsAtom    = 1 << iota // ATOM-CHAR plus the list-wildcards and '\' (flags), which servers send in atoms
	clsBracket             // ']' : allowed in astring, not in atom
)

var charClass = func() (t [256]uint8) {
	for c := 0x21; c < 0x7f; c++ {
		switch c {
		case '(', ')', '{', '"', '[', ']':
		default:
			t[c] = clsAtom
		}
	}
	t[']'] = clsBracket
	// 8-bit bytes appear in atoms of sloppy servers (UTF-8 flags); accept them.
	for c := 0x80; c < 0x100; c++ {
		t[c] = clsAtom
	}
	return t
}()

// Decoder reads IMAP responses. It is not safe for concurrent use.
type Decoder struct {
	r *bufio.Reader
	// src is what r reads from: the stream, after any bytes a Resize
	// carried over from the previous buffer.
	src *carryReader
	// MaxLiteral is the largest literal accepted; zero means DefaultMaxLiteral.
	MaxLiteral int64
	// MaxResponse bounds what one response may make the caller hold: the
	// bytes of the literals read into memory, of the token text (atoms,
	// quoted strings, response text) and of the numbers, plus
	// elementCost per list element for the slice entry a caller keeps for
	// it. Literals skipped with DiscardLiteral or SkipValue are not
	// counted. Zero means no limit beyond MaxLiteral and MaxTokenLen.
	// StartResponse begins the count of a new response.
	MaxResponse int64
	held        int64 // bytes counted against MaxResponse since StartResponse
	scratch     []byte
	depth       int
}

// elementCost is what a list element is counted for against MaxResponse
// beyond its own bytes: about the slice entry (a string header) that a
// caller keeps for it, so that a list of one-byte atoms cannot make the
// caller hold many times the limit.
const elementCost = 16

// numberCost is the least a number is counted for against MaxResponse, for
// the same reason: "1 1 1" is two bytes a number on the wire but a uint32
// or more in memory.
const numberCost = 8

// StartResponse starts counting a new response against MaxResponse. It
// also lets go of a scratch buffer that a large literal grew, so that one
// big response does not stay in memory for the life of the connection.
func (d *Decoder) StartResponse() {
	d.held = 0
	if cap(d.scratch) > MaxTokenLen+1 {
		d.scratch = nil
	}
}

// Hold counts n bytes that the caller is about to keep for the current
// response (a structure it builds from the tokens) against MaxResponse,
// and fails with ErrResponseTooLarge if they would exceed it.
func (d *Decoder) Hold(n int64) error { return d.hold(n) }

// hold counts n more bytes of the current response against MaxResponse and
// fails, before they are read, if they would exceed it.
func (d *Decoder) hold(n int64) error {
	if d.MaxResponse <= 0 {
		return nil
	}
	if n > d.MaxResponse-d.held {
		return fmt.Errorf("%w: more than %d bytes in one response", ErrResponseTooLarge, d.MaxResponse)
	}
	d.held += n
	return nil
}

// NewDecoder returns a Decoder reading from r through a buffer of size bytes.
func NewDecoder(r io.Reader, size int) *Decoder {
	src := &carryReader{r: r}
	return &Decoder{r: bufio.NewReaderSize(src, size), src: src}
}

// Resize changes the read buffer to size bytes (at least 16), keeping the
// bytes read but not yet parsed. A connection that mostly waits keeps a
// small buffer and takes a large one while a long response streams; a
// literal is read past the buffer either way.
func (d *Decoder) Resize(size int) {
	if d.r.Size() == max(size, 16) {
		return
	}
	if n := d.r.Buffered(); n > 0 {
		b, _ := d.r.Peek(n)
		d.src.carry = append(append([]byte(nil), b...), d.src.carry...)
	}
	d.r = bufio.NewReaderSize(d.src, size)
}

// BufferSize returns the size of the read buffer.
func (d *Decoder) BufferSize() int { return d.r.Size() }

// carryReader reads carry first, then r.
type carryReader struct {
	carry []byte
	r     io.Reader
}

func (c *carryReader) Read(p []byte) (int, error) {
	if len(c.carry) > 0 {
		n := copy(p, c.carry)
		c.carry = c.carry[n:]
		if len(c.carry) == 0 {
			c.carry = nil
		}
		return n, nil
	}
	return c.r.Read(p)
}

// Reset makes the Decoder read from r, discarding buffered data (used after
// STARTTLS, when the server must not have sent anything in plaintext).
func (d *Decoder) Reset(r io.Reader) {
	d.src.carry, d.src.r = nil, r
	d.r.Reset(d.src)
	d.depth = 0
	d.held = 0
}

// Buffered returns the number of bytes read from the stream but not yet parsed.
func (d *Decoder) Buffered() int { return d.r.Buffered() }

func (d *Decoder) maxLiteral() int64 {
	if d.MaxLiteral > 0 {
		return d.MaxLiteral
	}
	return DefaultMaxLiteral
}

func eof(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Peek returns the next byte without consuming it.
func (d *Decoder) Peek() (byte, error) {
	b, err := d.r.Peek(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// ReadByte consumes and returns the next byte.
func (d *Decoder) ReadByte() (byte, error) { return d.r.ReadByte() }

// Expect consumes the byte c or returns a SyntaxError (without consuming).
func (d *Decoder) Expect(c byte) error {
	b, err := d.Peek()
	if err != nil {
		return eof(err)
	}
	if b != c {
		return syntaxf("expected %q, got %q", c, b)
	}
	d.r.Discard(1)
	return nil
}

// Accept consumes c if it is the next byte and reports whether it did.
func (d *Decoder) Accept(c byte) bool {
	b, err := d.Peek()
	if err != nil || b != c {
		return false
	}
	d.r.Discard(1)
	return true
}

// SP consumes one or more spaces. Servers sometimes send two; that is tolerated.
func (d *Decoder) SP() error {
	if err := d.Expect(' '); err != nil {
		return err
	}
	d.SkipSpaces()
	return nil
}

// SkipSpaces consumes any spaces.
func (d *Decoder) SkipSpaces() {
	for d.Accept(' ') {
	}
}

// AtEOL reports whether the next byte ends the line (CR or LF), skipping
// trailing spaces first.
func (d *Decoder) AtEOL() bool {
	d.SkipSpaces()
	b, err := d.Peek()
	return err == nil && (b == '\r' || b == '\n')
}

// CRLF consumes the end of a line. Trailing spaces and a bare LF are tolerated.
func (d *Decoder) CRLF() error {
	d.SkipSpaces()
	b, err := d.r.ReadByte()
	if err != nil {
		return eof(err)
	}
	if b == '\r' {
		b, err = d.r.ReadByte()
		if err != nil {
			return eof(err)
		}
	}
	if b != '\n' {
		d.r.UnreadByte()
		return syntaxf("expected CRLF, got %q", b)
	}
	return nil
}

// scan appends to d.scratch the longest run of bytes whose class matches mask.
func (d *Decoder) scan(mask uint8) error {
	for {
		n := d.r.Buffered()
		if n == 0 {
			if _, err := d.r.Peek(1); err != nil {
				if err == io.EOF && len(d.scratch) > 0 {
					return nil
				}
				return eof(err)
			}
			n = d.r.Buffered()
		}
		buf, _ := d.r.Peek(n)
		i := 0
		for i < len(buf) && charClass[buf[i]]&mask != 0 {
			i++
		}
		if err := d.hold(int64(i)); err != nil {
			return err
		}
		d.scratch = append(d.scratch, buf[:i]...)
		d.r.Discard(i)
		if len(d.scratch) > MaxTokenLen {
			return ErrTokenTooLong
		}
		if i < len(buf) {
			return nil
		}
	}
}

// Atom reads an atom (also flags such as \Seen and \*). The result is valid
// until the next call.
func (d *Decoder) Atom() ([]byte, error) {
	d.scratch = d.scratch[:0]
	if err := d.scan(clsAtom); err != nil {
		return nil, err
	}
	if len(d.scratch) == 0 {
		b, _ := d.Peek()
		return nil, syntaxf("expected atom, got %q", b)
	}
	return d.scratch, nil
}

// AtomString reads an atom and returns it as a new string.
func (d *Decoder) AtomString() (string, error) {
	a, err := d.Atom()
	return string(a), err
}

// Number reads a 32-bit unsigned number (RFC 3501 number).
func (d *Decoder) Number() (uint32, error) {
	n, err := d.Number64()
	if err != nil {
		return 0, err
	}
	if n > 0xffffffff {
		return 0, syntaxf("number %d out of range", n)
	}
	return uint32(n), nil
}

// Number64 reads a 63-bit unsigned number (RFC 7162 mod-sequence-value).
func (d *Decoder) Number64() (uint64, error) {
	var n uint64
	digits := 0
	for {
		b, err := d.Peek()
		if err != nil {
			if err == io.EOF && digits > 0 {
				return n, nil
			}
			return 0, eof(err)
		}
		if b < '0' || b > '9' {
			break
		}
		if n > (1<<63-1)/10 {
			return 0, syntaxf("number too large")
		}
		n = n*10 + uint64(b-'0')
		digits++
		d.r.Discard(1)
	}
	if digits == 0 {
		b, _ := d.Peek()
		return 0, syntaxf("expected number, got %q", b)
	}
	if err := d.hold(max(int64(digits), numberCost)); err != nil {
		return 0, err
	}
	return n, nil
}

// IsNIL consumes NIL if it comes next (case-insensitively) and reports whether it did.
func (d *Decoder) IsNIL() bool {
	b, err := d.r.Peek(3)
	if err != nil || len(b) < 3 {
		return false
	}
	if (b[0]|0x20) != 'n' || (b[1]|0x20) != 'i' || (b[2]|0x20) != 'l' {
		return false
	}
	// NIL must be a whole atom: "NILS" is not NIL.
	if b4, err := d.r.Peek(4); err == nil && charClass[b4[3]]&(clsAtom|clsBracket) != 0 {
		return false
	}
	d.r.Discard(3)
	return true
}

// String reads a quoted string or a literal (RFC 3501 string). The result is
// valid until the next call.
func (d *Decoder) String() ([]byte, error) {
	b, err := d.Peek()
	if err != nil {
		return nil, eof(err)
	}
	switch {
	case b == '"':
		return d.quoted()
	case d.atLiteral():
		d.scratch, err = d.LiteralInto(d.scratch[:0])
		return d.scratch, err
	}
	return nil, syntaxf("expected string, got %q", b)
}

// AString reads an astring: an atom (which may contain ']') or a string.
func (d *Decoder) AString() ([]byte, error) {
	b, err := d.Peek()
	if err != nil {
		return nil, eof(err)
	}
	if b == '"' || d.atLiteral() {
		return d.String()
	}
	d.scratch = d.scratch[:0]
	if err := d.scan(clsAtom | clsBracket); err != nil {
		return nil, err
	}
	if len(d.scratch) == 0 {
		return nil, syntaxf("expected astring, got %q", b)
	}
	return d.scratch, nil
}

// NString reads a string or NIL; isNil reports NIL. Lenient: a bare atom is
// accepted as a string, as some servers send one.
func (d *Decoder) NString() (s []byte, isNil bool, err error) {
	if d.IsNIL() {
		return nil, true, nil
	}
	s, err = d.AString()
	return s, false, err
}

// NStringInto reads a string or NIL like NString, but a literal goes into
// dst (grown as needed) instead of the scratch buffer. Used for message data.
func (d *Decoder) NStringInto(dst []byte) (s []byte, isNil bool, err error) {
	if _, err := d.Peek(); err != nil {
		return dst, false, eof(err)
	}
	if d.atLiteral() {
		s, err = d.LiteralInto(dst)
		return s, false, err
	}
	s, isNil, err = d.NString()
	if err != nil || isNil {
		return dst, isNil, err
	}
	return append(dst, s...), false, nil
}

func (d *Decoder) quoted() ([]byte, error) {
	d.r.Discard(1) // opening quote
	d.scratch = d.scratch[:0]
	for {
		if _, err := d.r.Peek(1); err != nil {
			return nil, eof(err)
		}
		buf, _ := d.r.Peek(d.r.Buffered())
		i := 0
		for i < len(buf) && buf[i] != '"' && buf[i] != '\\' && buf[i] != '\r' && buf[i] != '\n' {
			i++
		}
		if err := d.hold(int64(i)); err != nil {
			return nil, err
		}
		d.scratch = append(d.scratch, buf[:i]...)
		d.r.Discard(i)
		if len(d.scratch) > MaxTokenLen {
			return nil, ErrTokenTooLong
		}
		if i == len(buf) {
			continue
		}
		switch buf[i] {
		case '"':
			d.r.Discard(1)
			return d.scratch, nil
		case '\\':
			d.r.Discard(1)
			c, err := d.r.ReadByte()
			if err != nil {
				return nil, eof(err)
			}
			if c == '\r' || c == '\n' {
				d.r.UnreadByte()
				return nil, syntaxf("line break in quoted string")
			}
			if err := d.hold(1); err != nil {
				return nil, err
			}
			d.scratch = append(d.scratch, c)
		default:
			return nil, syntaxf("line break in quoted string")
		}
	}
}

// atLiteral reports whether a literal ("{" or literal8 "~{") comes next.
func (d *Decoder) atLiteral() bool {
	b, err := d.r.Peek(1)
	if err != nil {
		return false
	}
	if b[0] == '{' {
		return true
	}
	if b[0] != '~' {
		return false
	}
	b, err = d.r.Peek(2)
	return err == nil && b[1] == '{'
}

// LiteralHeader reads a literal announcement "{n}" CRLF, "{n+}" or the
// literal8 form "~{n}" (RFC 3516) and returns n. It enforces MaxLiteral
// before anything is allocated.
func (d *Decoder) LiteralHeader() (int64, error) {
	d.Accept('~')
	if err := d.Expect('{'); err != nil {
		return 0, err
	}
	n, err := d.Number64()
	if err != nil {
		return 0, err
	}
	d.Accept('+')
	if err := d.Expect('}'); err != nil {
		return 0, err
	}
	if err := d.CRLF(); err != nil {
		return 0, err
	}
	if n > uint64(d.maxLiteral()) {
		return 0, fmt.Errorf("%w: %d bytes announced, limit %d", ErrLiteralTooLarge, n, d.maxLiteral())
	}
	return int64(n), nil
}

// LiteralInto reads a literal and appends its content to dst. The literal
// is counted against MaxResponse before any of it is read. The buffer
// grows only as the data actually arrives, so an announced size that never
// comes costs no memory.
func (d *Decoder) LiteralInto(dst []byte) ([]byte, error) {
	n, err := d.LiteralHeader()
	if err != nil {
		return dst, err
	}
	if err := d.hold(n); err != nil {
		return dst, err
	}
	return d.readN(dst, n)
}

func (d *Decoder) readN(dst []byte, n int64) ([]byte, error) {
	for n > 0 {
		if cap(dst)-len(dst) == 0 {
			grow := int64(cap(dst))
			if grow < 4096 {
				grow = 4096
			}
			if grow > n {
				grow = n
			}
			dst = append(dst[:cap(dst)], make([]byte, grow)...)[:len(dst)]
		}
		room := int64(cap(dst) - len(dst))
		if room > n {
			room = n
		}
		m, err := io.ReadFull(d.r, dst[len(dst):len(dst)+int(room)])
		dst = dst[:len(dst)+m]
		n -= int64(m)
		if err != nil {
			return dst, eof(err)
		}
	}
	return dst, nil
}

// DiscardLiteral reads a literal announcement and skips its content.
func (d *Decoder) DiscardLiteral() (int64, error) {
	n, err := d.LiteralHeader()
	if err != nil {
		return 0, err
	}
	m, err := d.r.Discard(int(n))
	if err != nil {
		return int64(m), eof(err)
	}
	return n, nil
}

// Text reads the rest of the line up to (not including) CRLF, which it
// consumes. The result is valid until the next call.
func (d *Decoder) Text() ([]byte, error) {
	d.scratch = d.scratch[:0]
	for {
		line, err := d.r.ReadSlice('\n')
		if herr := d.hold(int64(len(line))); herr != nil {
			return nil, herr
		}
		d.scratch = append(d.scratch, line...)
		if len(d.scratch) > MaxTokenLen {
			return nil, ErrTokenTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(d.scratch) > 0 {
				return d.scratch, nil
			}
			return nil, eof(err)
		}
		break
	}
	t := d.scratch[:len(d.scratch)-1]
	if len(t) > 0 && t[len(t)-1] == '\r' {
		t = t[:len(t)-1]
	}
	return t, nil
}

// TextUntil reads response text up to the byte stop (not consumed) or the end
// of line (not consumed). The result is valid until the next call.
func (d *Decoder) TextUntil(stop byte) ([]byte, error) {
	d.scratch = d.scratch[:0]
	for {
		if _, err := d.r.Peek(1); err != nil {
			if err == io.EOF {
				return d.scratch, nil
			}
			return nil, eof(err)
		}
		buf, _ := d.r.Peek(d.r.Buffered())
		i := 0
		for i < len(buf) && buf[i] != stop && buf[i] != '\r' && buf[i] != '\n' {
			i++
		}
		if err := d.hold(int64(i)); err != nil {
			return nil, err
		}
		d.scratch = append(d.scratch, buf[:i]...)
		d.r.Discard(i)
		if len(d.scratch) > MaxTokenLen {
			return nil, ErrTokenTooLong
		}
		if i < len(buf) {
			return d.scratch, nil
		}
	}
}

// RawLine appends the rest of the response to dst, literals included
// verbatim (announcement and content), and consumes the final CRLF, which
// is not appended. It is how unknown responses are kept without being
// understood.
func (d *Decoder) RawLine(dst []byte) ([]byte, error) {
	start := len(dst)
	for {
		line, err := d.r.ReadSlice('\n')
		if herr := d.hold(int64(len(line))); herr != nil {
			return dst, herr
		}
		dst = append(dst, line...)
		if len(dst)-start > MaxTokenLen {
			return dst, ErrTokenTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(dst) > start {
				return dst, nil
			}
			return dst, eof(err)
		}
		// Does the line end in a literal announcement?
		body := dst[start:]
		n, ok := trailingLiteral(body)
		if !ok {
			dst = dst[:len(dst)-1]
			if len(dst) > start && dst[len(dst)-1] == '\r' {
				dst = dst[:len(dst)-1]
			}
			return dst, nil
		}
		if n > d.maxLiteral() {
			return dst, fmt.Errorf("%w: %d bytes announced, limit %d", ErrLiteralTooLarge, n, d.maxLiteral())
		}
		if int64(len(dst)-start)+n > MaxTokenLen {
			return dst, ErrTokenTooLong
		}
		if err := d.hold(n); err != nil {
			return dst, err
		}
		dst, err = d.readN(dst, n)
		if err != nil {
			return dst, err
		}
	}
}

// SkipLine discards the rest of the response, literals included, without
// keeping it. Used to resynchronize after a SyntaxError.
func (d *Decoder) SkipLine() error {
	var buf [64]byte
	tail := buf[:0]
	for {
		line, err := d.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return eof(err)
		}
		// keep the last bytes of the line to look for "{n}\r\n"
		const keep = 30
		if len(line) >= keep {
			tail = append(tail[:0], line[len(line)-keep:]...)
		} else {
			tail = append(tail, line...)
			if len(tail) > keep {
				copy(tail, tail[len(tail)-keep:])
				tail = tail[:keep]
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		n, ok := trailingLiteral(tail)
		if !ok {
			return nil
		}
		if n > d.maxLiteral() {
			return fmt.Errorf("%w: %d bytes announced, limit %d", ErrLiteralTooLarge, n, d.maxLiteral())
		}
		if _, err := d.r.Discard(int(n)); err != nil {
			return eof(err)
		}
		tail = tail[:0]
	}
}

// trailingLiteral reports whether line (ending in LF) ends with a literal
// announcement "{n}" or "{n+}" and returns n.
func trailingLiteral(line []byte) (int64, bool) {
	i := len(line) - 1 // '\n'
	if i < 0 || line[i] != '\n' {
		return 0, false
	}
	if i > 0 && line[i-1] == '\r' {
		i--
	}
	if i == 0 || line[i-1] != '}' {
		return 0, false
	}
	i--
	end := i
	if i > 0 && line[i-1] == '+' {
		i--
		end = i
	}
	j := i
	for j > 0 && line[j-1] >= '0' && line[j-1] <= '9' {
		j--
	}
	if j == end || j == 0 || line[j-1] != '{' {
		return 0, false
	}
	var n int64
	for _, c := range line[j:end] {
		if n > (1<<62)/10 {
			return 1 << 62, true
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// List parses a parenthesized list, calling item for each element. item
// must consume exactly one element. Elements may be separated by one or more
// spaces; an empty list "()" calls item never. NIL is accepted as an empty
// list (lenient: some servers send NIL where a list belongs).
func (d *Decoder) List(item func() error) error {
	if d.IsNIL() {
		return nil
	}
	if err := d.Expect('('); err != nil {
		return err
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > MaxDepth {
		return ErrTooDeep
	}
	d.SkipSpaces()
	if d.Accept(')') {
		return nil
	}
	for {
		if err := d.hold(elementCost); err != nil {
			return err
		}
		if err := item(); err != nil {
			return err
		}
		d.SkipSpaces()
		if d.Accept(')') {
			return nil
		}
		b, err := d.Peek()
		if err != nil {
			return eof(err)
		}
		if b == '\r' || b == '\n' {
			return syntaxf("unterminated list")
		}
	}
}

// Depth is the current list nesting depth (for parsers with their own recursion).
func (d *Decoder) Depth() int { return d.depth }

// Enter increments the nesting depth, failing beyond MaxDepth; pair with Leave.
func (d *Decoder) Enter() error {
	d.depth++
	if d.depth > MaxDepth {
		d.depth--
		return ErrTooDeep
	}
	return nil
}

// Leave undoes Enter.
func (d *Decoder) Leave() { d.depth-- }

// SkipValue consumes one value of any kind: NIL, number, atom (including
// section forms like BODY[HEADER]<0>), quoted string, literal or a nested
// list. Used for data the caller does not understand.
func (d *Decoder) SkipValue() error {
	b, err := d.Peek()
	if err != nil {
		return eof(err)
	}
	switch b {
	case '(':
		return d.List(d.SkipValue)
	case '"':
		_, err := d.quoted()
		return err
	}
	if d.atLiteral() {
		_, err := d.DiscardLiteral()
		return err
	}
	return d.skipAtomish()
}

// skipAtomish consumes an atom that may carry [...] and <...> parts.
func (d *Decoder) skipAtomish() error {
	d.scratch = d.scratch[:0]
	if err := d.scan(clsAtom | clsBracket); err != nil {
		return err
	}
	n := len(d.scratch)
	if d.Accept('[') {
		if _, err := d.TextUntil(']'); err != nil {
			return err
		}
		if err := d.Expect(']'); err != nil {
			return err
		}
		n++
		d.scratch = d.scratch[:0]
		if err := d.scan(clsAtom); err != nil && err != io.ErrUnexpectedEOF {
			return err
		}
	}
	if n == 0 {
		b, _ := d.Peek()
		return syntaxf("unexpected %q", b)
	}
	return nil
}

// AppendValue consumes one value like SkipValue and appends a faithful
// re-encoding of it to dst: atoms and numbers as they were, quoted strings
// re-quoted, literals as "{n}" CRLF plus content, lists recursively. It
// keeps data the caller does not understand.
func (d *Decoder) AppendValue(dst []byte) ([]byte, error) {
	b, err := d.Peek()
	if err != nil {
		return dst, eof(err)
	}
	switch b {
	case '(':
		if err := d.Enter(); err != nil {
			return dst, err
		}
		defer d.Leave()
		d.r.Discard(1)
		dst = append(dst, '(')
		first := true
		for {
			d.SkipSpaces()
			if d.Accept(')') {
				return append(dst, ')'), nil
			}
			if b, err := d.Peek(); err != nil || b == '\r' || b == '\n' {
				if err != nil {
					return dst, eof(err)
				}
				return dst, syntaxf("unterminated list")
			}
			if !first {
				dst = append(dst, ' ')
			}
			first = false
			if dst, err = d.AppendValue(dst); err != nil {
				return dst, err
			}
		}
	case '"':
		s, err := d.quoted()
		if err != nil {
			return dst, err
		}
		return AppendQuoted(dst, string(s)), nil
	}
	if d.atLiteral() {
		n, err := d.LiteralHeader()
		if err != nil {
			return dst, err
		}
		if n > MaxTokenLen {
			return dst, ErrTokenTooLong
		}
		if err := d.hold(n); err != nil {
			return dst, err
		}
		dst = AppendLiteralHeader(dst, n, false)
		return d.readN(dst, n)
	}
	d.scratch = d.scratch[:0]
	if err := d.scan(clsAtom | clsBracket); err != nil {
		return dst, err
	}
	if d.Accept('[') {
		d.scratch = append(d.scratch, '[')
		rest := append([]byte(nil), d.scratch...)
		t, err := d.TextUntil(']')
		if err != nil {
			return dst, err
		}
		rest = append(rest, t...)
		if err := d.Expect(']'); err != nil {
			return dst, err
		}
		rest = append(rest, ']')
		d.scratch = d.scratch[:0]
		if err := d.scan(clsAtom); err != nil && err != io.ErrUnexpectedEOF {
			return dst, err
		}
		rest = append(rest, d.scratch...)
		d.scratch = rest
	}
	if len(d.scratch) == 0 {
		return dst, syntaxf("unexpected %q", b)
	}
	return append(dst, d.scratch...), nil
}
