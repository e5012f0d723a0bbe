package rules

import (
	"time"

	"github.com/mailrules/mailrules/imap"
)

// Script is a rule written in another language than expr, such as a Sieve
// script (package sieve), which decides everything about a message at
// once. A Spec with a Script has no When and no actions of its own; it
// takes part in the rule order like any rule, with its Accounts,
// Mailboxes and Scope, and its decision merges into the Result as an expr
// rule's actions do.
type Script interface {
	// Needs says what the script reads.
	Needs() Needs
	// Decide runs the script over msg without I/O. An error means the
	// script could not finish: it then decides nothing.
	Decide(msg *Message, now time.Time) (Decision, error)
}

// Decision is what a Script decided for a message, in the terms of a
// message that already sits in a mailbox.
type Decision struct {
	Matched     bool     // the script did something: false for a plain implicit keep
	AddFlags    []string // flags the message gets before it is copied or moved
	RemoveFlags []string
	Copies      []string // "/"-separated mailboxes to copy to
	// CopyFlags, when not nil, has one entry per Copies entry: when not
	// nil, the flags that copy is to have (Target.OwnFlags), else the
	// source's.
	CopyFlags [][]string
	// Final is nil when the message stays; Rule is filled in by the caller.
	Final *Final
}

// applyScript runs a script rule and merges its decision into res. It
// reports whether processing ends (a final action).
func applyScript(r *rule, msg *Message, now time.Time, res *Result) bool {
	d, err := r.script.Decide(msg, now)
	if err != nil {
		res.Errors = append(res.Errors, &EvalError{Rule: r.name, Err: err})
		return false
	}
	if !d.Matched {
		return false
	}
	res.Matched = append(res.Matched, r.name)
	for _, f := range d.AddFlags {
		res.AddFlags, res.RemoveFlags = changeFlag(res.AddFlags, res.RemoveFlags, f, r.name)
	}
	for _, f := range d.RemoveFlags {
		res.RemoveFlags, res.AddFlags = changeFlag(res.RemoveFlags, res.AddFlags, f, r.name)
	}
	for i, mb := range d.Copies {
		if imap.MailboxEqual(mb, msg.Mailbox) || hasTarget(res.Copies, mb) {
			continue
		}
		t := Target{Mailbox: mb, Rule: r.name}
		if i < len(d.CopyFlags) && d.CopyFlags[i] != nil {
			t.OwnFlags, t.Flags = true, d.CopyFlags[i]
		}
		res.Copies = append(res.Copies, t)
	}
	if d.Final == nil {
		return false
	}
	if d.Final.Kind == FinalMove && imap.MailboxEqual(d.Final.Mailbox, msg.Mailbox) {
		return true
	}
	f := *d.Final
	f.Rule = r.name
	res.Final = &f
	return true
}

// compileScriptRule finishes a rule whose Spec has a Script: the
// condition and action fields must be empty.
func (c *compiler) compileScriptRule(sp *Spec, r *rule, before int) *rule {
	if sp.When != "" || sp.Move != "" || len(sp.Copy) > 0 || len(sp.Flag) > 0 || len(sp.Unflag) > 0 ||
		sp.Seen != nil || sp.Delete || sp.Expunge || sp.Stop {
		c.problem(sp, sp.Pos, "a script rule takes no when and no actions: the script decides")
	}
	if len(c.problems) > before {
		return nil
	}
	r.script = sp.Script
	r.needs = sp.Script.Needs()
	return r
}
