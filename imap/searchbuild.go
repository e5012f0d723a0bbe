package imap

import "time"

// The functions below build SearchCriteria (RFC 3501 section 6.4.4) piece
// by piece, e.g.
//
//	imap.And(imap.From("alice"), imap.Or(imap.Subject("invoice"), imap.Keyword("$Billing")),
//		imap.Not(imap.Flagged()), imap.SinceDate(t))
//
// Every result is an ordinary SearchCriteria and can be mixed with literal
// ones.

// And returns criteria matching messages that match all of cs. Slices are
// concatenated; of two date or size bounds the stricter one is kept; a
// second UID or sequence set is intersected by nesting it as NOT (NOT set).
func And(cs ...SearchCriteria) SearchCriteria {
	var out SearchCriteria
	for _, c := range cs {
		if len(c.UID) > 0 {
			if len(out.UID) == 0 {
				out.UID = c.UID
			} else {
				out.Not = append(out.Not, SearchCriteria{Not: []SearchCriteria{{UID: c.UID}}})
			}
		}
		if len(c.SeqNum) > 0 {
			if len(out.SeqNum) == 0 {
				out.SeqNum = c.SeqNum
			} else {
				out.Not = append(out.Not, SearchCriteria{Not: []SearchCriteria{{SeqNum: c.SeqNum}}})
			}
		}
		out.Since = later(out.Since, c.Since)
		out.SentSince = later(out.SentSince, c.SentSince)
		out.Before = earlier(out.Before, c.Before)
		out.SentBefore = earlier(out.SentBefore, c.SentBefore)
		if c.Larger > out.Larger {
			out.Larger = c.Larger
		}
		if c.Smaller > 0 && (out.Smaller == 0 || c.Smaller < out.Smaller) {
			out.Smaller = c.Smaller
		}
		out.Header = append(out.Header, c.Header...)
		out.Body = append(out.Body, c.Body...)
		out.Text = append(out.Text, c.Text...)
		out.Flag = append(out.Flag, c.Flag...)
		out.NotFlag = append(out.NotFlag, c.NotFlag...)
		out.Not = append(out.Not, c.Not...)
		out.Or = append(out.Or, c.Or...)
		if c.Raw != "" {
			if out.Raw != "" {
				out.Raw += " "
			}
			out.Raw += c.Raw
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// Or returns criteria matching messages that match a or b (OR a b). More
// alternatives nest: Or(a, Or(b, c)).
func Or(a, b SearchCriteria) SearchCriteria {
	return SearchCriteria{Or: [][2]SearchCriteria{{a, b}}}
}

// Not returns criteria matching messages that do not match c (NOT c).
func Not(c SearchCriteria) SearchCriteria {
	return SearchCriteria{Not: []SearchCriteria{c}}
}

// All matches every message (ALL).
func All() SearchCriteria { return SearchCriteria{} }

// UIDs matches the messages with these UIDs (UID set).
func UIDs(set SeqSet) SearchCriteria { return SearchCriteria{UID: set} }

// SeqNums matches the messages with these sequence numbers.
func SeqNums(set SeqSet) SearchCriteria { return SearchCriteria{SeqNum: set} }

// Header matches messages whose header field contains value (HEADER field
// value); an empty value matches messages that have the field.
func Header(field, value string) SearchCriteria {
	return SearchCriteria{Header: [][2]string{{field, value}}}
}

// From matches a substring of the From header (sent as HEADER From s).
func From(s string) SearchCriteria { return Header("From", s) }

// To matches a substring of the To header.
func To(s string) SearchCriteria { return Header("To", s) }

// Cc matches a substring of the Cc header.
func Cc(s string) SearchCriteria { return Header("Cc", s) }

// Bcc matches a substring of the Bcc header.
func Bcc(s string) SearchCriteria { return Header("Bcc", s) }

// Subject matches a substring of the Subject header.
func Subject(s string) SearchCriteria { return Header("Subject", s) }

// Body matches a substring of the body (BODY s).
func Body(s string) SearchCriteria { return SearchCriteria{Body: []string{s}} }

// Text matches a substring of the header or body (TEXT s).
func Text(s string) SearchCriteria { return SearchCriteria{Text: []string{s}} }

// HasFlag matches messages with the flag: a system flag (\Seen...) becomes
// its key (SEEN...), anything else KEYWORD.
func HasFlag(flag string) SearchCriteria { return SearchCriteria{Flag: []string{flag}} }

// LacksFlag matches messages without the flag (UNSEEN..., UNKEYWORD).
func LacksFlag(flag string) SearchCriteria { return SearchCriteria{NotFlag: []string{flag}} }

// Keyword matches messages with the keyword (KEYWORD k).
func Keyword(k string) SearchCriteria { return HasFlag(k) }

// Unkeyword matches messages without the keyword (UNKEYWORD k).
func Unkeyword(k string) SearchCriteria { return LacksFlag(k) }

// Seen matches messages with \Seen (SEEN).
func Seen() SearchCriteria { return HasFlag(FlagSeen) }

// Unseen matches messages without \Seen (UNSEEN).
func Unseen() SearchCriteria { return LacksFlag(FlagSeen) }

// Flagged matches messages with \Flagged (FLAGGED).
func Flagged() SearchCriteria { return HasFlag(FlagFlagged) }

// Deleted matches messages with \Deleted (DELETED).
func Deleted() SearchCriteria { return HasFlag(FlagDeleted) }

// SinceDate matches messages whose internal date is on or after t's date (SINCE).
func SinceDate(t time.Time) SearchCriteria { return SearchCriteria{Since: t} }

// BeforeDate matches messages whose internal date is before t's date (BEFORE).
func BeforeDate(t time.Time) SearchCriteria { return SearchCriteria{Before: t} }

// OnDate matches messages whose internal date is t's date (ON).
func OnDate(t time.Time) SearchCriteria { return SearchCriteria{Raw: "ON " + t.Format("2-Jan-2006")} }

// SentSinceDate matches messages whose Date header is on or after t's date (SENTSINCE).
func SentSinceDate(t time.Time) SearchCriteria { return SearchCriteria{SentSince: t} }

// SentBeforeDate matches messages whose Date header is before t's date (SENTBEFORE).
func SentBeforeDate(t time.Time) SearchCriteria { return SearchCriteria{SentBefore: t} }

// SentOnDate matches messages whose Date header is t's date (SENTON).
func SentOnDate(t time.Time) SearchCriteria {
	return SearchCriteria{Raw: "SENTON " + t.Format("2-Jan-2006")}
}

// LargerThan matches messages larger than n octets (LARGER n).
func LargerThan(n int64) SearchCriteria { return SearchCriteria{Larger: n} }

// SmallerThan matches messages smaller than n octets (SMALLER n).
func SmallerThan(n int64) SearchCriteria { return SearchCriteria{Smaller: n} }

// RawCriteria is search keys sent verbatim, e.g. "MODSEQ 1234" or
// "X-GM-RAW \"has:attachment\"".
func RawCriteria(keys string) SearchCriteria { return SearchCriteria{Raw: keys} }
