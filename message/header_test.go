package message

import (
	"reflect"
	"testing"
)

func TestSplitHeader(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		header string
		body   string
		noBody bool // body is nil: no empty line
	}{
		{"CRLF", "A: 1\r\nB: 2\r\n\r\nbody\r\n", "A: 1\r\nB: 2\r\n\r\n", "body\r\n", false},
		{"bare LF", "A: 1\nB: 2\n\nbody\n", "A: 1\nB: 2\n\n", "body\n", false},
		{"CRLF fields, LF empty line", "A: 1\r\nB: 2\n\nbody", "A: 1\r\nB: 2\n\n", "body", false},
		{"LF fields, CRLF empty line", "A: 1\n\r\nbody", "A: 1\n\r\n", "body", false},
		{"first empty line wins", "A: 1\n\nb1\r\n\r\nb2", "A: 1\n\n", "b1\r\n\r\nb2", false},
		{"folded field", "A: 1\r\n 2\r\n\r\nbody", "A: 1\r\n 2\r\n\r\n", "body", false},
		{"white space line is not empty", "A: 1\r\n \r\nB: 2\r\n\r\nbody", "A: 1\r\n \r\nB: 2\r\n\r\n", "body", false},
		{"header only, with empty line", "A: 1\r\n\r\n", "A: 1\r\n\r\n", "", false},
		{"header only, no empty line", "A: 1\r\nB: 2\r\n", "A: 1\r\nB: 2\r\n", "", true},
		{"no final line end", "A: 1", "A: 1", "", true},
		{"lone CR is no line end", "A: 1\r\n\r", "A: 1\r\n\r", "", true},
		{"empty header, CRLF", "\r\nbody\r\n\r\nmore", "\r\n", "body\r\n\r\nmore", false},
		{"empty header, LF", "\nbody", "\n", "body", false},
		{"empty message", "", "", "", true},
	}
	for _, tc := range tests {
		header, body := SplitHeader([]byte(tc.raw))
		if string(header) != tc.header || string(body) != tc.body || (body == nil) != tc.noBody {
			t.Errorf("%s: SplitHeader(%q) = %q, %q (nil %v); want %q, %q (nil %v)",
				tc.name, tc.raw, header, body, body == nil, tc.header, tc.body, tc.noBody)
		}
	}
}

func TestHeader(t *testing.T) {
	raw := "Subject: hello\r\n" +
		"  world\r\n" +
		" continuation without a field\r\n" +
		"not a field\r\n" +
		"Bad Name: x\r\n" +
		"X-Two : first\r\n" +
		"x-two:second\n" +
		"Empty:\r\n" +
		"\r\n" +
		"Body: not a field\r\n"
	var h Header
	h.Parse([]byte(raw))
	for _, tc := range []struct {
		name string
		want string
		ok   bool
	}{
		{"subject", "hello  world continuation without a field", true},
		{"X-TWO", "first", true},
		{"Empty", "", true},
		{"Bad Name", "", false},
		{"Body", "", false},
		{"Missing", "", false},
	} {
		if got, ok := h.Lookup(tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
		if got := h.Get(tc.name); got != tc.want {
			t.Errorf("Get(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got, want := h.Values("x-Two"), []string{"first", "second"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Values(x-Two) = %q, want %q", got, want)
	}
	if got := h.Values("Missing"); got != nil {
		t.Errorf("Values(Missing) = %q, want nil", got)
	}

	// In place: the values refer to the buffer; Reset forgets it.
	buf := []byte("Subject: in place\r\n")
	h.ParseInPlace(buf)
	if got := h.Get("Subject"); got != "in place" {
		t.Errorf("after ParseInPlace, Get(Subject) = %q, want %q", got, "in place")
	}
	h.Reset()
	if got, ok := h.Lookup("Subject"); ok {
		t.Errorf("after Reset, Lookup(Subject) = %q, true; want not found", got)
	}
}

func TestValidFieldName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"Subject", true},
		{"X-Spam-Status", true},
		{"Subject \t", true},
		{"", false},
		{" ", false},
		{"Two Words", false},
		{"Ünicode", false},
		{"Tab\there", false},
	} {
		if got := ValidFieldName(tc.name); got != tc.want {
			t.Errorf("ValidFieldName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
