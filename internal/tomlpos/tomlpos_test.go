package tomlpos

import (
	"testing"

	"github.com/mailrules/mailrules/internal/diag"
)

func TestRawOffset(t *testing.T) {
	tests := []struct {
		raw    string
		offset int
		want   int
	}{
		{`'abc'`, 2, 3},
		{`"abc"`, 0, 1},
		{`"a\"b"`, 2, 4},                  // decoded a"b: b is at raw 4
		{`"\u00e9x"`, 2, 7},               // é is 2 bytes decoded, 6 raw
		{"'''\nab\ncd'''", 3, 7},          // newline after ''' trimmed
		{"\"\"\"a \\\n   b\"\"\"", 2, 10}, // line-ending backslash drops the white space
	}
	for _, tc := range tests {
		if got := rawOffset(tc.raw, tc.offset); got != tc.want {
			t.Errorf("rawOffset(%q, %d) = %d, want %d", tc.raw, tc.offset, got, tc.want)
		}
	}
}

const doc = `# a comment
state = "db"

[[account]]
name = "a"
password = { env = "P" }
mailboxes = ["INBOX", 'Lists/Go']

[[rule]]
name = "one"
when = 'subject contains "x"'

[[rule]]
name = "two"
  when = """
é \u00e9 \
   y"""
copy = [
  "A", # first
  "B",
]
"quoted key" = 1
`

func TestKeyPos(t *testing.T) {
	ix := New("c.toml", doc)
	tests := []struct {
		label string
		want  diag.Position
	}{
		{"state", diag.Position{File: "c.toml", Line: 2, Col: 1}},
		{"account[0]", diag.Position{File: "c.toml", Line: 4, Col: 1}},
		{"account[0].password", diag.Position{File: "c.toml", Line: 6, Col: 1}},
		{"account[0].password.env", diag.Position{File: "c.toml", Line: 6, Col: 14}},
		{"rule[0].when", diag.Position{File: "c.toml", Line: 11, Col: 1}},
		{"rule[1]", diag.Position{File: "c.toml", Line: 13, Col: 1}},
		{"rule[1].when", diag.Position{File: "c.toml", Line: 15, Col: 3}},
		{"rule[1].quoted key", diag.Position{File: "c.toml", Line: 22, Col: 1}},
		// A key not written falls back to its table, then to the file.
		{"rule[1].move", diag.Position{File: "c.toml", Line: 13, Col: 1}},
		{"nowhere", diag.Position{File: "c.toml"}},
	}
	for _, tc := range tests {
		if got := ix.KeyPos(tc.label); got != tc.want {
			t.Errorf("KeyPos(%q) = %v, want %v", tc.label, got, tc.want)
		}
	}
}

func TestValuePos(t *testing.T) {
	ix := New("c.toml", doc)
	tests := []struct {
		label         string
		index, offset int
		want          diag.Position
		ok            bool
	}{
		{"state", 0, 0, diag.Position{File: "c.toml", Line: 2, Col: 10}, true},
		{"account[0].mailboxes", 1, 2, diag.Position{File: "c.toml", Line: 7, Col: 26}, true},
		// An element out of range points at the key.
		{"account[0].mailboxes", 5, 0, diag.Position{File: "c.toml", Line: 7, Col: 1}, true},
		{"rule[0].when", 0, 8, diag.Position{File: "c.toml", Line: 11, Col: 17}, true},
		// Decoded "é é y": columns count characters, \u00e9 is six of
		// them, and the line-ending backslash drops the next line's indent.
		{"rule[1].when", 0, 3, diag.Position{File: "c.toml", Line: 16, Col: 3}, true},
		{"rule[1].when", 0, 6, diag.Position{File: "c.toml", Line: 17, Col: 4}, true},
		{"rule[1].copy", 1, 0, diag.Position{File: "c.toml", Line: 20, Col: 4}, true},
		{"rule[1].nothing", 0, 0, diag.Position{}, false},
	}
	for _, tc := range tests {
		got, ok := ix.ValuePos(tc.label, tc.index, tc.offset)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ValuePos(%q, %d, %d) = %v, %v; want %v, %v", tc.label, tc.index, tc.offset, got, ok, tc.want, tc.ok)
		}
	}
}
