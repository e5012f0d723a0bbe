package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"

	"github.com/mailrules/mailrules/imap"
)

// Evaluate runs the rules over msg in order and returns what they decided.
// It does no I/O and does not keep msg. now is the time of the pass ("now"
// and "age" in rules). Rules with scope "new" skip messages whose New is
// false; with msg.FlagsChanged only the rules with "flags" in on run, and
// otherwise only those with "arrival" in on. A rule that fails at run time is recorded in Result.Errors and does
// nothing; the following rules still run.
//
// A rule that reaches classify(name) without a verdict from name in
// msg.Verdicts stops the evaluation: the Result then has only Need set,
// and nothing any rule decided counts (see classify.go).
//
// A move (or copy) to the mailbox the message is already in would make it
// arrive again as new mail and loop, so it is ignored: a move there ends
// processing without a final action, a copy there is dropped.
func (s *Set) Evaluate(msg *Message, now time.Time) Result {
	var res Result
	if len(s.rules) == 0 {
		return res
	}
	st, _ := s.shared.pool.Get().(*evalState)
	if st == nil {
		st = &evalState{}
	}
	st.env.dec = s.shared.dec
	st.env.body = s.shared.limit
	st.env.reset(msg, now)
	defer func() {
		st.env.reset(nil, time.Time{})
		s.shared.pool.Put(st)
	}()

	for _, r := range s.rules {
		if !r.runsFor(msg) {
			continue
		}
		if r.script != nil {
			if applyScript(r, msg, now, &res) {
				break
			}
			continue
		}
		out, err := st.vm.Run(r.when, &st.env)
		if need := neededVerdict(err); need != "" {
			return Result{Need: need}
		}
		if err != nil {
			res.Errors = append(res.Errors, &EvalError{Rule: r.name, Err: runtimeError("when", err)})
			continue
		}
		if ok, _ := out.(bool); !ok {
			continue
		}
		var copies []string
		var dest string
		var failed error
		for _, t := range r.copies {
			mb, err := t.expand(&st.vm, &st.env)
			if err != nil {
				failed = err
				break
			}
			copies = append(copies, mb)
		}
		if failed == nil && r.move != nil {
			dest, failed = r.move.expand(&st.vm, &st.env)
		}
		if need := neededVerdict(failed); need != "" {
			return Result{Need: need}
		}
		if failed != nil {
			res.Errors = append(res.Errors, &EvalError{Rule: r.name, Err: failed})
			continue
		}
		res.Matched = append(res.Matched, r.name)
		for _, f := range r.addFlags {
			res.AddFlags, res.RemoveFlags = changeFlag(res.AddFlags, res.RemoveFlags, f, r.name)
		}
		for _, f := range r.removeFlags {
			res.RemoveFlags, res.AddFlags = changeFlag(res.RemoveFlags, res.AddFlags, f, r.name)
		}
		for _, mb := range copies {
			if imap.MailboxEqual(mb, msg.Mailbox) || hasTarget(res.Copies, mb) {
				continue
			}
			res.Copies = append(res.Copies, Target{Mailbox: mb, Rule: r.name})
		}
		if r.hasFinal {
			switch r.final {
			case FinalMove:
				if !imap.MailboxEqual(dest, msg.Mailbox) {
					res.Final = &Final{Kind: FinalMove, Mailbox: dest, Rule: r.name}
				}
			default:
				res.Final = &Final{Kind: r.final, Rule: r.name}
			}
			break
		}
		if r.stop {
			break
		}
	}
	return res
}

// neededVerdict returns the classifier whose missing verdict stopped an
// evaluation with err, or "".
func neededVerdict(err error) string {
	var nv *NeedVerdictError
	if err != nil && errors.As(err, &nv) {
		return nv.Classifier
	}
	return ""
}

// runtimeError makes expr's multi-line run-time error a one-line one that
// says where in the expression it happened.
func runtimeError(what string, err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fmt.Errorf("%s: %s (column %d)", what, fe.Message, fe.Column+1)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// changeFlag adds flag to list (unless there already) and takes it off the
// opposite list, so that the later rule wins.
func changeFlag(list, opposite []FlagChange, flag, rule string) ([]FlagChange, []FlagChange) {
	for i := 0; i < len(opposite); i++ {
		if opposite[i].Flag == flag {
			opposite = append(opposite[:i], opposite[i+1:]...)
			i--
		}
	}
	for _, fc := range list {
		if fc.Flag == flag {
			return list, opposite
		}
	}
	return append(list, FlagChange{Flag: flag, Rule: rule}), opposite
}

func hasTarget(list []Target, mb string) bool {
	for _, t := range list {
		if t.Mailbox == mb {
			return true
		}
	}
	return false
}

// HasActions reports whether the result changes anything: a flag to add or
// remove, a copy or a final action. Matched rules alone change nothing.
func (r Result) HasActions() bool {
	return len(r.AddFlags) > 0 || len(r.RemoveFlags) > 0 || len(r.Copies) > 0 || r.Final != nil
}

// String summarises a result in one line, e.g. "flag \Flagged; copy Backup;
// move Lists/go".
func (r Result) String() string {
	var parts []string
	for _, f := range r.AddFlags {
		parts = append(parts, "flag "+f.Flag)
	}
	for _, f := range r.RemoveFlags {
		parts = append(parts, "unflag "+f.Flag)
	}
	for _, c := range r.Copies {
		switch {
		case c.OwnFlags && len(c.Flags) == 0:
			parts = append(parts, "copy "+c.Mailbox+" with no flags")
		case c.OwnFlags:
			parts = append(parts, "copy "+c.Mailbox+" with flags "+strings.Join(c.Flags, " "))
		default:
			parts = append(parts, "copy "+c.Mailbox)
		}
	}
	if r.Final != nil {
		switch r.Final.Kind {
		case FinalMove:
			parts = append(parts, "move "+r.Final.Mailbox)
		default:
			parts = append(parts, r.Final.Kind.String())
		}
	}
	if len(parts) == 0 {
		return "keep"
	}
	return strings.Join(parts, "; ")
}
