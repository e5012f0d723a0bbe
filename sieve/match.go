package sieve

import (
	"regexp"
	"strconv"
	"strings"
)

// Comparators (RFC 4790 section 9; RFC 5228 section 2.7.3) and match types
// (RFC 5228 section 2.7.1, RFC 5231, draft-ietf-sieve-regex).

// asciiLower lower-cases ASCII letters only, as i;ascii-casemap does.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// fold prepares a string for comparison under comparator. It keeps byte
// offsets, so positions found in the result hold for the original.
func fold(comparator, s string) string {
	if comparator == "i;ascii-casemap" {
		return asciiLower(s)
	}
	return s
}

// numericValue reads the leading digits of s for i;ascii-numeric
// (RFC 4790 section 9.1.1); inf is true when s has none (positive infinity).
func numericValue(s string) (digits string, inf bool) {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return "", true
	}
	d := strings.TrimLeft(s[:n], "0")
	return d, false
}

// compare orders a and b under the comparator: -1, 0 or 1.
func compare(comparator, a, b string) int {
	if comparator == "i;ascii-numeric" {
		da, ia := numericValue(a)
		db, ib := numericValue(b)
		switch {
		case ia && ib:
			return 0
		case ia:
			return 1
		case ib:
			return -1
		case len(da) != len(db):
			if len(da) < len(db) {
				return -1
			}
			return 1
		}
		return strings.Compare(da, db)
	}
	return strings.Compare(fold(comparator, a), fold(comparator, b))
}

// relation applies a relational operator (RFC 5231 section 4) to the
// ordering of value against key.
func relation(op string, cmp int) bool {
	switch op {
	case "gt":
		return cmp > 0
	case "ge":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "le":
		return cmp <= 0
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	}
	return false
}

// matchOne matches one value against one key. For :matches and :regex it
// returns the match variables (${0} the whole value, then one per wildcard
// or group) when the match succeeds.
func matchOne(n *node, comparator, value, key string, re *regexp.Regexp) (bool, []string, error) {
	switch n.match {
	case "is":
		if comparator == "i;ascii-numeric" {
			return compare(comparator, value, key) == 0, nil, nil
		}
		return fold(comparator, value) == fold(comparator, key), nil, nil
	case "contains":
		return strings.Contains(fold(comparator, value), fold(comparator, key)), nil, nil
	case "value":
		return relation(n.relation, compare(comparator, value, key)), nil, nil
	case "matches":
		caps, ok := globMatch(fold(comparator, key), fold(comparator, value), value)
		return ok, caps, nil
	case "regex":
		if re == nil {
			var err error
			if re, err = compileRegex(key, comparator); err != nil {
				return false, nil, err
			}
		}
		idx := re.FindStringSubmatchIndex(value)
		if idx == nil {
			return false, nil, nil
		}
		caps := make([]string, len(idx)/2)
		for i := range caps {
			if idx[2*i] >= 0 {
				caps[i] = value[idx[2*i]:idx[2*i+1]]
			}
		}
		return true, caps, nil
	}
	return false, nil, nil
}

// compileRegex compiles a POSIX extended regular expression
// (draft-ietf-sieve-regex section 3) with leftmost-longest semantics;
// i;ascii-casemap makes it case-insensitive, as Pigeonhole does.
func compileRegex(expr, comparator string) (*regexp.Regexp, error) {
	src := expr
	if comparator == "i;ascii-casemap" {
		src = "(?i)" + expr
	}
	re, err := regexp.Compile(src)
	if err != nil {
		if _, plain := regexp.Compile(expr); plain != nil {
			return nil, plain // the message quotes the expression as written
		}
		return nil, err
	}
	re.Longest()
	return re, nil
}

// globMatch matches a :matches pattern ("*" any run, "?" one character,
// "\" quotes the next; RFC 5228 section 2.7.1) against folded, returning
// the match variables taken from orig (same byte offsets): ${0} is the
// whole value, then each wildcard's part in order. Earlier "*" take as
// little as they can, so that the last one takes the rest.
func globMatch(pattern, folded, orig string) ([]string, bool) {
	type piece struct {
		wild byte // '*', '?' or 0 for literal text
		text string
	}
	var pieces []piece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			pieces = append(pieces, piece{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*', '?':
			flush()
			pieces = append(pieces, piece{wild: c})
		case '\\':
			if i+1 < len(pattern) {
				i++
				lit.WriteByte(pattern[i])
			}
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	var spans [][2]int
	// failed holds (piece, position) pairs known not to match, which keeps
	// patterns with many stars linear; one star cannot backtrack.
	var failed map[[2]int]bool
	stars := strings.Count(pattern, "*")
	var try, attempt func(pi, pos int) bool
	try = func(pi, pos int) bool {
		if stars < 2 {
			return attempt(pi, pos)
		}
		if failed[[2]int{pi, pos}] {
			return false
		}
		if attempt(pi, pos) {
			return true
		}
		if failed == nil {
			failed = map[[2]int]bool{}
		}
		failed[[2]int{pi, pos}] = true
		return false
	}
	attempt = func(pi, pos int) bool {
		if pi == len(pieces) {
			return pos == len(folded)
		}
		p := pieces[pi]
		switch p.wild {
		case 0:
			if !strings.HasPrefix(folded[pos:], p.text) {
				return false
			}
			return try(pi+1, pos+len(p.text))
		case '?':
			if pos >= len(folded) {
				return false
			}
			size := runeLen(folded[pos:])
			spans = append(spans, [2]int{pos, pos + size})
			if try(pi+1, pos+size) {
				return true
			}
			spans = spans[:len(spans)-1]
			return false
		}
		// '*': shortest first, so that later wildcards get the rest.
		for end := pos; end <= len(folded); end++ {
			if end > pos && end < len(folded) && folded[end]&0xC0 == 0x80 {
				continue
			}
			if pi+1 < len(pieces) && pieces[pi+1].wild == 0 && !strings.HasPrefix(folded[end:], pieces[pi+1].text) {
				continue
			}
			spans = append(spans, [2]int{pos, end})
			if try(pi+1, end) {
				return true
			}
			spans = spans[:len(spans)-1]
		}
		return false
	}
	if !try(0, 0) {
		return nil, false
	}
	caps := make([]string, 0, len(spans)+1)
	caps = append(caps, orig)
	for _, s := range spans {
		caps = append(caps, orig[s[0]:s[1]])
	}
	return caps, true
}

// runeLen is the byte length of the first UTF-8 character of s (1 for an
// invalid byte).
func runeLen(s string) int {
	for i := 1; i < len(s) && i < 4; i++ {
		if s[i]&0xC0 != 0x80 {
			return i
		}
	}
	if len(s) < 4 {
		return len(s)
	}
	return 4
}

// countMatch implements :count (RFC 5231 section 4.2): the number of
// values, compared with each key.
func countMatch(n *node, count int, keys []string) bool {
	c := strconv.Itoa(count)
	for _, k := range keys {
		if relation(n.relation, compare(n.comparator, c, k)) {
			return true
		}
	}
	return false
}
