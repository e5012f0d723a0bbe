// Package termtext makes text that comes from mail safe to print on a
// terminal. A Subject, a From or a mailbox name is written by whoever sent
// the message, and raw control characters in it are commands to the
// terminal: ESC ] 0 ; ... BEL retitles the window, ESC [ 2 J clears the
// screen, bidi overrides make text read differently from what it is
// (CVE-2021-42574, "Trojan Source").
//
// Output for programs (JSON) needs none of this: its own escaping applies.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character a terminal could act on replaced
// by a visible escape: C0 controls other than tab, DEL and bytes that are
// not UTF-8 as \x1b, C1 controls (U+0080 to U+009F) and the bidi embedding,
// override and isolate characters (U+202A to U+202E, U+2066 to U+2069) as
// \u202e. Everything else, tab and backslashes included, is unchanged, so
// text without such characters is returned as it is.
func Escape(s string) string {
	first := -1
	for i, r := range s {
		if r == utf8.RuneError || unsafe(r) {
			first = i
			break
		}
	}
	if first < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:first])
	for i := first; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafe(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafe reports whether a terminal may act on r instead of showing it.
func unsafe(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t'
	case 0x7f <= r && r <= 0x9f: // DEL and the C1 controls
		return true
	case 0x202a <= r && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case 0x2066 <= r && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}
