package rules

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// headerIndex locates the fields of a raw header block (RFC 5322 section
// 2.2). It is filled by one pass over the bytes; values are unfolded only
// when read.
type headerIndex struct {
	src    string
	fields []headerField
}

type headerField struct {
	name       string // as written
	valueStart int    // offset of the value (after the colon) in src
	valueEnd   int    // offset after the value's last line (before its CRLF)
}

func (h *headerIndex) reset() {
	h.src = ""
	h.fields = h.fields[:0]
}

// parse indexes a copy of raw. It never fails: lines that are not fields
// (no colon, a space in the name) are ignored, and parsing stops at the
// first empty line.
func (h *headerIndex) parse(raw []byte) {
	h.index(string(raw))
}

// parseInPlace indexes raw without copying it: the index, and every string
// read from it, refer to raw's bytes. Evaluate uses it, since Message.Header
// stays unchanged for the call and nothing in a Result refers to the header
// (mailbox templates build new strings, errors are formatted), and the
// evaluation state is reset before Evaluate returns. That saves a copy of
// every header block a pass reads.
func (h *headerIndex) parseInPlace(raw []byte) {
	h.index(unsafe.String(unsafe.SliceData(raw), len(raw)))
}

// index indexes the header block s.
func (h *headerIndex) index(s string) {
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
		if colon <= 0 || !validFieldName(s[i:i+colon]) {
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

func validFieldName(name string) bool {
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
func (h *headerIndex) value(f *headerField) string {
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

// first returns the first value of the named field (case-insensitive).
func (h *headerIndex) first(name string) (string, bool) {
	for i := range h.fields {
		if strings.EqualFold(h.fields[i].name, name) {
			return h.value(&h.fields[i]), true
		}
	}
	return "", false
}

// all returns every value of the named field, in order.
func (h *headerIndex) all(name string) []string {
	var out []string
	for i := range h.fields {
		if strings.EqualFold(h.fields[i].name, name) {
			out = append(out, h.value(&h.fields[i]))
		}
	}
	return out
}

// listID extracts the identifier of a List-Id value (RFC 2919 section 3):
// the part inside the last <...>, or the whole value when there are no
// brackets; lower-cased.
func listID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		rest := v[i+1:]
		if j := strings.IndexByte(rest, '>'); j >= 0 {
			rest = rest[:j]
		}
		v = rest
	} else if strings.ContainsAny(v, " \t") {
		// No brackets and free text: take the last word that looks like an id.
		fs := strings.Fields(v)
		v = fs[len(fs)-1]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// listName makes a folder-safe short name from a list id: its first label
// ("golang-nuts" for "golang-nuts.googlegroups.com"), keeping letters,
// digits, '-', '_' and '+', other characters replaced by '-'.
func listName(id string) string {
	if id == "" {
		return ""
	}
	label := id
	if i := strings.IndexByte(id, '.'); i > 0 {
		label = id[:i]
	}
	var b strings.Builder
	b.Grow(len(label))
	for _, r := range label {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '+':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// angleID returns the text inside <...> of a Message-ID, or the trimmed value.
func angleID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return v
}

// parseDate parses a Date header leniently; zero time when it cannot.
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	// Strip a trailing comment such as "(CEST)" and retry, then a few common
	// non-standard layouts.
	if i := strings.IndexByte(v, '('); i > 0 {
		if t, err := mail.ParseDate(strings.TrimSpace(v[:i])); err == nil {
			return t
		}
	}
	for _, layout := range []string{
		time.RFC1123Z, time.RFC1123, time.RFC3339, time.ANSIC, time.UnixDate,
		"Mon, 2 Jan 2006 15:04:05 -0700 (MST)", "2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04 -0700",
		"2006-01-02 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05",
	} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// spamScore reads a spam score from X-Spam-Status ("Yes, score=7.3
// required=5.0 ..."; SpamAssassin), X-Spam-Score ("7.3"; SpamAssassin,
// Amavis) or X-Rspamd-Score ("7.30"; Rspamd), in that order; 0 when none
// is present or readable.
func spamScore(e *evalEnv) float64 {
	if v := e.headerValue("X-Spam-Status"); v != "" {
		lower := strings.ToLower(v)
		for _, key := range []string{"score=", "hits="} {
			if i := strings.Index(lower, key); i >= 0 {
				if f, ok := leadingFloat(v[i+len(key):]); ok {
					return f
				}
			}
		}
	}
	for _, h := range []string{"X-Spam-Score", "X-Rspamd-Score"} {
		if v := e.headerValue(h); v != "" {
			if f, ok := leadingFloat(strings.TrimSpace(v)); ok {
				return f
			}
		}
	}
	return 0
}

// leadingFloat parses the number at the start of s ("7.3 required=5" -> 7.3).
func leadingFloat(s string) (float64, bool) {
	end := 0
	for end < len(s) {
		c := s[end]
		if (c >= '0' && c <= '9') || c == '.' || ((c == '-' || c == '+') && end == 0) {
			end++
			continue
		}
		break
	}
	if end == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
