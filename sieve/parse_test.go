package sieve

import (
	"testing"
)

// TestParseValues checks the lexical rules of RFC 5228 section 2.4 through
// the values the parser produces.
func TestParseValues(t *testing.T) {
	src := "x \"a\\\"b\\\\c\\d\" 1K 2m 3G 42 text: # comment\r\n..dot\r\nline\r\n.\r\n[\"p\", \"q\"] :Tag;"
	cmds, err := Parse("p.sieve", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(cmds) != 1 || cmds[0].Name != "x" {
		t.Fatalf("Parse = %+v, want one command x", cmds)
	}
	args := cmds[0].Args
	if len(args) != 8 {
		t.Fatalf("got %d arguments, want 8: %+v", len(args), args)
	}
	if got := args[0].Strs[0].Value; got != `a"b\cd` {
		t.Errorf("quoted string = %q, want %q", got, `a"b\cd`)
	}
	for i, want := range []int64{1 << 10, 2 << 20, 3 << 30, 42} {
		if args[1+i].Kind != ArgNumber || args[1+i].Num != want {
			t.Errorf("number %d = %+v, want %d", i, args[1+i], want)
		}
	}
	if got := args[5].Strs[0].Value; got != ".dot\r\nline\r\n" {
		t.Errorf("text: string = %q, want %q", got, ".dot\r\nline\r\n")
	}
	if !args[6].List || len(args[6].Strs) != 2 || args[6].Strs[1].Value != "q" {
		t.Errorf("string list = %+v", args[6])
	}
	if args[7].Kind != ArgTag || args[7].Tag != "tag" {
		t.Errorf("tag = %+v, want :tag", args[7])
	}
	if p := args[7].Pos; p.Line != 5 || p.Col != 12 {
		t.Errorf("tag position = %v, want line 5 column 12", p)
	}
}

func TestDecodeEncoded(t *testing.T) {
	tests := []struct{ in, want string }{
		{"${hex:48 65 6C 6c 6F}", "Hello"},
		{"${unicode:48 E9}${UNICODE:1F600}", "Hé😀"},
		{"${hex: 41 }-${hex:}-${hex:041}", "A-${hex:}-${hex:041}"}, // empty, three digits: stay
		{"${hex:4G}", "${hex:4G}"},                                 // not well formed: stays
		{"${other:41}", "${other:41}"},                             // unknown encoding: stays
		{"${hex:41", "${hex:41"},                                   // unterminated: stays
		{"$${hex:24}{x}", "$${x}"},                                 // decoding does not nest
	}
	for _, tt := range tests {
		got, err := decodeEncoded(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("decodeEncoded(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := decodeEncoded("${unicode:D800}"); err == nil {
		t.Error("decodeEncoded(surrogate): no error")
	}
}
