package imapwire

import "strconv"

// IsAtom reports whether s can be sent as an atom: non-empty and made only of
// ATOM-CHAR (RFC 3501 section 9), so no atom-specials and no 8-bit bytes.
func IsAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAtomChar(s[i]) {
			return false
		}
	}
	return true
}

func isAtomChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// IsQuotable reports whether s fits in a quoted string: only 7-bit TEXT-CHAR
// (RFC 3501 section 9: no NUL, CR or LF). With UTF-8 allowed (RFC 6855),
// 8-bit bytes are quotable too.
func IsQuotable(s string, utf8OK bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 || c == '\r' || c == '\n' || (c >= 0x80 && !utf8OK) {
			return false
		}
	}
	return len(s) < 4096
}

// AppendQuoted appends s as a quoted string, escaping '"' and '\'.
func AppendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// AppendLiteralHeader appends a literal announcement "{n}" or, non-synchronizing
// (RFC 7888), "{n+}", followed by CRLF.
func AppendLiteralHeader(dst []byte, n int64, nonSync bool) []byte {
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, n, 10)
	if nonSync {
		dst = append(dst, '+')
	}
	return append(dst, '}', '\r', '\n')
}
