package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FilterOp is the kind of a Filter node.
type FilterOp int

const (
	// FilterAll matches every message: no narrowing.
	FilterAll FilterOp = iota
	// FilterAnd matches what every child matches.
	FilterAnd
	// FilterOr matches what some child matches.
	FilterOr
	// FilterNot matches what its only child does not match.
	FilterNot
	// FilterBefore matches an INTERNALDATE before Date's day (IMAP BEFORE,
	// RFC 3501 section 6.4.4).
	FilterBefore
	// FilterSince matches an INTERNALDATE on or after Date's day (IMAP SINCE).
	FilterSince
	// FilterFlag matches messages that have Flag (IMAP SEEN, FLAGGED...
	// for system flags, KEYWORD for others).
	FilterFlag
	// FilterLarger matches an RFC822.SIZE larger than Size (IMAP LARGER).
	FilterLarger
	// FilterSmaller matches an RFC822.SIZE smaller than Size (IMAP SMALLER).
	FilterSmaller
	// FilterHeader matches messages whose header field Header contains
	// Value, case-insensitively; an empty Value matches messages that have
	// the field (IMAP HEADER, RFC 3501 section 6.4.4).
	FilterHeader
	// FilterNone matches no message: no old message needs to be looked at.
	FilterNone
)

// String returns the IMAP-like name of the operation, e.g. "BEFORE".
func (op FilterOp) String() string {
	switch op {
	case FilterAll:
		return "ALL"
	case FilterAnd:
		return "AND"
	case FilterOr:
		return "OR"
	case FilterNot:
		return "NOT"
	case FilterBefore:
		return "BEFORE"
	case FilterSince:
		return "SINCE"
	case FilterFlag:
		return "FLAG"
	case FilterLarger:
		return "LARGER"
	case FilterSmaller:
		return "SMALLER"
	case FilterHeader:
		return "HEADER"
	case FilterNone:
		return "NONE"
	}
	return fmt.Sprintf("FilterOp(%d)", int(op))
}

// Filter is a conservative IMAP SEARCH prefilter: every message the rules
// it was derived from could match satisfies it (it may also let through
// messages they do not match; the rules are still evaluated on what it
// returns).
//
// Date is midnight UTC of the day BEFORE and SINCE compare with; the day is
// all that counts (RFC 3501 section 6.4.4 disregards time and time zone) and
// the derivation leaves two days of margin for the server's time zone.
// FilterAll and FilterNone only stand alone, never inside another filter:
// a Filter with Op FilterAll cannot narrow the search, one with FilterNone
// says that nothing needs to be searched.
type Filter struct {
	Op            FilterOp
	Children      []*Filter // operands of FilterAnd and FilterOr, the one operand of FilterNot
	Date          time.Time // FilterBefore, FilterSince
	Flag          string    // FilterFlag: a system flag in canonical case (\Seen) or a keyword
	Size          int64     // FilterLarger, FilterSmaller
	Header, Value string    // FilterHeader: field name and plain ASCII substring ("" means the field exists)
}

// String formats the filter for logs and tests, e.g.
// (AND (BEFORE 2025-01-01) (NOT (FLAG \Flagged))). FilterNone is written
// (NOT (ALL)), as the SEARCH key that matches nothing.
func (f *Filter) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f *Filter) write(b *strings.Builder) {
	if f == nil {
		b.WriteString("<nil>")
		return
	}
	if f.Op == FilterNone {
		b.WriteString("(NOT (ALL))")
		return
	}
	b.WriteByte('(')
	b.WriteString(f.Op.String())
	switch f.Op {
	case FilterAnd, FilterOr, FilterNot:
		for _, c := range f.Children {
			b.WriteByte(' ')
			c.write(b)
		}
	case FilterBefore, FilterSince:
		b.WriteByte(' ')
		b.WriteString(f.Date.Format(time.DateOnly))
	case FilterFlag:
		b.WriteByte(' ')
		b.WriteString(f.Flag)
	case FilterLarger, FilterSmaller:
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(f.Size, 10))
	case FilterHeader:
		b.WriteByte(' ')
		b.WriteString(f.Header)
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(f.Value))
	}
	b.WriteByte(')')
}
