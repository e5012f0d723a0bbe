package message

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// ParseListID returns the identifier of a List-Id field value (RFC 2919
// section 3): the part inside the last <...>, or the whole value when there
// are no brackets; lower-cased.
func ParseListID(v string) string {
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

// ListName makes a folder-safe short name from a list id: its first label
// ("golang-nuts" for "golang-nuts.googlegroups.com"), keeping letters,
// digits, '-', '_' and '+', other characters replaced by '-'.
func ListName(id string) string {
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

// ParseMsgID returns the msg-id of a Message-ID field value without its
// angle brackets (RFC 5322 section 3.6.4), or the trimmed value when it has
// none.
func ParseMsgID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return v
}

// ParseDate parses a Date field value (RFC 5322 section 3.3) leniently: a
// trailing comment and a few common non-standard layouts are accepted. It
// returns the zero time when it cannot read the value.
func ParseDate(v string) time.Time {
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

// SpamScoreFields returns the names of the header fields SpamScore reads,
// upper-case and sorted, in a new slice.
func SpamScoreFields() []string {
	return []string{"X-RSPAMD-SCORE", "X-SPAM-SCORE", "X-SPAM-STATUS"}
}

// SpamScore reads a spam score from X-Spam-Status ("Yes, score=7.3
// required=5.0 ..."; SpamAssassin), X-Spam-Score ("7.3"; SpamAssassin,
// Amavis) or X-Rspamd-Score ("7.30"; Rspamd), in that order; 0 when none
// is present or readable. field returns a field's first value, "" when it
// is absent.
func SpamScore(field func(name string) string) float64 {
	if v := field("X-Spam-Status"); v != "" {
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
		if v := field(h); v != "" {
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
