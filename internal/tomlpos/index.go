// Package tomlpos finds where the keys and values of a TOML document are,
// so that problems found after decoding can be reported as FILE:LINE:COL.
//
// [New] scans a document that github.com/BurntSushi/toml has already parsed,
// so it can assume valid syntax. Entries are labelled by their path with
// the element number after each array of tables: "rule[2].when",
// "account[0].password.env", "rule[2]" for the [[rule]] header itself.
// [Index.KeyPos] gives the position of a key (or of the nearest enclosing
// table that has one); [Index.ValuePos] the position of a character inside
// a value, following escapes and line-ending backslashes of TOML strings,
// and of an element of an array.
//
// Why not the toml package's own positions: BurntSushi/toml v1.6 records a
// position per key internally, but its MetaData exports none of them (only
// a ParseError carries one), it keys them by dotted path without the
// element number of an array of tables, so the second [[rule]]'s "when"
// shares an entry with the first, and it records neither where a value
// starts nor where an element of an array or a character inside a string
// is. The rule compiler needs all three to point at the column of an error
// inside a condition.
package tomlpos

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mailrules/mailrules/internal/diag"
)

// Index records where the keys and values of one TOML document are.
type Index struct {
	file       string
	src        string
	lineStarts []int
	entries    map[string]*entry
	arrays     map[string]int // array-of-tables label -> elements seen
}

type entry struct {
	key   int // byte offset of the key or header
	value token
	elems []token // array elements, in order
}

type token struct {
	off int    // byte offset of the token
	raw string // the token as written (strings with their quotes)
}

// New scans src, a TOML document the toml package has parsed without error,
// read from file (which positions carry as their File).
func New(file, src string) *Index {
	ix := &Index{file: file, src: src, entries: map[string]*entry{}, arrays: map[string]int{}}
	ix.lineStarts = append(ix.lineStarts, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			ix.lineStarts = append(ix.lineStarts, i+1)
		}
	}
	sc := &scanner{ix: ix, s: src}
	sc.document()
	return ix
}

// pos converts a byte offset into a position; columns count characters.
func (ix *Index) pos(off int) diag.Position {
	if off < 0 {
		return diag.Position{File: ix.file}
	}
	line := sort.Search(len(ix.lineStarts), func(i int) bool { return ix.lineStarts[i] > off }) - 1
	start := ix.lineStarts[line]
	if off > len(ix.src) {
		off = len(ix.src)
	}
	return diag.Position{File: ix.file, Line: line + 1, Col: utf8.RuneCountInString(ix.src[start:off]) + 1}
}

// KeyPos returns the position of the key with the label, or of the nearest
// enclosing table that has one, or just the file.
func (ix *Index) KeyPos(label string) diag.Position {
	for label != "" {
		if e, ok := ix.entries[label]; ok {
			return ix.pos(e.key)
		}
		i := strings.LastIndexAny(label, ".[")
		if i < 0 {
			break
		}
		label = label[:i]
	}
	return diag.Position{File: ix.file}
}

// ValuePos returns the position of the byte offset within the decoded value
// of the key with the label (element index of an array value).
func (ix *Index) ValuePos(label string, index, offset int) (diag.Position, bool) {
	e, ok := ix.entries[label]
	if !ok {
		return diag.Position{}, false
	}
	tok := e.value
	if len(e.elems) > 0 {
		if index < 0 || index >= len(e.elems) {
			return ix.pos(e.key), true
		}
		tok = e.elems[index]
	}
	if tok.raw == "" {
		return ix.pos(e.key), true
	}
	return ix.pos(tok.off + rawOffset(tok.raw, offset)), true
}

// rawOffset maps a byte offset in the decoded value of a TOML string token
// to a byte offset in the token, following escapes and the newline trimmed
// after an opening multi-line delimiter.
func rawOffset(raw string, offset int) int {
	var start int
	var basic bool
	switch {
	case strings.HasPrefix(raw, `"""`):
		start, basic = 3, true
	case strings.HasPrefix(raw, `'''`):
		start = 3
	case strings.HasPrefix(raw, `"`):
		start, basic = 1, true
	case strings.HasPrefix(raw, `'`):
		start = 1
	default:
		return 0
	}
	if start == 3 {
		if strings.HasPrefix(raw[3:], "\r\n") {
			start += 2
		} else if strings.HasPrefix(raw[3:], "\n") {
			start++
		}
	}
	if !basic {
		return min(start+offset, len(raw))
	}
	i, d := start, 0
	for i < len(raw) && d < offset {
		if raw[i] != '\\' || i+1 >= len(raw) {
			i++
			d++
			continue
		}
		switch raw[i+1] {
		case 'u':
			d += utf8.RuneLen(hexRune(raw, i+2, 4))
			i += 6
		case 'U':
			d += utf8.RuneLen(hexRune(raw, i+2, 8))
			i += 10
		case 'x':
			d += utf8.RuneLen(hexRune(raw, i+2, 2))
			i += 4
		case ' ', '\t', '\r', '\n':
			// Line-ending backslash: the following white space is dropped.
			i++
			for i < len(raw) && strings.IndexByte(" \t\r\n", raw[i]) >= 0 {
				i++
			}
		default:
			i += 2
			d++
		}
	}
	// A line-ending backslash right at the offset produces nothing: skip it.
	for i+1 < len(raw) && raw[i] == '\\' && strings.IndexByte(" \t\r\n", raw[i+1]) >= 0 {
		i++
		for i < len(raw) && strings.IndexByte(" \t\r\n", raw[i]) >= 0 {
			i++
		}
	}
	return min(i, len(raw))
}

func hexRune(s string, at, n int) rune {
	if at+n > len(s) {
		return utf8.RuneError
	}
	var r rune
	for _, c := range s[at : at+n] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | (c - '0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | (c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | (c - 'A' + 10)
		default:
			return utf8.RuneError
		}
	}
	if !utf8.ValidRune(r) {
		return utf8.RuneError
	}
	return r
}
