package tomlpos

import (
	"strconv"
	"strings"
)

// scanner walks the document structure, recording entries.
type scanner struct {
	ix    *Index
	s     string
	i     int
	table string // label of the current table ("" for the root)
}

func (sc *scanner) document() {
	for sc.i < len(sc.s) {
		sc.skipSpaceNewlines()
		if sc.i >= len(sc.s) {
			return
		}
		switch sc.s[sc.i] {
		case '[':
			sc.header()
		default:
			sc.keyValue(sc.table)
		}
		sc.skipToLineEnd()
	}
}

// header reads [a.b] or [[a.b]].
func (sc *scanner) header() {
	start := sc.i
	array := strings.HasPrefix(sc.s[sc.i:], "[[")
	if array {
		sc.i += 2
	} else {
		sc.i++
	}
	parts := sc.keyParts()
	label := ""
	for k, p := range parts {
		if label != "" {
			label += "."
		}
		label += p
		last := k == len(parts)-1
		if last && array {
			n := sc.ix.arrays[label]
			sc.ix.arrays[label] = n + 1
			label += "[" + strconv.Itoa(n) + "]"
		} else if n, ok := sc.ix.arrays[label]; ok && n > 0 {
			label += "[" + strconv.Itoa(n-1) + "]"
		}
	}
	sc.table = label
	sc.ix.entries[label] = &entry{key: start}
	if j := strings.IndexByte(sc.s[sc.i:], ']'); j >= 0 {
		sc.i += j + 1
	}
	if array && sc.i < len(sc.s) && sc.s[sc.i] == ']' {
		sc.i++
	}
}

// keyValue reads key = value inside the table with the prefix label.
func (sc *scanner) keyValue(prefix string) {
	keyStart := sc.i
	parts := sc.keyParts()
	if len(parts) == 0 {
		sc.skipToLineEnd()
		return
	}
	label := prefix
	for _, p := range parts {
		if label != "" {
			label += "."
		}
		label += p
	}
	sc.skipSpace()
	if sc.i < len(sc.s) && sc.s[sc.i] == '=' {
		sc.i++
	}
	sc.skipSpace()
	e := &entry{key: keyStart}
	sc.ix.entries[label] = e
	sc.value(label, e)
}

// value reads one value; strings and scalars become e.value, arrays fill
// e.elems, inline tables add entries under label.
func (sc *scanner) value(label string, e *entry) {
	if sc.i >= len(sc.s) {
		return
	}
	start := sc.i
	switch sc.s[sc.i] {
	case '"', '\'':
		sc.stringToken()
		e.value = token{off: start, raw: sc.s[start:sc.i]}
	case '[':
		sc.i++
		n := 0
		for sc.i < len(sc.s) {
			sc.skipSpaceNewlinesComments()
			if sc.i >= len(sc.s) || sc.s[sc.i] == ']' {
				sc.i++
				return
			}
			if sc.s[sc.i] == ',' {
				sc.i++
				continue
			}
			elem := &entry{key: sc.i}
			elemLabel := label + "[" + strconv.Itoa(n) + "]"
			sc.value(elemLabel, elem)
			if elem.value.raw == "" {
				elem.value = token{off: elem.key}
			}
			e.elems = append(e.elems, elem.value)
			n++
		}
	case '{':
		sc.i++
		for sc.i < len(sc.s) {
			sc.skipSpaceNewlinesComments()
			if sc.i >= len(sc.s) {
				return
			}
			switch sc.s[sc.i] {
			case '}':
				sc.i++
				return
			case ',':
				sc.i++
				continue
			}
			before := sc.i
			sc.keyValue(label)
			if sc.i == before {
				sc.i++ // never loop on a character the scanner does not expect
			}
		}
	default:
		for sc.i < len(sc.s) && strings.IndexByte(",]}#\r\n", sc.s[sc.i]) < 0 {
			sc.i++
		}
		e.value = token{off: start, raw: strings.TrimRight(sc.s[start:sc.i], " \t")}
	}
}

// stringToken skips one string token of any of the four kinds.
func (sc *scanner) stringToken() {
	q := sc.s[sc.i]
	if strings.HasPrefix(sc.s[sc.i:], string([]byte{q, q, q})) {
		delim := string([]byte{q, q, q})
		sc.i += 3
		for sc.i < len(sc.s) {
			if q == '"' && sc.s[sc.i] == '\\' {
				sc.i += 2
				continue
			}
			if strings.HasPrefix(sc.s[sc.i:], delim) {
				sc.i += 3
				// Up to two more quotes belong to the content (TOML 1.0).
				for k := 0; k < 2 && sc.i < len(sc.s) && sc.s[sc.i] == q; k++ {
					sc.i++
				}
				return
			}
			sc.i++
		}
		return
	}
	sc.i++
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		if q == '"' && c == '\\' {
			sc.i += 2
			continue
		}
		sc.i++
		if c == q || c == '\n' {
			return
		}
	}
}

// keyParts reads a possibly dotted, possibly quoted key.
func (sc *scanner) keyParts() []string {
	var parts []string
	for {
		sc.skipSpace()
		if sc.i >= len(sc.s) {
			return parts
		}
		c := sc.s[sc.i]
		switch {
		case c == '"' || c == '\'':
			start := sc.i
			sc.stringToken()
			raw := sc.s[start:sc.i]
			parts = append(parts, unquoteKey(raw))
		case isBareKeyChar(c):
			start := sc.i
			for sc.i < len(sc.s) && isBareKeyChar(sc.s[sc.i]) {
				sc.i++
			}
			parts = append(parts, sc.s[start:sc.i])
		default:
			return parts
		}
		sc.skipSpace()
		if sc.i < len(sc.s) && sc.s[sc.i] == '.' {
			sc.i++
			continue
		}
		return parts
	}
}

func unquoteKey(raw string) string {
	if len(raw) < 2 {
		return raw
	}
	inner := raw[1 : len(raw)-1]
	if raw[0] == '\'' || !strings.Contains(inner, `\`) {
		return inner
	}
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' && i+1 < len(inner) {
			i++
			switch inner[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'u', 'U':
				n := 4
				if inner[i] == 'U' {
					n = 8
				}
				b.WriteRune(hexRune(inner, i+1, n))
				i += n
			default:
				b.WriteByte(inner[i])
			}
			continue
		}
		b.WriteByte(inner[i])
	}
	return b.String()
}

func isBareKeyChar(c byte) bool {
	return c == '_' || c == '-' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func (sc *scanner) skipSpace() {
	for sc.i < len(sc.s) && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t') {
		sc.i++
	}
}

func (sc *scanner) skipSpaceNewlines() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r', '\n':
			sc.i++
		case '#':
			sc.skipToLineEnd()
		default:
			return
		}
	}
}

func (sc *scanner) skipSpaceNewlinesComments() { sc.skipSpaceNewlines() }

// skipToLineEnd moves past the rest of the line (a comment, or nothing).
func (sc *scanner) skipToLineEnd() {
	if j := strings.IndexByte(sc.s[sc.i:], '\n'); j >= 0 {
		sc.i += j + 1
	} else {
		sc.i = len(sc.s)
	}
}
