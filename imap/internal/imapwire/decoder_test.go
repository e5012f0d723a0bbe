package imapwire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func dec(s string) *Decoder { return NewDecoder(strings.NewReader(s), 16) }

func TestTokens(t *testing.T) {
	d := dec(`atom "quo\"ted\\" {5}` + "\r\n" + `lit{} ~{2}` + "\r\n" + `a` + "\x00" + ` NIL nil NILS 42 (a (b "c") {1}` + "\r\nd)\r\n")
	a, err := d.Atom()
	if err != nil || string(a) != "atom" {
		t.Fatalf("Atom = %q, %v", a, err)
	}
	d.SP()
	s, err := d.String()
	if err != nil || string(s) != `quo"ted\` {
		t.Fatalf("String(quoted) = %q, %v", s, err)
	}
	d.SP()
	s, err = d.String()
	if err != nil || string(s) != "lit{}" {
		t.Fatalf("String(literal) = %q, %v", s, err)
	}
	d.SP()
	s, err = d.AString()
	if err != nil || string(s) != "a\x00" {
		t.Fatalf("AString(literal8) = %q, %v", s, err)
	}
	d.SP()
	for _, want := range []bool{true, true, false} {
		if got := d.IsNIL(); got != want {
			t.Fatalf("IsNIL() = %v, want %v", got, want)
		}
		d.SkipSpaces()
	}
	if a, _ := d.Atom(); string(a) != "NILS" {
		t.Fatalf("atom after NILS = %q", a)
	}
	d.SP()
	if n, err := d.Number(); n != 42 || err != nil {
		t.Fatalf("Number = %d, %v", n, err)
	}
	d.SP()
	v, err := d.AppendValue(nil)
	if err != nil || string(v) != "(a (b \"c\") {1}\r\nd)" {
		t.Fatalf("AppendValue = %q, %v", v, err)
	}
	if err := d.CRLF(); err != nil {
		t.Fatalf("CRLF = %v", err)
	}
}

func TestLiteralLimit(t *testing.T) {
	d := dec("{4294967296}\r\n")
	d.MaxLiteral = 1 << 20
	if _, err := d.LiteralInto(nil); !errors.Is(err, ErrLiteralTooLarge) {
		t.Fatalf("LiteralInto(4 GB) = %v, want ErrLiteralTooLarge", err)
	}
	d = dec("* X {99999999999999999999999}\r\n")
	if err := d.SkipLine(); err == nil {
		t.Fatal("SkipLine over an absurd literal succeeded")
	}
}

// MaxResponse counts literals before they are read, and token text, per
// response: StartResponse starts a new count.
func TestResponseLimit(t *testing.T) {
	d := dec("{600}\r\n" + strings.Repeat("a", 600) + " {600}\r\n" + strings.Repeat("b", 600) + "\r\n")
	d.MaxResponse = 1000
	if lit, err := d.LiteralInto(nil); err != nil || len(lit) != 600 {
		t.Fatalf("first literal = %d bytes, %v, want 600", len(lit), err)
	}
	d.SP()
	if lit, err := d.LiteralInto(nil); !errors.Is(err, ErrResponseTooLarge) || len(lit) != 0 {
		t.Fatalf("second literal = %d bytes, %v, want ErrResponseTooLarge before reading", len(lit), err)
	}
	if b, _ := d.Peek(); b != 'b' {
		t.Fatalf("next byte %q, want the unread literal", b)
	}

	tests := []struct {
		name  string
		input string
		read  func(d *Decoder) error
	}{
		{"atoms", strings.Repeat("x", 600) + " " + strings.Repeat("y", 600) + "\r\n", func(d *Decoder) error {
			d.Atom()
			d.SP()
			_, err := d.Atom()
			return err
		}},
		{"quoted", `"` + strings.Repeat("q", 1200) + `"`, func(d *Decoder) error { _, err := d.String(); return err }},
		{"text", strings.Repeat("t", 1200) + "\r\n", func(d *Decoder) error { _, err := d.Text(); return err }},
		{"raw", "X {700}\r\n" + strings.Repeat("r", 700) + " {700}\r\n" + strings.Repeat("r", 700) + "\r\n",
			func(d *Decoder) error { _, err := d.RawLine(nil); return err }},
		{"list items", "(" + strings.Repeat("a ", 100) + ")", func(d *Decoder) error {
			return d.List(func() error { _, err := d.Atom(); return err })
		}},
		{"numbers", strings.Repeat("1 ", 200), func(d *Decoder) error {
			for {
				if _, err := d.Number(); err != nil {
					return err
				}
				d.SkipSpaces()
			}
		}},
	}
	for _, tt := range tests {
		d := dec(tt.input)
		d.MaxResponse = 1000
		if err := tt.read(d); !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("%s over MaxResponse: %v, want ErrResponseTooLarge", tt.name, err)
		}
		d = dec(tt.input)
		d.MaxResponse = 1 << 20
		if err := tt.read(d); errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("%s under MaxResponse: %v", tt.name, err)
		}
	}

	// Each response has its own count.
	d = dec(strings.Repeat("{600}\r\n"+strings.Repeat("c", 600)+"\r\n", 3))
	d.MaxResponse = 1000
	for i := 0; i < 3; i++ {
		d.StartResponse()
		if _, err := d.LiteralInto(nil); err != nil {
			t.Fatalf("literal of response %d: %v", i+1, err)
		}
		d.CRLF()
	}
}

func TestSkipLine(t *testing.T) {
	d := dec("* 1 FETCH (BODY[] {12}\r\nline\r\nline\r\n X {0}\r\n)\r\nnext\r\n")
	if err := d.SkipLine(); err != nil {
		t.Fatal(err)
	}
	if rest, _ := d.Text(); string(rest) != "next" {
		t.Fatalf("after SkipLine: %q, want next", rest)
	}
}

func TestRawLine(t *testing.T) {
	d := dec("XFOO a {3}\r\nb\r\n c\r\nnext\r\n")
	raw, err := d.RawLine(nil)
	if err != nil || string(raw) != "XFOO a {3}\r\nb\r\n c" {
		t.Fatalf("RawLine = %q, %v", raw, err)
	}
}

func TestDepthLimit(t *testing.T) {
	d := dec(strings.Repeat("(", MaxDepth+1) + strings.Repeat(")", MaxDepth+1))
	if err := d.SkipValue(); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("SkipValue(too deep) = %v, want ErrTooDeep", err)
	}
	d = dec(strings.Repeat("(", MaxDepth) + strings.Repeat(")", MaxDepth))
	if err := d.SkipValue(); err != nil {
		t.Fatalf("SkipValue(depth %d) = %v", MaxDepth, err)
	}
}

func TestLenient(t *testing.T) {
	d := dec("a  b\n")
	d.Atom()
	if err := d.SP(); err != nil {
		t.Fatal(err)
	}
	if a, _ := d.Atom(); string(a) != "b" {
		t.Fatalf("atom after two spaces = %q", a)
	}
	if err := d.CRLF(); err != nil {
		t.Fatalf("bare LF: %v", err)
	}
	d = dec("NIL)")
	n := 0
	if err := d.List(func() error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("List(NIL) = %v, %d items", err, n)
	}
}

func TestEncoderHelpers(t *testing.T) {
	for s, want := range map[string]bool{"INBOX": true, "": false, "a b": false, "a]": false, "a*": false, "ü": false, `a\`: false} {
		if got := IsAtom(s); got != want {
			t.Errorf("IsAtom(%q) = %v, want %v", s, got, want)
		}
	}
	if got := string(AppendQuoted(nil, `a"b\c`)); got != `"a\"b\\c"` {
		t.Errorf("AppendQuoted = %s", got)
	}
	if IsQuotable("a\r\nb", false) || IsQuotable("ü", false) || !IsQuotable("ü", true) {
		t.Error("IsQuotable wrong")
	}
}

// FuzzAppendValue checks that re-encoding any value decodes to the same
// encoding again, and that nothing panics.
func FuzzAppendValue(f *testing.F) {
	for _, s := range []string{`(a (b "c") {1}` + "\r\nd)", `"q\"x"`, `BODY[HEADER.FIELDS (A)]<0>`, `~{2}` + "\r\nab", `NIL`, `((((x))))`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := dec(s)
		d.MaxLiteral = 1 << 16
		v, err := d.AppendValue(nil)
		if err != nil {
			return
		}
		d2 := dec(string(v))
		v2, err := d2.AppendValue(nil)
		if err != nil || !bytes.Equal(v, v2) {
			t.Fatalf("AppendValue(%q) = %q, which re-decodes to %q, %v", s, v, v2, err)
		}
		d3 := dec(s + "\r\n")
		d3.MaxLiteral = 1 << 16
		d3.SkipLine()
	})
}
