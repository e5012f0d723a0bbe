package sasl

import (
	"bytes"
	"errors"
	"testing"
)

func TestPlain(t *testing.T) {
	tests := []struct {
		identity, user, pass string
		want                 string
	}{
		{"", "tim", "tanstaaftanstaaf", "\x00tim\x00tanstaaftanstaaf"}, // RFC 4616 section 4
		{"Ursel", "Kurt", "xipj3plmq", "Ursel\x00Kurt\x00xipj3plmq"},
	}
	for _, tt := range tests {
		m := Plain(tt.identity, tt.user, tt.pass)
		if m.Name() != "PLAIN" {
			t.Fatalf("Name() = %q, want PLAIN", m.Name())
		}
		ir, err := m.Start()
		if err != nil || string(ir) != tt.want {
			t.Fatalf("Start() = %q, %v, want %q", ir, err, tt.want)
		}
		again, err := m.Next(nil)
		if err != nil || !bytes.Equal(again, ir) {
			t.Fatalf("Next(empty) = %q, %v, want %q", again, err, ir)
		}
		if _, err := m.Next([]byte("x")); !errors.Is(err, ErrUnexpectedChallenge) {
			t.Fatalf("Next(x) error = %v, want ErrUnexpectedChallenge", err)
		}
	}
}
