package sieve

import (
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/internal/diag"
)

// ActionKind is what a Sieve action does to a message at delivery.
type ActionKind int

const (
	// ActionKeep stores the message in the mailbox it was delivered to
	// (RFC 5228 section 4.3), explicitly or as the implicit keep.
	ActionKeep ActionKind = iota
	// ActionFileinto stores the message in Action.Mailbox (RFC 5228 section 4.1).
	ActionFileinto
	// ActionDiscard drops the message (RFC 5228 section 4.4).
	ActionDiscard
	// ActionUnsupported is an action mailrules does not carry out because
	// it sends mail (redirect, reject, ereject, vacation, notify).
	ActionUnsupported
)

// Action is one action the script took, in the order it took them.
type Action struct {
	Kind ActionKind
	// Mailbox is the fileinto target, "/"-separated as written in the
	// script; "" for keep.
	Mailbox string
	// Flags are the IMAP flags the stored message gets (RFC 5232): the
	// :flags argument or the internal flag variable at that moment (for
	// the implicit keep, at the end of the script).
	Flags []string
	// Copy is true for fileinto :copy (RFC 3894).
	Copy bool
	// Implicit is true for the implicit keep.
	Implicit bool
	// Name is the command (for unsupported actions) and Pos where it is.
	Name string
	Pos  diag.Position
}

// String describes the action: "keep", "fileinto "X" flags \Seen",
// "discard", "redirect (unsupported)".
func (a Action) String() string {
	var s string
	switch a.Kind {
	case ActionKeep:
		s = "keep"
		if a.Implicit {
			s = "implicit keep"
		}
	case ActionFileinto:
		s = fmt.Sprintf("fileinto %q", a.Mailbox)
		if a.Copy {
			s = fmt.Sprintf("fileinto :copy %q", a.Mailbox)
		}
	case ActionDiscard:
		return "discard"
	case ActionUnsupported:
		return fmt.Sprintf("%s at %s: not carried out (mailrules does not send mail)", a.Name, a.Pos)
	}
	if len(a.Flags) > 0 {
		s += " flags " + strings.Join(a.Flags, " ")
	}
	return s
}

// Outcome is what a script decided for one message, in Sieve's terms: the
// actions as Pigeonhole would carry them out at delivery.
type Outcome struct {
	// Actions are the stores (keep, fileinto; each mailbox once), discard
	// and unsupported actions, in order; the implicit keep last when it
	// remains.
	Actions []Action
}

// Keeps reports whether the message stays: an explicit or implicit keep.
func (o *Outcome) Keeps() bool {
	for _, a := range o.Actions {
		if a.Kind == ActionKeep {
			return true
		}
	}
	return false
}

// String lists the actions separated by "; ".
func (o *Outcome) String() string {
	parts := make([]string, len(o.Actions))
	for i, a := range o.Actions {
		parts[i] = a.String()
	}
	return strings.Join(parts, "; ")
}
