package imap

import (
	"slices"
	"testing"
)

func TestSeqSetChunks(t *testing.T) {
	if got := (SeqSet{}).Chunks(0); got != nil {
		t.Errorf("empty set: Chunks = %v, want none", got)
	}
	small := SeqSet{{1, 3}, {7, 7}}
	if got := small.Chunks(0); len(got) != 1 || got[0].String() != "1:3,7" {
		t.Errorf("small set: Chunks = %v, want the set itself", got)
	}
	// Every other UID from 1000000: about 8 bytes a number, far over one line.
	var big SeqSet
	var want []uint32
	for i := uint32(0); i < 5000; i++ {
		n := 1000000 + 2*i
		big = append(big, SeqRange{n, n})
		want = append(want, n)
	}
	for _, extra := range []int{0, 300, 7800, 100000} {
		budget := max(MaxSetBytes-extra, 512)
		pieces := big.Chunks(extra)
		if len(pieces) < 2 {
			t.Fatalf("extra %d: %d pieces, want several", extra, len(pieces))
		}
		var got []uint32
		for _, p := range pieces {
			if l := len(p.String()); l > budget {
				t.Errorf("extra %d: piece of %d bytes, over %d", extra, l, budget)
			}
			got = append(got, p.Nums()...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("extra %d: pieces hold %d numbers, want the %d of the set in order", extra, len(got), len(want))
		}
	}
	// A full line with the longest tag and command the package sends stays
	// within the 8192 octets of RFC 7162 section 4.
	for _, p := range big.Chunks(0) {
		line := "A4294967295 UID STORE " + p.String() + " -FLAGS.SILENT (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n"
		if len(line) > 8192 {
			t.Errorf("command line of %d bytes", len(line))
		}
	}
}
