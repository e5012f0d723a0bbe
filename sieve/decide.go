package sieve

import (
	"strings"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/message"
	"github.com/mailrules/mailrules/rules"
)

// Decide runs the script over a message that sits in msg.Mailbox and turns
// its actions into what mailrules does to such a message (the table in
// README.md, "Sieve"). It implements rules.Script.
//
// mailboxexists asks msg.MailboxExists (every name exists when it is nil);
// the names are "/"-separated paths, as fileinto's are.
func (s *Script) Decide(msg *rules.Message, now time.Time) (rules.Decision, error) {
	hdr := msg.Header
	if len(hdr) == 0 && len(msg.Raw) > 0 {
		hdr, _ = message.SplitHeader(msg.Raw)
	}
	out, err := s.Run(&Env{Header: hdr, Raw: msg.Raw, Size: msg.Size, Flags: msg.Flags, Now: now,
		MailboxExists: msg.MailboxExists})
	if err != nil {
		return rules.Decision{}, err
	}
	return InPlace(out, msg.Mailbox, msg.Flags), nil
}

// InPlace maps a script's delivery-time actions onto a message that
// already sits in mailbox with flags:
//
//   - keep (explicit or implicit), or a fileinto of the mailbox itself: the
//     message stays; its flags become the keep's flags.
//   - fileinto X with a keep: a copy to X.
//   - fileinto X without a keep: a move to X (the first such mailbox; the
//     other fileinto targets are copies), the message taking that
//     fileinto's flags first.
//   - discard (no keep, no fileinto): a delete, that is a move to the
//     account's Trash; never an expunge.
//
// Copies are made after the flags change, so they carry the flags the
// message gets; a copy whose fileinto stores other flags has them in
// Decision.CopyFlags, which are set on the copy after it is made.
// \Deleted and \Recent are never changed. Unsupported actions
// (redirect...) change nothing.
func InPlace(out *Outcome, mailbox string, flags []string) rules.Decision {
	var d rules.Decision
	var keep *Action
	var stores []Action
	discard := false
	for i := range out.Actions {
		a := &out.Actions[i]
		switch {
		case a.Kind == ActionKeep, a.Kind == ActionFileinto && imap.MailboxEqual(a.Mailbox, mailbox):
			if keep == nil {
				keep = a
			}
		case a.Kind == ActionFileinto:
			stores = append(stores, *a)
		case a.Kind == ActionDiscard:
			discard = true
		}
	}
	var target []string
	var copies []Action
	switch {
	case keep != nil:
		target = keep.Flags
		copies = stores
	case len(stores) > 0:
		target = stores[0].Flags
		copies = stores[1:]
		d.Final = &rules.Final{Kind: rules.FinalMove, Mailbox: stores[0].Mailbox}
	case discard:
		d.Final = &rules.Final{Kind: rules.FinalDelete}
	default:
		target = flags
	}
	if d.Final == nil || d.Final.Kind == rules.FinalMove {
		for _, f := range target {
			if !containsFold(flags, f) && settable(f) {
				d.AddFlags = append(d.AddFlags, strings.Clone(canonicalFlag(f)))
			}
		}
		for _, f := range flags {
			if !containsFold(target, f) && settable(f) {
				// A copy: msg.Flags may live in the fetch buffer.
				d.RemoveFlags = append(d.RemoveFlags, strings.Clone(canonicalFlag(f)))
			}
		}
	}
	for _, st := range copies {
		d.Copies = append(d.Copies, st.Mailbox)
		own := ownFlags(st.Flags, target)
		if own != nil && d.CopyFlags == nil {
			d.CopyFlags = make([][]string, len(copies))
		}
		if own != nil {
			d.CopyFlags[len(d.Copies)-1] = own
		}
	}
	d.Matched = d.Final != nil || len(d.Copies) > 0 || len(d.AddFlags) > 0 || len(d.RemoveFlags) > 0
	return d
}

// ownFlags returns the flags a copy stored with flags is to have when they
// differ from kept, the flags the source message ends with (the copy is
// made from it): the settable ones, in their canonical spelling, non-nil
// even when empty. It returns nil when the copy may simply carry the
// source's flags.
func ownFlags(flags, kept []string) []string {
	own := []string{}
	for _, f := range flags {
		if settable(f) && !containsFold(own, f) {
			own = append(own, strings.Clone(canonicalFlag(f)))
		}
	}
	same := true
	for _, f := range own {
		same = same && containsFold(kept, f)
	}
	for _, f := range kept {
		same = same && (!settable(f) || containsFold(own, f))
	}
	if same {
		return nil
	}
	return own
}

// settable reports whether mailrules may set or clear a flag: not
// \Deleted (only discard removes messages, through Trash) nor \Recent
// (the server's), nor what is no flag at all (RFC 3501 section 2.3.2: a
// system flag or an atom keyword).
func settable(f string) bool {
	if strings.HasPrefix(f, `\`) {
		return canonicalFlag(f) != f || f == `\Seen` || f == `\Answered` || f == `\Flagged` || f == `\Draft`
	}
	if f == "" {
		return false
	}
	for _, r := range f {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"\]`, r) {
			return false
		}
	}
	return true
}

// canonicalFlag writes system flags in their RFC 3501 case.
func canonicalFlag(f string) string {
	for _, sys := range []string{`\Seen`, `\Answered`, `\Flagged`, `\Draft`} {
		if strings.EqualFold(f, sys) {
			return sys
		}
	}
	return f
}
