package imap

import (
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// ParseFlags parses a parenthesized flag list such as `(\Seen $Junk)` into
// its flags. Parentheses are optional; system flags keep the spelling the
// server used.
func ParseFlags(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(") {
		if !strings.HasSuffix(s, ")") {
			return nil, fmt.Errorf("parse flags %q: unterminated list", s)
		}
		s = s[1 : len(s)-1]
	}
	flags := strings.Fields(s)
	for _, f := range flags {
		name := strings.TrimPrefix(f, `\`)
		if name != "*" && !imapwire.IsAtom(name) {
			return nil, fmt.Errorf("parse flags %q: invalid flag %q", s, f)
		}
	}
	if flags == nil {
		flags = []string{}
	}
	return flags, nil
}
