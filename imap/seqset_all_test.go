package imap

import (
	"slices"
	"testing"
)

func TestSeqSetAll(t *testing.T) {
	set := SeqSet{{Start: 3, Stop: 1}, {Start: 7, Stop: 0}, {Start: 4294967294, Stop: 4294967295}}
	want := []uint32{1, 2, 3, 7, 4294967294, 4294967295}
	if got := slices.Collect(set.All()); !slices.Equal(got, want) {
		t.Fatalf("All(%v) = %v, want %v", set, got, want)
	}
	var first []uint32
	for n := range set.All() {
		first = append(first, n)
		if len(first) == 2 {
			break
		}
	}
	if !slices.Equal(first, want[:2]) {
		t.Fatalf("All(%v) stopped early = %v, want %v", set, first, want[:2])
	}
}
