package message

import (
	"bytes"
	"strings"
	"unsafe"
)

// SplitHeader splits a message into its header block and its body at the
// first empty line; it handles CRLF and bare LF line ends. The header keeps
// its terminating empty line, as IMAP's BODY[HEADER] does (RFC 3501 section
// 6.4.5): joined, header and body are raw again. A message that starts with
// an empty line has an empty header (header is that line); a message without
// an empty line is all header, with a nil body.
func SplitHeader(raw []byte) (header, body []byte) {
	i := 0
	for i < len(raw) {
		// The line starting at i is empty when it is "\n" or "\r\n".
		switch {
		case raw[i] == '\n':
			return raw[:i+1], raw[i+1:]
		case raw[i] == '\r' && i+1 < len(raw) && raw[i+1] == '\n':
			return raw[:i+2], raw[i+2:]
		}
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return raw, nil
}

// Header locates the fields of a raw header block (RFC 5322 section 2.2).
// It is filled by one pass over the bytes; values are unfolded only when
// read. The zero value is an empty header; a Header can be reused with
// another block, keeping its memory.
type Header struct {
	src    string
	fields []headerField
}

type headerField struct {
	name       string // as written
	valueStart int    // offset of the value (after the colon) in src
	valueEnd   int    // offset after the value's last line (before its CRLF)
}

// Reset empties h, keeping its memory for the next block.
func (h *Header) Reset() {
	h.src = ""
	h.fields = h.fields[:0]
}

// Parse indexes a copy of raw, a header block or a whole message. It never
// fails: lines that are not fields (no colon, a space in the name) are
// ignored, and parsing stops at the first empty line.
func (h *Header) Parse(raw []byte) {
	h.index(string(raw))
}

// ParseInPlace is Parse without the copy: h, and every string read from it,
// refer to raw's bytes, so raw must not change while they are in use. It
// saves a copy of every header block for a caller that reads the header for
// a short time and keeps no string it read (or copies what it keeps).
func (h *Header) ParseInPlace(raw []byte) {
	h.index(unsafe.String(unsafe.SliceData(raw), len(raw)))
}

// index indexes the header block s.
func (h *Header) index(s string) {
	h.src = s
	h.fields = h.fields[:0]
	i := 0
	for i < len(s) {
		// Line [i, eol), next line at next.
		eol, next := lineEnd(s, i)
		if eol == i {
			break // empty line: end of header
		}
		if s[i] == ' ' || s[i] == '\t' {
			// Continuation of a field we skipped (or of a field at the very start).
			i = next
			continue
		}
		colon := strings.IndexByte(s[i:eol], ':')
		if colon <= 0 || !ValidFieldName(s[i:i+colon]) {
			i = next
			continue
		}
		f := headerField{name: strings.TrimRight(s[i:i+colon], " \t"), valueStart: i + colon + 1}
		end := eol
		i = next
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			eol, next = lineEnd(s, i)
			end = eol
			i = next
		}
		f.valueEnd = end
		h.fields = append(h.fields, f)
	}
}

// lineEnd returns the end of the line starting at i (before CR LF or LF) and
// the start of the next line.
func lineEnd(s string, i int) (eol, next int) {
	j := strings.IndexByte(s[i:], '\n')
	if j < 0 {
		return len(s), len(s)
	}
	eol = i + j
	next = eol + 1
	if eol > i && s[eol-1] == '\r' {
		eol--
	}
	return eol, next
}

// ValidFieldName reports whether name can be a header field name:
// printable US-ASCII without white space (RFC 5322 section 3.6.8). White
// space at its end, as in "Subject :", is tolerated; a colon is not looked
// for.
func ValidFieldName(name string) bool {
	name = strings.TrimRight(name, " \t") // tolerate "Subject :"
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 127 {
			return false
		}
	}
	return true
}

// value returns the unfolded value of f: CRLF followed by white space
// becomes that white space (RFC 5322 section 2.2.3); leading and trailing
// white space is trimmed.
func (h *Header) value(f *headerField) string {
	v := h.src[f.valueStart:f.valueEnd]
	if strings.IndexByte(v, '\n') < 0 {
		return strings.Trim(v, " \t\r")
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			continue
		}
		b.WriteByte(c)
	}
	return strings.Trim(b.String(), " \t")
}

// Lookup returns the first value of the named field (case-insensitive),
// unfolded and trimmed but not decoded, and whether the field is there.
func (h *Header) Lookup(name string) (string, bool) {
	for i := range h.fields {
		if strings.EqualFold(h.fields[i].name, name) {
			return h.value(&h.fields[i]), true
		}
	}
	return "", false
}

// Get returns the first value of the named field as Lookup does, or "".
func (h *Header) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Values returns every value of the named field, in order, unfolded and
// trimmed but not decoded; nil when there is none.
func (h *Header) Values(name string) []string {
	var out []string
	for i := range h.fields {
		if strings.EqualFold(h.fields[i].name, name) {
			out = append(out, h.value(&h.fields[i]))
		}
	}
	return out
}
