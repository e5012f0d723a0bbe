package sieve

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mailrules/mailrules/internal/diag"
)

// tokenKind is the kind of a lexical token (RFC 5228 section 8.1).
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokTag
	tokNumber
	tokString // quoted or multi-line; value decoded
	tokPunct  // one of [ ] ( ) { } , ;
)

type token struct {
	kind  tokenKind
	text  string // identifier, tag name, punctuation, decoded string
	num   int64
	pos   diag.Position
	multi bool // a text: string
}

// lexer splits a script into tokens. It records problems and goes on.
type lexer struct {
	file      string
	src       string
	off       int
	line, col int
	problems  *diag.Problems
}

func newLexer(file, src string, problems *diag.Problems) *lexer {
	return &lexer{file: file, src: src, line: 1, col: 1, problems: problems}
}

func (l *lexer) pos() diag.Position { return diag.Position{File: l.file, Line: l.line, Col: l.col} }

func (l *lexer) errorf(pos diag.Position, format string, args ...any) {
	*l.problems = append(*l.problems, diag.Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// advance moves over n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		c := l.src[l.off]
		l.off++
		switch {
		case c == '\n':
			l.line++
			l.col = 1
		case c&0xC0 != 0x80: // count runes, not continuation bytes
			l.col++
		}
	}
}

// skipSpace skips white space and comments (RFC 5228 section 2.3).
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case c == '#':
			end := strings.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				end = len(l.src) - l.off
			}
			l.advance(end)
		case strings.HasPrefix(l.src[l.off:], "/*"):
			start := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				l.errorf(start, "unterminated /* comment")
				l.advance(len(l.src) - l.off)
				return
			}
			l.advance(end + 4)
		default:
			return
		}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// next returns the next token.
func (l *lexer) next() token {
	for {
		l.skipSpace()
		if l.off >= len(l.src) {
			return token{kind: tokEOF, pos: l.pos()}
		}
		pos := l.pos()
		c := l.src[l.off]
		switch {
		case strings.IndexByte("[](){},;", c) >= 0:
			l.advance(1)
			return token{kind: tokPunct, text: string(c), pos: pos}
		case c == ':':
			l.advance(1)
			n := l.identLen()
			if n == 0 {
				l.errorf(pos, "':' must be followed by a tag name")
				continue
			}
			name := strings.ToLower(l.src[l.off : l.off+n])
			l.advance(n)
			return token{kind: tokTag, text: name, pos: pos}
		case c >= '0' && c <= '9':
			return l.number(pos)
		case c == '"':
			return l.quoted(pos)
		case isIdentStart(c):
			n := l.identLen()
			word := strings.ToLower(l.src[l.off : l.off+n])
			if word == "text" && l.off+n < len(l.src) && l.src[l.off+n] == ':' {
				l.advance(n + 1)
				return l.multiline(pos)
			}
			l.advance(n)
			return token{kind: tokIdent, text: word, pos: pos}
		default:
			l.errorf(pos, "unexpected character %q", rune(c))
			l.advance(1)
		}
	}
}

func (l *lexer) identLen() int {
	n := 0
	if l.off < len(l.src) && isIdentStart(l.src[l.off]) {
		n = 1
		for l.off+n < len(l.src) && isIdentChar(l.src[l.off+n]) {
			n++
		}
	}
	return n
}

// number reads a number with an optional K, M or G quantifier
// (RFC 5228 section 2.4.1).
func (l *lexer) number(pos diag.Position) token {
	n := 0
	for l.off+n < len(l.src) && l.src[l.off+n] >= '0' && l.src[l.off+n] <= '9' {
		n++
	}
	digits := l.src[l.off : l.off+n]
	l.advance(n)
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		l.errorf(pos, "number %s is too large", digits)
		v = 0
	}
	if l.off < len(l.src) {
		mult := int64(1)
		switch l.src[l.off] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			l.advance(1)
			if v > (1<<62)/mult {
				l.errorf(pos, "number %s is too large", digits)
				v = 0
			}
			v *= mult
		}
	}
	return token{kind: tokNumber, num: v, pos: pos}
}

// quoted reads a quoted string: \" and \\ are escapes, any other backslash
// is dropped before the character it precedes (RFC 5228 section 2.4.2).
func (l *lexer) quoted(pos diag.Position) token {
	l.advance(1)
	var b strings.Builder
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch c {
		case '"':
			l.advance(1)
			return token{kind: tokString, text: b.String(), pos: pos}
		case '\\':
			if l.off+1 < len(l.src) {
				b.WriteByte(l.src[l.off+1])
				l.advance(2)
				continue
			}
			l.advance(1)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
	l.errorf(pos, "unterminated string")
	return token{kind: tokString, text: b.String(), pos: pos}
}

// multiline reads a text: string up to a line holding only "."; a leading
// ".." on a line stands for "." (RFC 5228 section 2.4.2).
func (l *lexer) multiline(pos diag.Position) token {
	// Rest of the "text:" line: white space and an optional hash comment.
	for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t') {
		l.advance(1)
	}
	if l.off < len(l.src) && l.src[l.off] == '#' {
		end := strings.IndexByte(l.src[l.off:], '\n')
		if end < 0 {
			end = len(l.src) - l.off
		}
		l.advance(end)
	}
	if l.off < len(l.src) && l.src[l.off] == '\r' {
		l.advance(1)
	}
	if l.off >= len(l.src) || l.src[l.off] != '\n' {
		l.errorf(pos, "text: must be followed by a line break")
	} else {
		l.advance(1)
	}
	var b strings.Builder
	for l.off < len(l.src) {
		end := strings.IndexByte(l.src[l.off:], '\n')
		var line string
		newline := end >= 0
		if newline {
			line = l.src[l.off : l.off+end]
			end++
		} else {
			line = l.src[l.off:]
			end = len(line)
		}
		content := strings.TrimSuffix(line, "\r")
		if content == "." {
			l.advance(end)
			return token{kind: tokString, text: b.String(), pos: pos, multi: true}
		}
		if strings.HasPrefix(content, "..") {
			content = content[1:]
		}
		b.WriteString(content)
		if newline {
			b.WriteString("\r\n") // lines of a multi-line string end in CRLF
		}
		l.advance(end)
	}
	l.errorf(pos, "unterminated text: string (a line with a single . ends it)")
	return token{kind: tokString, text: b.String(), pos: pos, multi: true}
}
