package engine

import (
	"slices"
	"strings"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/message"
	"github.com/mailrules/mailrules/rules"
)

// FetchItems returns the FETCH items a pass sends for a rule set with these
// needs; sweep is true when the set has scope = "all" rules. `mailrules
// check` shows them.
func FetchItems(needs rules.Needs, sweep bool) []imap.FetchItem {
	items, _ := fetchItems(needs, false, sweep)
	return items
}

// PassNeeds is what a pass fetches first for set: its rules' needs, and
// RFC822.SIZE when a rule calls classify(), so that the whole messages
// the classifiers get are fetched in batches of bounded size.
func PassNeeds(set *rules.Set) rules.Needs {
	n := set.Needs()
	if len(set.Classifiers()) > 0 {
		n.Size = true
	}
	return n
}

// fetchItems turns what the rules need into FETCH items. headerOnly is false
// when the one body section fetched is the whole (truncated) message. The
// Message-ID is always fetched so that every action can be logged with it;
// a dry run also fetches From and Subject to print the plan. A sweep over
// old mail fetches FLAGS to pass over messages marked \Deleted.
func fetchItems(needs rules.Needs, dryRun, sweep bool) (items []imap.FetchItem, headerOnly bool) {
	items = []imap.FetchItem{imap.FetchUID}
	if needs.Flags || sweep {
		items = append(items, imap.FetchFlags)
	}
	if needs.InternalDate {
		items = append(items, imap.FetchInternalDate)
	}
	if needs.Size {
		items = append(items, imap.FetchRFC822Size)
	}
	switch {
	case needs.Body:
		return append(items, imap.FetchSection("", true, 0, bodyLimit)), false
	case needs.AllHeaders:
		return append(items, imap.FetchSection("HEADER", true, 0, -1)), true
	}
	fields := append([]string{}, needs.Headers...)
	fields = appendMissing(fields, "MESSAGE-ID")
	if dryRun {
		fields = appendMissing(fields, "FROM", "SUBJECT")
	}
	return append(items, imap.FetchHeaderFields(fields...)), true
}

func appendMissing(list []string, names ...string) []string {
	for _, n := range names {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}

// dropFlagNoops removes the flag changes that would change nothing: adding
// a flag the message has, removing one it lacks (flags compare
// case-insensitively, RFC 3501 section 2.3.2).
func dropFlagNoops(r *rules.Result, flags []string) {
	has := func(f string) bool {
		return slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(f, g) })
	}
	r.AddFlags = slices.DeleteFunc(r.AddFlags, func(fc rules.FlagChange) bool { return has(fc.Flag) })
	r.RemoveFlags = slices.DeleteFunc(r.RemoveFlags, func(fc rules.FlagChange) bool { return !has(fc.Flag) })
}

// decide copies what the plan keeps of a message out of the fetch buffer,
// which is only valid during the fetch callback: the Message-ID for the
// action log, and for a dry run's listing From and Subject too. fetched is
// the header block or the whole message.
func decide(uid uint32, fetched []byte, res rules.Result, dryRun bool) actions.Decision {
	d := actions.Decision{UID: uid, Result: res}
	if dryRun {
		sum := message.Summarize(fetched)
		d.MessageID, d.From, d.Subject = sum.MessageID, sum.From, sum.Subject
	} else {
		d.MessageID = message.ID(fetched)
	}
	return d
}
