package rules

import (
	"strings"
	"time"
)

// Summary is a decoded description of a message for logs, reports and the
// test command.
type Summary struct {
	MessageID string // without angle brackets
	From      string // first From address as "Name <addr>" or addr
	Subject   string // RFC 2047 decoded
	Date      string // Date header as written
}

// Summarize decodes the Message-ID, From, Subject and Date fields of a raw
// header block (or of a whole message). Like the rule environment it never
// fails: missing or malformed fields give empty strings.
func Summarize(header []byte) Summary {
	var h headerIndex
	hdr, _ := splitHeader(header)
	h.parse(hdr)
	dec := newDecoder()
	var s Summary
	if v, ok := h.first("Message-Id"); ok {
		s.MessageID = angleID(v)
	}
	if v, ok := h.first("From"); ok {
		if list := parseAddressList(v, dec); len(list) > 0 {
			s.From = list[0].String()
		} else {
			s.From = dec.decodeText(v)
		}
	}
	if v, ok := h.first("Subject"); ok {
		s.Subject = dec.decodeText(v)
	}
	if v, ok := h.first("Date"); ok {
		s.Date = v
	}
	return s
}

// MessageDate returns the parsed Date field of a raw header block, or the
// zero time when it is missing or unreadable.
func MessageDate(header []byte) time.Time {
	var h headerIndex
	hdr, _ := splitHeader(header)
	h.parse(hdr)
	if v, ok := h.first("Date"); ok {
		return parseDate(v)
	}
	return time.Time{}
}

// MessageID returns the Message-ID of a raw header block (or of a whole
// message) without angle brackets, or "" when it has none. It decodes nothing else, for the hot
// path of logging every action.
func MessageID(header []byte) string {
	var h headerIndex
	hdr, _ := splitHeader(header)
	h.parse(hdr)
	if v, ok := h.first("Message-Id"); ok {
		// A copy: a substring would keep the whole header block alive
		// for as long as the caller keeps the ID.
		return strings.Clone(angleID(v))
	}
	return ""
}
