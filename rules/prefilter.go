package rules

import (
	"math"
	"strings"
	"time"

	"github.com/mailrules/mailrules/message"
)

// SweepFilter returns the prefilter for the set's scope = "all" rules,
// evaluated at now (the pass time, as given to Evaluate): the OR of each
// such rule's filter, derived from the rule's condition in the intermediate
// form (Cond). It is nil when no rule in the set has scope "all"; its Op is
// FilterAll when the conditions cannot be narrowed, FilterNone when no
// sweep rule can match any message.
//
// Scope "new" rules are left out: they never see messages that are not new,
// and new messages are fetched anyway.
func (s *Set) SweepFilter(now time.Time) *Filter {
	if !s.hasAll {
		return nil
	}
	var parts []derived
	for _, r := range s.rules {
		if !r.scopeAll {
			continue
		}
		if r.cond == nil {
			parts = append(parts, unknown())
			continue
		}
		parts = append(parts, derive(r.cond, now))
	}
	return orDerived(parts...).f
}

// derived is the filter of an expression node. exact says the filter
// matches exactly the messages the node is true for (a flag test), so that
// it may be negated; otherwise it is only a superset.
type derived struct {
	f     *Filter
	exact bool
}

// Margin, in days, added around BEFORE and SINCE dates: IMAP compares the
// date alone, in a time zone the server chooses (RFC 3501 section 6.4.4),
// which is at most 14 hours away from UTC.
const dateMarginDays = 2

func allFilter() *Filter  { return &Filter{Op: FilterAll} }
func noneFilter() *Filter { return &Filter{Op: FilterNone} }

func isAll(f *Filter) bool  { return f.Op == FilterAll }
func isNone(f *Filter) bool { return f.Op == FilterNone }

// unknown is the filter of a node that cannot be pushed down.
func unknown() derived { return derived{f: allFilter()} }

// constBool is the filter of a node that is always true or always false.
func constBool(v bool) derived {
	if v {
		return derived{f: allFilter(), exact: true}
	}
	return derived{f: noneFilter(), exact: true}
}

func exactly(f *Filter) derived  { return derived{f: f, exact: true} }
func superset(f *Filter) derived { return derived{f: f} }

// andFilter is the conjunction; parts that are All drop out.
func andFilter(ds ...derived) derived {
	out := derived{exact: true}
	var kids []*Filter
	for _, d := range ds {
		out.exact = out.exact && d.exact
		switch {
		case isNone(d.f):
			// A superset that matches nothing means the node is never true.
			return exactly(noneFilter())
		case isAll(d.f):
		case d.f.Op == FilterAnd:
			kids = append(kids, d.f.Children...)
		default:
			kids = append(kids, d.f)
		}
	}
	kids = mergeDates(kids, true)
	switch len(kids) {
	case 0:
		out.f = allFilter()
	case 1:
		out.f = kids[0]
	default:
		out.f = &Filter{Op: FilterAnd, Children: kids}
	}
	return out
}

// orDerived is the disjunction; it is All as soon as one part is.
func orDerived(ds ...derived) derived {
	out := derived{exact: true}
	var kids []*Filter
	for _, d := range ds {
		out.exact = out.exact && d.exact
		switch {
		case isAll(d.f):
			// Always true if that part is (exact), unknown otherwise.
			return derived{f: allFilter(), exact: d.exact}
		case isNone(d.f):
		case d.f.Op == FilterOr:
			kids = append(kids, d.f.Children...)
		default:
			kids = append(kids, d.f)
		}
	}
	kids = mergeDates(kids, false)
	switch len(kids) {
	case 0:
		return exactly(noneFilter())
	case 1:
		out.f = kids[0]
	default:
		out.f = &Filter{Op: FilterOr, Children: kids}
	}
	return out
}

// mergeDates keeps one BEFORE and one SINCE among the operands of an AND
// (the narrowest) or an OR (the widest): (OR (BEFORE d1) (BEFORE d2)) is
// BEFORE the later day.
func mergeDates(kids []*Filter, and bool) []*Filter {
	// Nodes may be shared between subtrees (a ternary's condition), so
	// they are chosen, never modified.
	before, since := -1, -1
	out := make([]*Filter, 0, len(kids))
	for _, k := range kids {
		switch {
		case k.Op == FilterBefore && before >= 0:
			if k.Date.Before(out[before].Date) == and {
				out[before] = k
			}
		case k.Op == FilterSince && since >= 0:
			if k.Date.After(out[since].Date) == and {
				out[since] = k
			}
		default:
			if k.Op == FilterBefore {
				before = len(out)
			} else if k.Op == FilterSince {
				since = len(out)
			}
			out = append(out, k)
		}
	}
	return out
}

// notFilter negates d when it is exact; a superset cannot be negated.
func notFilter(d derived) derived {
	if !d.exact {
		return unknown()
	}
	switch {
	case isAll(d.f):
		return exactly(noneFilter())
	case isNone(d.f):
		return exactly(allFilter())
	case d.f.Op == FilterNot:
		return exactly(d.f.Children[0])
	}
	return exactly(&Filter{Op: FilterNot, Children: []*Filter{d.f}})
}

// derive is the filter of a condition at the pass time now.
func derive(c *Cond, now time.Time) derived {
	switch c.Kind {
	case CondTrue:
		return constBool(true)
	case CondFalse:
		return constBool(false)
	case CondAnd:
		ds := make([]derived, len(c.Children))
		for i, ch := range c.Children {
			ds[i] = derive(ch, now)
		}
		return andFilter(ds...)
	case CondOr:
		ds := make([]derived, len(c.Children))
		for i, ch := range c.Children {
			ds[i] = derive(ch, now)
		}
		return orDerived(ds...)
	case CondNot:
		if len(c.Children) == 1 {
			return notFilter(derive(c.Children[0], now))
		}
	case CondAtom:
		return deriveAtom(&c.Atom, now)
	}
	return unknown()
}

// deriveAtom is the filter of one atom: flags, size and dates map to FLAG,
// LARGER/SMALLER and BEFORE/SINCE; string tests on header fields to HEADER.
func deriveAtom(a *Atom, now time.Time) derived {
	switch a.Field {
	case FieldFlag:
		f, ok := flagFilter(a.Name)
		switch {
		case !ok:
			return unknown()
		case a.Op == OpHas && strings.HasPrefix(f.Flag, `\`):
			// Flags are compared ignoring case, as IMAP does for system
			// flags; keywords might be compared case-sensitively by some
			// servers, so only the system flags are exact (and may be
			// negated).
			return exactly(f)
		case a.Op == OpHas || a.Op == OpIn:
			// "\\Seen" in flags is exact string membership; the server may
			// spell a flag in another case, so this is only a superset.
			return superset(f)
		}
		return unknown()
	case FieldHeader, FieldListID, FieldMessageID:
		return headerTest(a)
	}
	v, ok := a.Value.At(now)
	if !ok {
		return unknown()
	}
	switch a.Field {
	case FieldSize:
		return sizeCompare(a.Op, v)
	case FieldAge:
		dur, ok := v.(time.Duration)
		if !ok {
			return unknown()
		}
		ref := now
		if a.From != nil {
			r, _ := a.From.At(now)
			if ref, ok = r.(time.Time); !ok {
				return unknown()
			}
		}
		return ageCompare(a.Op, ref, dur)
	case FieldInternalDate:
		t, ok := v.(time.Time)
		if !ok {
			return unknown()
		}
		return dateCompare(a.Op, t)
	case FieldUnixTime:
		secs, ok := toFloat(v)
		if !ok || math.Abs(secs) > 1e15 {
			return unknown()
		}
		return dateCompare(a.Op, time.Unix(int64(math.Floor(secs)), 0))
	case FieldYear:
		return yearCompare(a.Op, v)
	}
	return unknown()
}

// headerTest is the filter of a string test on a header field. listId is
// the id inside List-Id's <...>, lower-cased, and messageId the id of
// Message-Id: substrings of their fields.
func headerTest(a *Atom) derived {
	field := a.Name
	switch a.Field {
	case FieldListID:
		field = "List-Id"
	case FieldMessageID:
		field = "Message-Id"
	default:
		if !searchableField(field) {
			return unknown()
		}
		field = strings.TrimSpace(field)
	}
	if a.Op == OpHas {
		return superset(&Filter{Op: FilterHeader, Header: field})
	}
	s, ok := a.Value.Value.(string)
	if !ok || a.Value.fold != nil {
		return unknown()
	}
	switch a.Op {
	case OpContains, OpStartsWith, OpEndsWith, OpIContains, OpIEquals:
		if s == "" {
			return unknown()
		}
	case OpGlob:
		// Any literal run between wildcards is a substring of a match.
		s = longestRun(strings.FieldsFunc(s, func(r rune) bool { return r == '*' || r == '?' }))
		if s == "" {
			return unknown()
		}
	case OpEq:
		if s == "" {
			return unknown()
		}
	case OpNe:
		if s != "" {
			return unknown()
		}
		// A non-empty value needs the field.
		return superset(&Filter{Op: FilterHeader, Header: field})
	default:
		return unknown()
	}
	return headerContains(field, s)
}

// searchableField reports whether name can go into a HEADER search key: a
// field name (RFC 5322 section 3.6.8, printable ASCII without colon), here
// also without quotes and backslashes.
func searchableField(name string) bool {
	return message.ValidFieldName(name) && !strings.ContainsAny(name, `:"\`)
}

// headerContains is the filter for "the decoded field contains s". IMAP
// HEADER is a case-insensitive substring match on the field (RFC 3501
// section 6.4.4), so it is a superset, provided the string survives the
// trip: the rule sees the field unfolded and RFC 2047-decoded, and a
// SEARCH string without CHARSET is US-ASCII. Only the longest run of
// printable ASCII without white space, quotes or backslashes is pushed
// down: a fold (CRLF before white space) cannot split it.
func headerContains(field string, s string) derived {
	run := longestRun(strings.FieldsFunc(s, func(r rune) bool { return !plainHeaderRune(r) }))
	if run == "" || (run != s && len(run) < minHeaderRun) {
		return unknown()
	}
	return superset(&Filter{Op: FilterHeader, Header: field, Value: run})
}

// minHeaderRun is the shortest part of a longer string worth a HEADER
// search: shorter ones narrow too little to pay for the server's work.
const minHeaderRun = 3

func plainHeaderRune(r rune) bool {
	return r > ' ' && r < 0x7f && r != '"' && r != '\\'
}

func longestRun(parts []string) string {
	best := ""
	for _, p := range parts {
		if len(p) > len(best) {
			best = p
		}
	}
	return best
}

// flagFilter is FLAG for a flag name: system flags in canonical case,
// keywords as written. \Recent (session-dependent) and malformed names are
// not pushed down.
func flagFilter(s string) (*Filter, bool) {
	if s == "" {
		return nil, false
	}
	if strings.HasPrefix(s, `\`) {
		for _, sys := range []string{`\Seen`, `\Answered`, `\Flagged`, `\Draft`, `\Deleted`} {
			if strings.EqualFold(s, sys) {
				return &Filter{Op: FilterFlag, Flag: sys}, true
			}
		}
		return nil, false
	}
	for _, r := range s {
		// A keyword is an atom (RFC 3501 section 9, flag-keyword).
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"\]`, r) {
			return nil, false
		}
	}
	return &Filter{Op: FilterFlag, Flag: s}, true
}

// sizeCompare derives size OP c. RFC822.SIZE is what both the rule and the
// server compare, so the result is exact.
func sizeCompare(op Op, c any) derived {
	x, ok := toFloat(c)
	if !ok || math.IsNaN(x) || math.Abs(x) > math.MaxUint32 {
		return unknown()
	}
	// larger(n): size > n; smaller(n): size < n, for integer n.
	larger := func(n float64) derived {
		if n < 0 {
			return constBool(true)
		}
		return exactly(&Filter{Op: FilterLarger, Size: int64(n)})
	}
	smaller := func(n float64) derived {
		if n <= 0 {
			return constBool(false)
		}
		return exactly(&Filter{Op: FilterSmaller, Size: int64(n)})
	}
	eq := func() derived {
		if x != math.Floor(x) {
			return constBool(false)
		}
		return andFilter(larger(x-1), smaller(x+1))
	}
	switch op {
	case OpGt:
		return larger(math.Floor(x))
	case OpGe:
		return larger(math.Ceil(x) - 1)
	case OpLt:
		return smaller(math.Ceil(x))
	case OpLe:
		return smaller(math.Floor(x) + 1)
	case OpEq:
		return eq()
	case OpNe:
		return notFilter(eq())
	}
	return unknown()
}

// ageCompare derives (ref - internalDate) OP dur.
func ageCompare(op Op, ref time.Time, dur time.Duration) derived {
	t := ref.Add(-dur)
	switch op {
	case OpGt, OpGe: // internalDate before t
		return dateCompare(OpLt, t)
	case OpLt, OpLe: // internalDate after t
		return dateCompare(OpGt, t)
	case OpEq:
		return dateCompare(OpEq, t)
	}
	return unknown()
}

// dateCompare derives internalDate OP t, as BEFORE/SINCE with margins.
func dateCompare(op Op, t time.Time) derived {
	switch op {
	case OpLt, OpLe:
		return beforeDay(t, dateMarginDays)
	case OpGt, OpGe:
		return sinceDay(t, -dateMarginDays)
	case OpEq:
		return andFilter(sinceDay(t, -dateMarginDays), beforeDay(t, dateMarginDays))
	}
	return unknown()
}

// beforeDay is BEFORE the UTC day of t moved by days.
func beforeDay(t time.Time, days int) derived {
	day, ok := utcDay(t, days)
	if !ok {
		return unknown()
	}
	return superset(&Filter{Op: FilterBefore, Date: day})
}

// sinceDay is SINCE the UTC day of t moved by days.
func sinceDay(t time.Time, days int) derived {
	day, ok := utcDay(t, days)
	if !ok {
		return unknown()
	}
	return superset(&Filter{Op: FilterSince, Date: day})
}

// utcDay is midnight UTC of t's UTC date plus days. Dates outside
// 1971-9998 are refused: IMAP dates have four-digit years and servers
// handle dates before the Unix epoch poorly.
func utcDay(t time.Time, days int) (time.Time, bool) {
	u := t.UTC()
	day := time.Date(u.Year(), u.Month(), u.Day()+days, 0, 0, 0, 0, time.UTC)
	if day.Year() < 1971 || day.Year() > 9998 {
		return time.Time{}, false
	}
	return day, true
}

// yearCompare derives internalDate.Year() OP c. Year() is read in the
// date's own zone, which the margins cover.
func yearCompare(op Op, c any) derived {
	x, ok := toFloat(c)
	if !ok || x < 1 || x > 9999 {
		return unknown()
	}
	start := func(y float64) time.Time { return time.Date(int(y), time.January, 1, 0, 0, 0, 0, time.UTC) }
	switch op {
	case OpLt: // before Jan 1 of ceil(x)
		return beforeDay(start(math.Ceil(x)), dateMarginDays)
	case OpLe:
		return beforeDay(start(math.Floor(x)+1), dateMarginDays)
	case OpGt:
		return sinceDay(start(math.Floor(x)+1), -dateMarginDays)
	case OpGe:
		return sinceDay(start(math.Ceil(x)), -dateMarginDays)
	case OpEq:
		if x != math.Floor(x) {
			return constBool(false)
		}
		return andFilter(sinceDay(start(x), -dateMarginDays), beforeDay(start(x+1), dateMarginDays))
	}
	return unknown()
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
