// Package utf7 implements the modified UTF-7 encoding of mailbox names
// (RFC 3501 section 5.1.3).
package utf7

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// modified BASE64 of RFC 2152 with ',' in place of '/', no padding.
var b64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// ErrInvalid reports a string that is not valid modified UTF-7.
var ErrInvalid = errors.New("utf7: invalid modified UTF-7")

func printable(c byte) bool { return c >= 0x20 && c <= 0x7e }

// Encode converts a UTF-8 mailbox name to modified UTF-7. Invalid UTF-8
// sequences are encoded as U+FFFD.
func Encode(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if !printable(s[i]) || s[i] == '&' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var sb strings.Builder
	var units []uint16
	flush := func() {
		if len(units) == 0 {
			return
		}
		buf := make([]byte, 2*len(units))
		for i, u := range units {
			buf[2*i] = byte(u >> 8)
			buf[2*i+1] = byte(u)
		}
		sb.WriteByte('&')
		sb.WriteString(b64.EncodeToString(buf))
		sb.WriteByte('-')
		units = units[:0]
	}
	for _, r := range s {
		if r < utf8.RuneSelf && printable(byte(r)) {
			flush()
			if r == '&' {
				sb.WriteString("&-")
			} else {
				sb.WriteRune(r)
			}
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			units = append(units, uint16(r1), uint16(r2))
		} else {
			units = append(units, uint16(r))
		}
	}
	flush()
	return sb.String()
}

// Decode converts a modified UTF-7 mailbox name to UTF-8.
func Decode(s string) (string, error) {
	if strings.IndexByte(s, '&') < 0 {
		for i := 0; i < len(s); i++ {
			if !printable(s[i]) {
				return "", ErrInvalid
			}
		}
		return s, nil
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !printable(c) {
			return "", ErrInvalid
		}
		if c != '&' {
			sb.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", ErrInvalid
		}
		enc := s[i+1 : i+1+end]
		i += end + 1
		if enc == "" {
			sb.WriteByte('&')
			continue
		}
		raw, err := b64.DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", ErrInvalid
		}
		units := make([]uint16, len(raw)/2)
		for j := range units {
			units[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
		}
		for _, r := range utf16.Decode(units) {
			// RFC 3501: printable US-ASCII must not be encoded.
			if r < utf8.RuneSelf && printable(byte(r)) {
				return "", ErrInvalid
			}
			sb.WriteRune(r)
		}
	}
	return sb.String(), nil
}
