package actions

import (
	"strings"

	"github.com/mailrules/mailrules/imap"
)

// MailboxName maps a "/"-separated mailbox path, as rules write it, to the
// server's name for it: the segments joined with the server's hierarchy
// delimiter delim (RFC 3501 section 5.1.1), behind the personal namespace
// prefix (RFC 2342; e.g. "INBOX." on servers that keep every mailbox under
// INBOX).
//
// Empty segments are dropped. A first segment spelled INBOX in any case is
// INBOX itself (RFC 3501 section 5.1) and takes no prefix; neither does a
// path that already starts with the prefix. Segments are otherwise kept as
// written: one containing the delimiter nests deeper on that server. With no
// delimiter (a flat server, LIST delimiter NIL) the path is kept as written.
// The result is empty only when path has no segments.
//
//	MailboxName("Lists/go-dev", ".", "")        = "Lists.go-dev"
//	MailboxName("Archive/2024", "/", "INBOX/")  = "INBOX/Archive/2024"
//	MailboxName("INBOX/Sub", ".", "INBOX.")     = "INBOX.Sub"
func MailboxName(path, delim, prefix string) string {
	var segs []string
	for s := range strings.SplitSeq(path, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return ""
	}
	if imap.IsInbox(segs[0]) {
		segs[0] = "INBOX"
	}
	sep := delim
	if sep == "" {
		sep = "/"
	}
	name := strings.Join(segs, sep)
	if segs[0] == "INBOX" || prefix == "" || hasPrefixFold(name, prefix) {
		return name
	}
	if p := strings.TrimSuffix(prefix, delim); delim != "" && strings.EqualFold(name, p) {
		return name
	}
	return prefix + name
}

// hasPrefixFold reports whether name starts with prefix, comparing a leading
// INBOX case-insensitively as RFC 3501 section 5.1 does.
func hasPrefixFold(name, prefix string) bool {
	if strings.HasPrefix(name, prefix) {
		return true
	}
	if len(name) >= 5 && len(prefix) >= 5 && imap.IsInbox(name[:5]) && imap.IsInbox(prefix[:5]) {
		return name[5:] != "" && strings.HasPrefix(name[5:], prefix[5:])
	}
	return false
}

// mailboxKey is the key under which a mailbox name is cached: INBOX in any
// case is one mailbox.
func mailboxKey(name string) string { return imap.MailboxKey(name) }

// parents returns the superior names of a mailbox name, outermost first:
// "A.B.C" with delimiter "." has parents "A" and "A.B".
func parents(name, delim string) []string {
	if delim == "" {
		return nil
	}
	var ps []string
	for i := 0; ; {
		j := strings.Index(name[i:], delim)
		if j < 0 {
			break
		}
		i += j
		if i > 0 {
			ps = append(ps, name[:i])
		}
		i += len(delim)
	}
	return ps
}
