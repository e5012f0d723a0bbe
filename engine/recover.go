// Recovery within a pass: what an interrupted batch may have put into
// destinations, and the messages whose actions the server refused.

package engine

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
)

// ours reports whether the message may carry a \Deleted flag set by an
// earlier pass of ours that did not finish (a move on a server without
// MOVE): such a message is evaluated again rather than passed over.
func (p *mailboxPass) ours(uid uint32) bool {
	return p.journal.covers(uid) || p.retry.Contains(uid)
}

// dedupe answers actions.Options.Dedupe: which messages an earlier pass may
// already have put into dest, and from which UID of dest on. Those are the
// messages an interrupted batch covered (from the UIDNEXT it recorded), and,
// for copies, every old message a pass looks at again (a sweep, run --all,
// a retry), which any earlier pass may have copied.
func (p *mailboxPass) dedupe(dest string, move bool) (imap.SeqSet, actions.DestMark) {
	var (
		set  imap.SeqSet
		from actions.DestMark
	)
	if floor, ok := p.journal.copyFloor(dest); ok {
		set = append(set, imap.SeqRange{Start: max(p.journal.From, 1), Stop: p.journal.HighestUID})
		from = floor
	}
	if !move && p.oldInScope() && p.st.HighestUID > 0 {
		set = append(set, imap.SeqRange{Start: 1, Stop: p.st.HighestUID})
		from = actions.DestMark{UIDNext: 1}
	}
	return set, from
}

// oldInScope reports whether the pass looks at messages at or below the
// highest UID handled.
func (p *mailboxPass) oldInScope() bool {
	return p.full || p.rules.HasScopeAll() || len(p.retry) > 0
}

// learnDests keeps the marks of destinations that a batch reported
// (COPYUID) for the next pass; a renumbered destination replaces its mark.
func learnDests(st *MailboxState, dests map[string]actions.DestMark) {
	for dest, mark := range dests {
		if st.Dests == nil {
			st.Dests = make(map[string]actions.DestMark)
		}
		st.Dests[dest] = st.Dests[dest].Merge(mark)
	}
}

// nextRetry returns the messages to try again on the next pass: those whose
// actions the server refused this time, each with one more attempt than
// before; the ones tried maxAttempts times are given up, with an error in
// the log. Earlier failures that no longer exist or now succeeded drop out.
func (p *mailboxPass) nextRetry(report *actions.Report) []Retry {
	for uid := range p.retry.All() {
		if !p.seen[uid] {
			p.log.Info("a message whose actions failed before no longer exists", zap.Uint32("uid", uid))
		}
	}
	if report == nil || len(report.Failed) == 0 {
		return nil
	}
	attempts := make(map[uint32]int)
	for _, r := range p.st.Retry {
		for uid := range r.UIDs.All() {
			attempts[uid] = r.Attempts
		}
	}
	type group struct {
		uids     []uint32
		attempts int
		err      string
	}
	var groups []*group
	byKey := make(map[string]*group)
	for _, f := range report.Failed {
		for uid := range f.UIDs.All() {
			n := attempts[uid] + 1
			p.sum.Failed++
			if n >= maxAttempts {
				p.sum.GaveUp++
				p.log.Error("giving up on a message: the server refused its actions on every attempt; it stays where it is",
					zap.Uint32("uid", uid), zap.Int("attempts", n), zap.Error(f.Err))
				continue
			}
			key := fmt.Sprint(n, f.Err)
			g := byKey[key]
			if g == nil {
				g = &group{attempts: n, err: f.Err.Error()}
				byKey[key] = g
				groups = append(groups, g)
			}
			g.uids = append(g.uids, uid)
		}
	}
	out := make([]Retry, 0, len(groups))
	for _, g := range groups {
		out = append(out, Retry{UIDs: imap.SeqSetFromNums(g.uids...), Attempts: g.attempts, Error: g.err})
	}
	return out
}
