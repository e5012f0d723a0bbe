package message

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
	Date      string // Date field as written
}

// Summarize decodes the Message-ID, From, Subject and Date fields of a raw
// header block (or of a whole message). It never fails: missing or
// malformed fields give empty strings.
func Summarize(header []byte) Summary {
	var h Header
	hdr, _ := SplitHeader(header)
	h.Parse(hdr)
	dec := NewDecoder()
	var s Summary
	if v, ok := h.Lookup("Message-Id"); ok {
		s.MessageID = ParseMsgID(v)
	}
	if v, ok := h.Lookup("From"); ok {
		if list := dec.AddressList(v); len(list) > 0 {
			s.From = list[0].String()
		} else {
			s.From = dec.Text(v)
		}
	}
	if v, ok := h.Lookup("Subject"); ok {
		s.Subject = dec.Text(v)
	}
	if v, ok := h.Lookup("Date"); ok {
		s.Date = v
	}
	return s
}

// Date returns the parsed Date field of a raw header block (or of a whole
// message), or the zero time when it is missing or unreadable.
func Date(header []byte) time.Time {
	var h Header
	hdr, _ := SplitHeader(header)
	h.Parse(hdr) // a copy: a zone name in the time may refer to the text
	return ParseDate(h.Get("Date"))
}

// ID returns the Message-ID of a raw header block (or of a whole message)
// without angle brackets, or "" when it has none. It decodes nothing else,
// for the hot path of logging every action.
func ID(header []byte) string {
	var h Header
	hdr, _ := SplitHeader(header)
	h.ParseInPlace(hdr)
	if v, ok := h.Lookup("Message-Id"); ok {
		// A copy: a substring would refer to the caller's buffer.
		return strings.Clone(ParseMsgID(v))
	}
	return ""
}
