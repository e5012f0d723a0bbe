package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"

	"github.com/mailrules/mailrules/message"
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
// A match-nothing filter is written as NOT of FilterAll.
type Filter struct {
	Op            FilterOp
	Children      []*Filter // operands of FilterAnd and FilterOr, the one operand of FilterNot
	Date          time.Time // FilterBefore, FilterSince
	Flag          string    // FilterFlag: a system flag in canonical case (\Seen) or a keyword
	Size          int64     // FilterLarger, FilterSmaller
	Header, Value string    // FilterHeader: field name and plain ASCII substring ("" means the field exists)
}

// String formats the filter for logs and tests, e.g.
// (AND (BEFORE 2025-01-01) (NOT (FLAG \Flagged))).
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

// SweepFilter returns the prefilter for the set's scope = "all" rules,
// evaluated at now (the pass time, as given to Evaluate): the OR of each
// such rule's filter. It is nil when no rule in the set has scope "all". A
// Filter with Op FilterAll means the conditions cannot be narrowed.
//
// Scope "new" rules are left out: they never see messages that are not new,
// and new messages are fetched anyway.
func (s *Set) SweepFilter(now time.Time) *Filter {
	if !s.hasAll {
		return nil
	}
	var parts []*Filter
	d := &deriver{now: now}
	for _, r := range s.rules {
		if !r.scopeAll {
			continue
		}
		if r.when == nil {
			parts = append(parts, allFilter())
			continue
		}
		parts = append(parts, d.derive(r.when.Node()).f)
	}
	return orFilter(parts...).f
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
func noneFilter() *Filter { return &Filter{Op: FilterNot, Children: []*Filter{allFilter()}} }

func isAll(f *Filter) bool { return f.Op == FilterAll }
func isNone(f *Filter) bool {
	return f.Op == FilterNot && len(f.Children) == 1 && f.Children[0].Op == FilterAll
}

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

// orFilter is the disjunction; it is All as soon as one part is.
func orFilter(fs ...*Filter) derived {
	ds := make([]derived, len(fs))
	for i, f := range fs {
		ds[i] = superset(f)
	}
	d := orDerived(ds...)
	d.exact = false
	return d
}

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

// deriver walks a compiled (patched) condition: message values appear as
// calls $name($env), helpers reading the message get $env as their first
// argument.
type deriver struct {
	now time.Time
	// pure holds the helpers that do not read the message (days, kb...),
	// by name, filled on first use.
	pure map[string]func(*evalEnv, []any) (any, error)
}

func (d *deriver) derive(n ast.Node) derived {
	if v, ok := d.constant(n); ok {
		if b, ok := v.(bool); ok {
			return constBool(b)
		}
		return unknown()
	}
	switch n := n.(type) {
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return notFilter(d.derive(n.Node))
		}
	case *ast.BinaryNode:
		return d.binary(n)
	case *ast.ConditionalNode:
		// cond ? a : b is true only where (cond and a) or (not cond and b).
		c := d.derive(n.Cond)
		then := andFilter(c, d.derive(n.Exp1))
		els := andFilter(notFilter(c), d.derive(n.Exp2))
		return orDerived(then, els)
	case *ast.CallNode:
		return d.call(n)
	case *ast.VariableDeclaratorNode:
		// Names bound by let are unknown to operand(), so they derive to All.
		return d.derive(n.Expr)
	case *ast.SequenceNode:
		if len(n.Nodes) > 0 {
			return d.derive(n.Nodes[len(n.Nodes)-1])
		}
	}
	return unknown()
}

func (d *deriver) binary(n *ast.BinaryNode) derived {
	switch n.Operator {
	case "&&", "and":
		return andFilter(d.derive(n.Left), d.derive(n.Right))
	case "||", "or":
		return orDerived(d.derive(n.Left), d.derive(n.Right))
	case "==", "!=", "<", "<=", ">", ">=":
		return d.compare(n.Operator, n.Left, n.Right)
	case "contains", "startsWith", "endsWith":
		src, ok := d.headerSource(n.Left)
		if !ok {
			return unknown()
		}
		lit, ok := d.constant(n.Right)
		if !ok {
			return unknown()
		}
		s, ok := lit.(string)
		if !ok || s == "" {
			return unknown()
		}
		return headerContains(src, s)
	case "in":
		// "\\Seen" in flags: exact string membership; the server may spell a
		// flag in another case, so this is only a superset.
		if !d.isVar(n.Right, "flags") {
			return unknown()
		}
		lit, ok := d.constant(n.Left)
		if !ok {
			return unknown()
		}
		if s, ok := lit.(string); ok {
			if f, ok := flagFilter(s); ok {
				return superset(f)
			}
		}
	}
	return unknown()
}

// flipOp mirrors a comparison so that the message value is on the left.
func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

func (d *deriver) compare(op string, left, right ast.Node) derived {
	c, ok := d.constant(right)
	msgSide := left
	if !ok {
		if c, ok = d.constant(left); !ok {
			return unknown()
		}
		msgSide, op = right, flipOp(op)
	}
	// Boolean tests: flagged == false, seen != true.
	if b, isBool := c.(bool); isBool {
		if op != "==" && op != "!=" {
			return unknown()
		}
		sub := d.derive(msgSide)
		if b == (op == "==") {
			return sub
		}
		return notFilter(sub)
	}
	if src, ok := d.headerSource(msgSide); ok {
		s, ok := c.(string)
		if !ok {
			return unknown()
		}
		switch {
		case op == "==" && s != "":
			return headerContains(src, s)
		case op == "!=" && s == "":
			// A non-empty value needs the field.
			return superset(&Filter{Op: FilterHeader, Header: src.field})
		}
		return unknown()
	}
	switch {
	case d.isVar(msgSide, "size"):
		return sizeCompare(op, c)
	case d.isVar(msgSide, "age"):
		dur, ok := c.(time.Duration)
		if !ok {
			return unknown()
		}
		return d.ageCompare(op, d.now, dur)
	case d.isVar(msgSide, "internalDate"):
		t, ok := c.(time.Time)
		if !ok {
			return unknown()
		}
		return dateCompare(op, t)
	}
	if recv, method, args, ok := d.methodCall(msgSide); ok && len(args) == 0 && d.isVar(recv, "internalDate") {
		switch method {
		case "Unix":
			secs, ok := toFloat(c)
			if !ok || math.Abs(secs) > 1e15 {
				return unknown()
			}
			return dateCompare(op, time.Unix(int64(math.Floor(secs)), 0))
		case "Year":
			return yearCompare(op, c)
		}
		return unknown()
	}
	// c.Sub(internalDate) compared with a duration is an age measured from c.
	if recv, method, args, ok := d.methodCall(msgSide); ok && method == "Sub" && len(args) == 1 && d.isVar(args[0], "internalDate") {
		ref, okRef := d.constant(recv)
		t, okT := ref.(time.Time)
		dur, okD := c.(time.Duration)
		if okRef && okT && okD {
			return d.ageCompare(op, t, dur)
		}
	}
	return unknown()
}

func (d *deriver) call(n *ast.CallNode) derived {
	if recv, method, args, ok := d.methodCall(n); ok {
		// internalDate.Before(t), internalDate.After(t), internalDate.Equal(t)
		// and the same with the constant as receiver.
		ops := map[string]string{"Before": "<", "After": ">", "Equal": "=="}
		op, known := ops[method]
		if !known || len(args) != 1 {
			return unknown()
		}
		var c any
		var isConst bool
		switch {
		case d.isVar(recv, "internalDate"):
			c, isConst = d.constant(args[0])
		case d.isVar(args[0], "internalDate"):
			c, isConst = d.constant(recv)
			op = flipOp(op)
		}
		if t, ok := c.(time.Time); isConst && ok {
			return dateCompare(op, t)
		}
		return unknown()
	}
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return unknown()
	}
	switch id.Value {
	case "$seen":
		return exactly(&Filter{Op: FilterFlag, Flag: `\Seen`})
	case "$answered":
		return exactly(&Filter{Op: FilterFlag, Flag: `\Answered`})
	case "$flagged":
		return exactly(&Filter{Op: FilterFlag, Flag: `\Flagged`})
	case "$draft":
		return exactly(&Filter{Op: FilterFlag, Flag: `\Draft`})
	case "hasFlag":
		s, ok := d.constArg(n, 1)
		if !ok {
			return unknown()
		}
		f, ok := flagFilter(s)
		if !ok {
			return unknown()
		}
		// hasFlag ignores case, as IMAP does for system flags; keywords
		// might be compared case-sensitively by some servers, so only the
		// system flags are exact (and may be negated).
		if strings.HasPrefix(f.Flag, `\`) {
			return exactly(f)
		}
		return superset(f)
	case "hasHeader":
		name, ok := d.constArg(n, 1)
		if !ok || !searchableField(name) {
			return unknown()
		}
		return superset(&Filter{Op: FilterHeader, Header: strings.TrimSpace(name)})
	case "olderThan", "newerThan":
		s, ok := d.constArg(n, 1)
		if !ok {
			return unknown()
		}
		dur, err := parseAge(s)
		if err != nil {
			return unknown()
		}
		if id.Value == "olderThan" {
			return d.ageCompare(">", d.now, dur)
		}
		return d.ageCompare("<", d.now, dur)
	case "icontains", "iequals", "glob":
		if len(n.Arguments) != 2 {
			return unknown()
		}
		src, ok := d.headerSource(n.Arguments[0])
		if !ok {
			return unknown()
		}
		lit, ok := d.constant(n.Arguments[1])
		s, isStr := lit.(string)
		if !ok || !isStr || s == "" {
			return unknown()
		}
		if id.Value == "glob" {
			// Any literal run between wildcards is a substring of a match.
			s = longestRun(strings.FieldsFunc(s, func(r rune) bool { return r == '*' || r == '?' }))
			if s == "" {
				return unknown()
			}
		}
		return headerContains(src, s)
	}
	return unknown()
}

// constArg returns the constant string argument i of a call (0 is $env for
// helpers that read the message).
func (d *deriver) constArg(n *ast.CallNode, i int) (string, bool) {
	if len(n.Arguments) <= i {
		return "", false
	}
	v, ok := d.constant(n.Arguments[i])
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// isVar reports whether n reads the message variable name: the patcher made
// it $name($env).
func (d *deriver) isVar(n ast.Node, name string) bool {
	call, ok := n.(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 {
		return false
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != varFuncName(name) {
		return false
	}
	env, ok := call.Arguments[0].(*ast.IdentifierNode)
	return ok && env.Value == "$env"
}

// methodCall splits recv.Method(args...).
func (d *deriver) methodCall(n ast.Node) (recv ast.Node, method string, args []ast.Node, ok bool) {
	call, isCall := n.(*ast.CallNode)
	if !isCall {
		return nil, "", nil, false
	}
	m, isMember := call.Callee.(*ast.MemberNode)
	if !isMember || m.Optional {
		return nil, "", nil, false
	}
	name, isStr := m.Property.(*ast.StringNode)
	if !isStr {
		return nil, "", nil, false
	}
	return m.Node, name.Value, call.Arguments, true
}

// headerSource is a string value that is a substring of a decoded header
// field of the message (or the whole of it).
type headerSource struct {
	field string
}

func (d *deriver) headerSource(n ast.Node) (headerSource, bool) {
	switch {
	case d.isVar(n, "subject"):
		return headerSource{"Subject"}, true
	case d.isVar(n, "listId"):
		// The id inside <...>, lower-cased: a substring of the field.
		return headerSource{"List-Id"}, true
	case d.isVar(n, "messageId"):
		return headerSource{"Message-Id"}, true
	}
	call, ok := n.(*ast.CallNode)
	if !ok {
		return headerSource{}, false
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "header" {
		return headerSource{}, false
	}
	name, ok := d.constArg(call, 1)
	if !ok || !searchableField(name) {
		return headerSource{}, false
	}
	return headerSource{strings.TrimSpace(name)}, true
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
func headerContains(src headerSource, s string) derived {
	run := longestRun(strings.FieldsFunc(s, func(r rune) bool { return !plainHeaderRune(r) }))
	if run == "" || (run != s && len(run) < minHeaderRun) {
		return unknown()
	}
	return superset(&Filter{Op: FilterHeader, Header: src.field, Value: run})
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
func sizeCompare(op string, c any) derived {
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
	case ">":
		return larger(math.Floor(x))
	case ">=":
		return larger(math.Ceil(x) - 1)
	case "<":
		return smaller(math.Ceil(x))
	case "<=":
		return smaller(math.Floor(x) + 1)
	case "==":
		return eq()
	case "!=":
		return notFilter(eq())
	}
	return unknown()
}

// ageCompare derives (ref - internalDate) OP dur.
func (d *deriver) ageCompare(op string, ref time.Time, dur time.Duration) derived {
	t := ref.Add(-dur)
	switch op {
	case ">", ">=": // internalDate before t
		return dateCompare("<", t)
	case "<", "<=": // internalDate after t
		return dateCompare(">", t)
	case "==":
		return dateCompare("==", t)
	}
	return unknown()
}

// dateCompare derives internalDate OP t, as BEFORE/SINCE with margins.
func dateCompare(op string, t time.Time) derived {
	switch op {
	case "<", "<=":
		return beforeDay(t, dateMarginDays)
	case ">", ">=":
		return sinceDay(t, -dateMarginDays)
	case "==":
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
func yearCompare(op string, c any) derived {
	x, ok := toFloat(c)
	if !ok || x < 1 || x > 9999 {
		return unknown()
	}
	start := func(y float64) time.Time { return time.Date(int(y), time.January, 1, 0, 0, 0, 0, time.UTC) }
	switch op {
	case "<": // before Jan 1 of ceil(x)
		return beforeDay(start(math.Ceil(x)), dateMarginDays)
	case "<=":
		return beforeDay(start(math.Floor(x)+1), dateMarginDays)
	case ">":
		return sinceDay(start(math.Floor(x)+1), -dateMarginDays)
	case ">=":
		return sinceDay(start(math.Ceil(x)), -dateMarginDays)
	case "==":
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

// constant folds n when it does not depend on the message: literals, now,
// the pure helpers (days, kb...) and builtins (duration, date) with constant
// arguments, arithmetic on those, and Add/AddDate on a constant time. The
// helpers and builtins are run themselves, so the values are the ones the
// rule would see.
func (d *deriver) constant(n ast.Node) (any, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return n.Value, true
	case *ast.FloatNode:
		return n.Value, true
	case *ast.StringNode:
		return n.Value, true
	case *ast.BoolNode:
		return n.Value, true
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case int, int64, float64, string, bool, time.Duration, time.Time:
			return v, true
		}
		return nil, false
	case *ast.UnaryNode:
		v, ok := d.constant(n.Node)
		if !ok {
			return nil, false
		}
		switch n.Operator {
		case "-":
			switch x := v.(type) {
			case int:
				return -x, true
			case float64:
				return -x, true
			}
		case "+":
			return v, true
		case "!", "not":
			if b, ok := v.(bool); ok {
				return !b, true
			}
		}
		return nil, false
	case *ast.BinaryNode:
		return d.constBinary(n)
	case *ast.CallNode:
		if d.isVar(n, "now") {
			return d.now, true
		}
		if recv, method, args, ok := d.methodCall(n); ok {
			return d.constMethod(recv, method, args)
		}
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return nil, false
		}
		if d.pure == nil {
			d.pure = map[string]func(*evalEnv, []any) (any, error){}
			for _, f := range functions() {
				if !f.withEnv {
					d.pure[f.name] = f.fn
				}
			}
		}
		fn, ok := d.pure[id.Value]
		if !ok {
			return nil, false
		}
		args, ok := d.constants(n.Arguments)
		if !ok {
			return nil, false
		}
		v, err := fn(nil, args)
		return v, err == nil
	case *ast.BuiltinNode:
		if n.Name != "duration" && n.Name != "date" {
			return nil, false
		}
		args, ok := d.constants(n.Arguments)
		if !ok {
			return nil, false
		}
		for _, b := range builtin.Builtins {
			if b.Name == n.Name && b.Func != nil {
				v, err := b.Func(args...)
				return v, err == nil
			}
		}
	}
	return nil, false
}

func (d *deriver) constants(ns []ast.Node) ([]any, bool) {
	out := make([]any, len(ns))
	for i, a := range ns {
		v, ok := d.constant(a)
		if !ok {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

func (d *deriver) constMethod(recv ast.Node, method string, args []ast.Node) (any, bool) {
	r, ok := d.constant(recv)
	if !ok {
		return nil, false
	}
	t, ok := r.(time.Time)
	if !ok {
		return nil, false
	}
	vals, ok := d.constants(args)
	if !ok {
		return nil, false
	}
	switch {
	case method == "Add" && len(vals) == 1:
		if dur, ok := vals[0].(time.Duration); ok {
			return t.Add(dur), true
		}
	case method == "AddDate" && len(vals) == 3:
		y, ok1 := vals[0].(int)
		m, ok2 := vals[1].(int)
		dd, ok3 := vals[2].(int)
		if ok1 && ok2 && ok3 {
			return t.AddDate(y, m, dd), true
		}
	}
	return nil, false
}

// constBinary folds the arithmetic expr does on constants that matter for
// dates and sizes. Anything else is not folded.
func (d *deriver) constBinary(n *ast.BinaryNode) (any, bool) {
	l, ok := d.constant(n.Left)
	if !ok {
		return nil, false
	}
	r, ok := d.constant(n.Right)
	if !ok {
		return nil, false
	}
	switch a := l.(type) {
	case int:
		if b, ok := r.(int); ok {
			switch n.Operator {
			case "+":
				return a + b, true
			case "-":
				return a - b, true
			case "*":
				return a * b, true
			}
		}
	case time.Duration:
		if b, ok := r.(time.Duration); ok {
			switch n.Operator {
			case "+":
				return a + b, true
			case "-":
				return a - b, true
			}
		}
	case time.Time:
		if b, ok := r.(time.Duration); ok {
			switch n.Operator {
			case "+":
				return a.Add(b), true
			case "-":
				return a.Add(-b), true
			}
		}
	}
	return nil, false
}
