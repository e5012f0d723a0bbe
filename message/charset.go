package message

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"
)

// Decoder turns header and body text in any of the supported charsets (see
// the package documentation) into UTF-8. Text in another charset (the
// multi-byte East Asian ones, or a misspelt label) is kept when it is valid
// UTF-8 and otherwise read as Windows-1252: it is never an error.
//
// Make one with NewDecoder. A Decoder is immutable and safe for concurrent
// use.
type Decoder struct {
	wd mime.WordDecoder
}

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.wd.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		data, err := io.ReadAll(input)
		if err != nil {
			return nil, fmt.Errorf("read %s text: %w", charset, err)
		}
		return strings.NewReader(convertCharset(charset, data)), nil
	}
	return d
}

// Text decodes an unstructured header value: RFC 2047 encoded words are
// decoded, raw UTF-8 is kept (RFC 6532), and raw 8-bit text that is not
// UTF-8 is read as Windows-1252. Invalid UTF-8 left after decoding becomes
// U+FFFD.
func (d *Decoder) Text(raw string) string {
	if !strings.Contains(raw, "=?") {
		if utf8.ValidString(raw) {
			return raw
		}
		return convertCharset("windows-1252", []byte(raw))
	}
	s, err := d.wd.DecodeHeader(raw)
	if err != nil {
		s = raw
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// canonicalCharset maps a charset label to the name of its table.
func canonicalCharset(label string) string {
	l := strings.ToLower(strings.TrimSpace(strings.Trim(label, `"'`)))
	// RFC 2231 language suffix: "utf-8*en"
	if i := strings.IndexByte(l, '*'); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8":
		return "utf-8"
	case "", "us-ascii", "ascii", "ansi_x3.4-1968", "iso-ir-6", "us", "iso646-us", "cp367",
		"iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1", "l1", "cp819", "ibm819", "iso-ir-100",
		"windows-1252", "cp1252", "x-cp1252", "win-1252":
		// WHATWG Encoding: these labels all mean windows-1252, a superset.
		return "windows-1252"
	case "latin2", "l2", "iso-ir-101":
		return "iso-8859-2"
	case "latin3", "l3":
		return "iso-8859-3"
	case "latin4", "l4":
		return "iso-8859-4"
	case "cyrillic", "iso-ir-144":
		return "iso-8859-5"
	case "arabic", "iso-8859-6-i", "iso-8859-6-e":
		return "iso-8859-6"
	case "greek", "greek8", "iso-ir-126":
		return "iso-8859-7"
	case "hebrew", "iso-8859-8-i", "iso-8859-8-e", "visual", "logical":
		return "iso-8859-8"
	case "latin5", "l5", "iso-ir-148":
		return "iso-8859-9"
	case "latin6", "l6":
		return "iso-8859-10"
	case "tis-620", "windows-874", "cp874":
		return "iso-8859-11"
	case "latin7":
		return "iso-8859-13"
	case "latin8":
		return "iso-8859-14"
	case "latin9", "latin-9", "l9":
		return "iso-8859-15"
	case "latin10":
		return "iso-8859-16"
	case "koi8r", "koi", "koi8", "cskoi8r":
		return "koi8-r"
	case "koi8u", "koi8-ru":
		return "koi8-u"
	case "cp866", "866", "csibm866":
		return "ibm866"
	case "mac", "macroman", "mac-roman", "x-mac-roman", "csmacintosh":
		return "macintosh"
	}
	// iso8859-2, iso_8859-2, iso-8859-2:1987, cp1250, win-1250, x-cp1250 ...
	for _, prefix := range []string{"iso-8859-", "iso8859-", "iso_8859-", "iso8859_", "iso-8859_"} {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			if i := strings.IndexByte(rest, ':'); i >= 0 {
				rest = rest[:i]
			}
			return "iso-8859-" + rest
		}
	}
	for _, prefix := range []string{"windows-", "cp", "win-", "x-cp", "win"} {
		if rest, ok := strings.CutPrefix(l, prefix); ok && len(rest) == 4 && strings.HasPrefix(rest, "125") {
			return "windows-" + rest
		}
	}
	return l
}

// convertCharset decodes data from the named charset into UTF-8 text. It
// never fails: text in an unknown charset is kept when it is valid UTF-8
// and otherwise read as Windows-1252.
func convertCharset(label string, data []byte) string {
	name := canonicalCharset(label)
	if name == "utf-8" {
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	high, ok := charsetHighHalf(name)
	if !ok {
		if utf8.Valid(data) {
			return string(data)
		}
		high, _ = charsetHighHalf("windows-1252")
	}
	if isASCIIBytes(data) {
		return string(data)
	}
	var table [128]rune
	i := 0
	for _, r := range high {
		table[i] = r
		i++
	}
	var b strings.Builder
	b.Grow(len(data) + len(data)/2)
	for _, c := range data {
		if c < utf8.RuneSelf {
			b.WriteByte(c)
		} else {
			b.WriteRune(table[c-0x80])
		}
	}
	return b.String()
}

func isASCIIBytes(b []byte) bool {
	return bytes.IndexFunc(b, func(r rune) bool { return r >= utf8.RuneSelf }) < 0
}
