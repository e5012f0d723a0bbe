package imap

import (
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
)

// SeqRange is a range of sequence numbers or UIDs; Stop 0 means "*" (the
// largest number in use). A single number has Start == Stop.
type SeqRange struct {
	Start, Stop uint32
}

// SeqSet is a sequence set (RFC 3501 section 9, sequence-set).
type SeqSet []SeqRange

// SeqSetFromNums returns a set holding nums, sorted, without duplicates and
// with consecutive numbers compressed into ranges.
func SeqSetFromNums(nums ...uint32) SeqSet {
	if len(nums) == 0 {
		return nil
	}
	sorted := slices.Clone(nums)
	slices.Sort(sorted)
	var set SeqSet
	for _, n := range sorted {
		if n == 0 {
			continue
		}
		if k := len(set); k > 0 && (set[k-1].Stop == n || set[k-1].Stop+1 == n) {
			set[k-1].Stop = n
			continue
		}
		set = append(set, SeqRange{n, n})
	}
	return set
}

// ParseSeqSet parses a sequence set such as "1:3,7,9:*".
func ParseSeqSet(s string) (SeqSet, error) {
	if s == "" {
		return nil, fmt.Errorf("parse sequence set: empty")
	}
	var set SeqSet
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, ":")
		start, err := parseSeqNum(a)
		if err != nil {
			return nil, fmt.Errorf("parse sequence set %q: %w", s, err)
		}
		stop := start
		if isRange {
			if stop, err = parseSeqNum(b); err != nil {
				return nil, fmt.Errorf("parse sequence set %q: %w", s, err)
			}
		}
		set = append(set, SeqRange{start, stop})
	}
	return set, nil
}

func parseSeqNum(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 || s[0] == '+' {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return uint32(n), nil
}

// String formats the set for the wire, e.g. "1:3,7,9:*".
func (s SeqSet) String() string {
	return string(s.appendTo(nil))
}

func (s SeqSet) appendTo(b []byte) []byte {
	for i, r := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSeqRange(b, r)
	}
	return b
}

func appendSeqRange(b []byte, r SeqRange) []byte {
	b = appendSeqNum(b, r.Start)
	if r.Stop != r.Start {
		b = append(b, ':')
		b = appendSeqNum(b, r.Stop)
	}
	return b
}

func appendSeqNum(b []byte, n uint32) []byte {
	if n == 0 {
		return append(b, '*')
	}
	return strconv.AppendUint(b, uint64(n), 10)
}

// Contains reports whether n is in the set. A range ending in "*" contains
// every number from its start.
func (s SeqSet) Contains(n uint32) bool {
	for _, r := range s {
		lo, hi := r.Start, r.Stop
		if lo == 0 {
			lo, hi = hi, lo
		}
		if hi == 0 {
			if n >= lo {
				return true
			}
			continue
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if lo <= n && n <= hi {
			return true
		}
	}
	return false
}

// Nums returns the numbers in the set, in set order. Ranges involving "*"
// contribute only their known end.
func (s SeqSet) Nums() []uint32 {
	return slices.Collect(s.All())
}

// All yields the numbers in the set in order without expanding it into a
// slice; a range with * yields only its other end, as Nums does.
func (s SeqSet) All() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		for _, r := range s {
			lo, hi := r.Start, r.Stop
			if lo == 0 || hi == 0 {
				if lo|hi != 0 && !yield(lo|hi) {
					return
				}
				continue
			}
			if lo > hi {
				lo, hi = hi, lo
			}
			for n := lo; ; n++ { // not n <= hi: hi may be the largest uint32
				if !yield(n) {
					return
				}
				if n == hi {
					break
				}
			}
		}
	}
}

// Split divides the set into pieces whose String() is at most maxBytes
// long, so that each fits in one command line (RFC 7162 section 4
// recommends lines of at most 8192 octets; about 7900 leaves room for the
// command around the set). A single range longer than maxBytes forms a piece
// of its own. A set that already fits is returned as is.
func (s SeqSet) Split(maxBytes int) []SeqSet {
	if len(s) == 0 {
		return nil
	}
	var out []SeqSet
	var cur SeqSet
	size := 0
	var tmp [24]byte
	for _, r := range s {
		n := len(appendSeqRange(tmp[:0], r))
		if len(cur) > 0 && size+1+n > maxBytes {
			out = append(out, cur)
			cur, size = nil, 0
		}
		if len(cur) > 0 {
			size++
		}
		cur = append(cur, r)
		size += n
	}
	return append(out, cur)
}

// MaxSetBytes bounds the rendered size of the sequence set of one command,
// so that with the tag, the command name and a mailbox name the command
// line stays under the 8192 octets RFC 7162 section 4 recommends clients
// limit their lines to. Chunks splits sets to it.
const MaxSetBytes = 7900

// minChunkBytes is the least a chunk may hold whatever the other
// arguments of the command, so that a set always makes progress.
const minChunkBytes = 512

// Chunks splits the set into pieces to send in one command each: every
// piece's String() plus extra bytes of the command's other arguments (a
// long mailbox name, flags) stays within MaxSetBytes, though never below
// 512 bytes. A set that fits is returned as the only piece; an empty set
// gives none.
func (s SeqSet) Chunks(extra int) []SeqSet {
	if len(s) == 0 {
		return nil
	}
	budget := MaxSetBytes - extra
	if budget < minChunkBytes {
		budget = minChunkBytes
	}
	return s.Split(budget)
}

// IsEmpty reports whether the set holds nothing.
func (s SeqSet) IsEmpty() bool { return len(s) == 0 }

// Count returns how many numbers the set holds, without expanding it. A
// range ending in * counts as its start only.
func (s SeqSet) Count() int {
	n := 0
	for _, r := range s {
		lo, hi := r.Start, r.Stop
		if lo > hi {
			lo, hi = hi, lo
		}
		if lo == 0 {
			n++
			continue
		}
		n += int(hi-lo) + 1
	}
	return n
}
