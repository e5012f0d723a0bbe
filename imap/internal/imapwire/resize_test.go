package imapwire

import (
	"strings"
	"testing"
)

// TestResizeKeepsBufferedBytes: growing and shrinking the read buffer in
// the middle of a stream loses and repeats nothing.
func TestResizeKeepsBufferedBytes(t *testing.T) {
	input := "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2 BODY[] {5}\r\nhello)\r\n* 3 EXISTS\r\n"
	d := NewDecoder(strings.NewReader(input), 16)
	var lines []string
	for i, size := range []int{16, 65536, 16} {
		if i > 0 {
			d.Resize(size)
			if d.BufferSize() != size {
				t.Fatalf("BufferSize() = %d after Resize(%d)", d.BufferSize(), size)
			}
		}
		line, err := d.RawLine(nil)
		if err != nil {
			t.Fatalf("RawLine %d: %v", i, err)
		}
		lines = append(lines, string(line))
	}
	got := strings.Join(lines, "|")
	want := "* 1 FETCH (UID 1)|* 2 FETCH (UID 2 BODY[] {5}\r\nhello)|* 3 EXISTS"
	if got != want {
		t.Errorf("lines = %q, want %q", got, want)
	}
}
