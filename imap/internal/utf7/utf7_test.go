package utf7

import "testing"

func TestRoundTrip(t *testing.T) {
	tests := []struct{ utf8, utf7 string }{
		{"INBOX", "INBOX"},
		{"", ""},
		{"Tom & Jerry", "Tom &- Jerry"},
		// RFC 3501 section 5.1.3 example
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"},
		{"emoji 😀", "emoji &2D3eAA-"},
	}
	for _, tt := range tests {
		if got := Encode(tt.utf8); got != tt.utf7 {
			t.Errorf("Encode(%q) = %q, want %q", tt.utf8, got, tt.utf7)
		}
		got, err := Decode(tt.utf7)
		if err != nil || got != tt.utf8 {
			t.Errorf("Decode(%q) = %q, %v, want %q", tt.utf7, got, err, tt.utf8)
		}
	}
}

func TestDecodeInvalid(t *testing.T) {
	for _, s := range []string{"&", "&U,BTFw", "&AGE-", "a\x01b", "&=-"} {
		if got, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) = %q, nil, want error", s, got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("~peter/mail/&U,BTFw-/&ZeVnLIqe-")
	f.Add("Tom &- Jerry")
	f.Fuzz(func(t *testing.T, s string) {
		dec, err := Decode(s)
		if err != nil {
			return
		}
		if again, err := Decode(Encode(dec)); err != nil || again != dec {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", dec, again, err)
		}
	})
}
