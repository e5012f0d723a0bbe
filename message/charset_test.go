package message

import "testing"

func TestConvertCharset(t *testing.T) {
	tests := []struct {
		charset string
		in      []byte
		want    string
	}{
		{"UTF-8", []byte("héllo"), "héllo"},
		{"iso-8859-1", []byte{'c', 'a', 'f', 0xe9}, "café"},
		{"latin1", []byte{0x80}, "€"}, // WHATWG: latin1 means windows-1252
		{"ISO_8859-15", []byte{0xa4}, "€"},
		{"iso-8859-2", []byte{0xb1}, "ą"},
		{"iso-8859-5", []byte{0xbf, 0xe0, 0xd8}, "При"},
		{"iso-8859-7", []byte{0xe1}, "α"},
		{"windows-1250", []byte{0x9a}, "š"},
		{"cp1251", []byte{0xcf, 0xf0, 0xe8}, "При"},
		{"windows-1253", []byte{0xe1}, "α"},
		{"koi8-r", []byte{0xf0, 0xd2, 0xc9}, "При"},
		{"KOI8-U", []byte{0xa4}, "є"},
		{"x-unknown", []byte("ok\xe9"), "oké"},
		{"x-unknown", []byte("oké"), "oké"},
	}
	for _, tc := range tests {
		if got := convertCharset(tc.charset, tc.in); got != tc.want {
			t.Errorf("convertCharset(%q, %q) = %q, want %q", tc.charset, tc.in, got, tc.want)
		}
	}
}

func TestDecoderText(t *testing.T) {
	dec := NewDecoder()
	tests := []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"raw UTF-8 Grüße", "raw UTF-8 Grüße"},            // RFC 6532
		{"caf\xe9", "café"},                               // raw 8-bit: Windows-1252
		{"=?koi8-r?b?8NLJ18XU?=", "Привет"},               // RFC 2047 B
		{"=?iso-8859-2?q?Za=BF=F3=B3=E6?= x", "Zażółć x"}, // RFC 2047 Q
		{"=?utf-8*en?q?hi?=", "hi"},                       // RFC 2231 language suffix
		{"=?a?q?x?= =?windows-1252?q?=80?=", "x€"},        // unknown charset, adjacent words joined
		{"=?utf-8?q?broken", "=?utf-8?q?broken"},          // not an encoded word: kept
		{"=?utf-8?b?/w==?=", "\uFFFD"},                    // invalid UTF-8 after decoding
	}
	for _, tc := range tests {
		if got := dec.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
