package actions

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/imap"
)

// run executes one step on the messages the earlier steps did not fail or
// find gone.
func (ex *executor) run(ctx context.Context, st *Step) error {
	uids := ex.live(st.UIDs)
	if len(uids) == 0 {
		return nil
	}
	switch st.Kind {
	case StepAddFlags, StepRemoveFlags:
		op, action := imap.StoreAdd, "flag"
		if st.Kind == StepRemoveFlags {
			op, action = imap.StoreRemove, "unflag"
		}
		extra := 0
		for _, f := range st.Flags {
			extra += len(f) + 1
		}
		for _, set := range uids.Chunks(extra) {
			done, err := ex.attempt(ctx, set, func(set imap.SeqSet) error { return ex.store(ctx, set, op, st.Flags) })
			if err != nil {
				return err
			}
			ex.done(st, done, action, strings.Join(st.Flags, " "))
		}
		return nil

	case StepCopy:
		dest := ex.destination(st)
		ex.step.Mailbox = dest
		if imap.MailboxEqual(dest, ex.plan.Mailbox) {
			ex.warn(fmt.Sprintf("not copying %d messages of %q into the same mailbox", uids.Count(), dest),
				zap.String("destination", dest), zap.Stringer("uids", uids))
			return nil
		}
		if err := ex.ensureMailbox(ctx, dest, false); err != nil {
			return ex.failAll(uids, err)
		}
		if len(st.CopyFlags) > 0 {
			ex.destUIDs = make(map[uint32]uint32)
			defer func() { ex.destUIDs = nil }()
		}
		_, err := ex.copyAll(ctx, st, uids, dest, "copy", false)
		if err == nil && len(st.CopyFlags) > 0 {
			ex.queueCopyFlags(st, dest)
		}
		return err

	case StepMove, StepDelete:
		dest := ex.destination(st)
		ex.step.Mailbox = dest
		if imap.MailboxEqual(dest, ex.plan.Mailbox) {
			if st.Kind == StepDelete {
				ex.warn(fmt.Sprintf("not deleting %d messages: %q is the Trash; they are left in place", uids.Count(), dest),
					zap.String("destination", dest), zap.Stringer("uids", uids))
			} else {
				ex.warn(fmt.Sprintf("not moving %d messages of %q into the same mailbox", uids.Count(), dest),
					zap.String("destination", dest), zap.Stringer("uids", uids))
			}
			return nil
		}
		if err := ex.ensureMailbox(ctx, dest, false); err != nil {
			return ex.failAll(uids, err)
		}
		return ex.move(ctx, st, uids, dest)

	case StepExpunge:
		marked, err := ex.markDeleted(ctx, uids)
		if err != nil {
			return err
		}
		return ex.expunge(ctx, st, marked, "expunge", "")
	}
	return fmt.Errorf("unknown step kind %q", st.Kind)
}

// move moves a step's messages to dest: UID MOVE (RFC 6851) when the server
// has it; otherwise UID COPY, UID STORE +FLAGS.SILENT (\Deleted), UID
// EXPUNGE (RFC 6851 section 3.3 describes this emulation). Messages whose
// copy the server refused are not marked \Deleted.
func (ex *executor) move(ctx context.Context, st *Step, uids imap.SeqSet, dest string) error {
	action := string(st.Kind)
	if ex.mb.Has(imap.CapMove) {
		toMove, present, err := ex.dedupe(ctx, dest, uids, true)
		if err != nil {
			return err
		}
		if len(present) > 0 {
			// Moved by an interrupted pass that the server did not get to
			// expunge from here: finish the move.
			ex.alreadyThere(present, dest)
			marked, err := ex.markDeleted(ctx, present)
			if err != nil {
				return err
			}
			if err := ex.expunge(ctx, st, marked, action+" (already there)", dest); err != nil {
				return err
			}
		}
		if len(toMove) > 0 && ex.opts.OnCopyStart != nil {
			if err := ex.copyStart(ctx, dest); err != nil {
				return err
			}
		}
		for _, set := range toMove.Chunks(2 * len(dest)) {
			done, err := ex.attempt(ctx, set, func(set imap.SeqSet) error {
				return ex.retryCreate(ctx, dest, func() error {
					ex.command()
					data, err := ex.mb.UIDMove(ctx, set, dest)
					ex.learn(dest, data)
					return err
				})
			})
			if err != nil {
				return err
			}
			ex.done(st, done, action, dest)
		}
		return nil
	}
	// Every copy completes strictly before any message is marked
	// \Deleted: a failure leaves the messages in the source.
	copied, err := ex.copyAll(ctx, st, uids, dest, "", true)
	if err != nil {
		return err
	}
	marked, err := ex.markDeleted(ctx, copied)
	if err != nil {
		return err
	}
	return ex.expunge(ctx, st, marked, action, dest)
}

// copyAll copies uids to dest, leaving out those the destination already
// holds (Options.Dedupe; move says the copy is part of a move), and returns
// the messages that are now in dest. With a non-empty action it logs each
// as done.
func (ex *executor) copyAll(ctx context.Context, st *Step, uids imap.SeqSet, dest, action string, move bool) (imap.SeqSet, error) {
	toCopy, present, err := ex.dedupe(ctx, dest, uids, move)
	if err != nil {
		return nil, err
	}
	var copied []uint32
	if len(present) > 0 {
		ex.alreadyThere(present, dest)
		copied = append(copied, present.Nums()...)
		if action != "" {
			ex.done(st, present, action+" (already there)", dest)
		}
	}
	if len(toCopy) > 0 && ex.opts.OnCopyStart != nil {
		if err := ex.copyStart(ctx, dest); err != nil {
			return nil, err
		}
	}
	for _, set := range toCopy.Chunks(2 * len(dest)) {
		done, err := ex.attempt(ctx, set, func(set imap.SeqSet) error { return ex.copy(ctx, set, dest) })
		if err != nil {
			return nil, err
		}
		copied = append(copied, done.Nums()...)
		if action != "" {
			ex.done(st, done, action, dest)
		}
	}
	return imap.SeqSetFromNums(copied...), nil
}

// alreadyThere records messages found in their destination already.
func (ex *executor) alreadyThere(uids imap.SeqSet, dest string) {
	ex.report.AlreadyCopied += uids.Count()
	ex.log.Info("already in the destination (put there by an earlier pass), not copied again",
		zap.String("destination", dest), zap.Stringer("uids", uids))
}

// markDeleted sets \Deleted on uids and returns the messages it was set on.
func (ex *executor) markDeleted(ctx context.Context, uids imap.SeqSet) (imap.SeqSet, error) {
	var marked []uint32
	for _, set := range uids.Chunks(0) {
		done, err := ex.attempt(ctx, set, func(set imap.SeqSet) error {
			return ex.store(ctx, set, imap.StoreAdd, []string{imap.FlagDeleted})
		})
		if err != nil {
			return nil, err
		}
		marked = append(marked, done.Nums()...)
	}
	return imap.SeqSetFromNums(marked...), nil
}

// expunge removes uids, already marked \Deleted: UID EXPUNGE of exactly
// them with UIDPLUS (RFC 4315 section 2.1); else a bare EXPUNGE only when
// allowed; else they stay marked \Deleted with a warning.
func (ex *executor) expunge(ctx context.Context, st *Step, uids imap.SeqSet, action, dest string) error {
	if len(uids) == 0 {
		return nil
	}
	sets := uids.Chunks(0)
	switch {
	case ex.mb.Has(imap.CapUIDPlus):
		for _, set := range sets {
			done, err := ex.attempt(ctx, set, func(set imap.SeqSet) error {
				ex.command()
				_, err := ex.mb.UIDExpunge(ctx, set)
				return err
			})
			if err != nil {
				return err
			}
			ex.done(st, done, action, dest)
		}
	case ex.opts.AllowExpunge:
		ex.command()
		if _, err := ex.mb.Expunge(ctx); err != nil {
			if !refused(err) {
				return err
			}
			return ex.failAll(uids, err)
		}
		ex.done(st, uids, action, dest)
	default:
		what := "moved"
		if st.Kind == StepExpunge {
			what = "to expunge"
		}
		ex.warn(fmt.Sprintf("server lacks UIDPLUS and bare EXPUNGE is not allowed: %d messages %s are left marked \\Deleted in %q",
			uids.Count(), what, ex.plan.Mailbox), zap.Stringer("uids", uids), zap.String("destination", dest))
		ex.done(st, uids, action+" (left \\Deleted)", dest)
	}
	return nil
}

// store sends one UID STORE +FLAGS.SILENT or -FLAGS.SILENT (RFC 3501
// section 6.4.6).
func (ex *executor) store(ctx context.Context, set imap.SeqSet, op imap.StoreOp, flags []string) error {
	ex.command()
	return ex.mb.UIDStore(ctx, set, op, true, flags)
}

// copy sends one UID COPY, creating dest and retrying once on NO [TRYCREATE].
func (ex *executor) copy(ctx context.Context, set imap.SeqSet, dest string) error {
	return ex.retryCreate(ctx, dest, func() error {
		ex.command()
		data, err := ex.mb.UIDCopy(ctx, set, dest)
		ex.learn(dest, data)
		if ex.destUIDs != nil && data != nil && data.UIDValidity != 0 {
			src, dst := data.SourceUIDs.Nums(), data.DestUIDs.Nums()
			for i := range min(len(src), len(dst)) {
				ex.destUIDs[src[i]] = dst[i]
			}
		}
		return err
	})
}

// done records that the server confirmed action for the messages of set:
// counts and one info log entry per message.
func (ex *executor) done(st *Step, set imap.SeqSet, action, dest string) {
	ex.step.Messages += set.Count()
	// A step caused by one rule (the usual case) needs no per-message
	// lookup; otherwise (UID, rule) pairs sorted by UID, flat, with no
	// allocation per message, since a step may cover a whole mailbox.
	single := len(st.Causes) == 1
	if !single && ex.stepRules == nil {
		for _, c := range st.Causes {
			for _, uid := range c.UIDs.Nums() {
				ex.stepRules = append(ex.stepRules, uidRule{uid, c.Rule})
			}
		}
		slices.SortStableFunc(ex.stepRules, func(a, b uidRule) int { return cmp.Compare(a.uid, b.uid) })
	}
	logging := ex.log.Core().Enabled(zap.InfoLevel)
	destination := zap.Skip()
	if dest != "" {
		destination = zap.String("destination", dest)
	}
	for uid := range set.All() {
		ex.ruleNames = ex.ruleNames[:0]
		if single {
			ex.ruleNames = append(ex.ruleNames, st.Causes[0].Rule)
		} else {
			i, _ := slices.BinarySearchFunc(ex.stepRules, uid, func(r uidRule, uid uint32) int { return cmp.Compare(r.uid, uid) })
			for ; i < len(ex.stepRules) && ex.stepRules[i].uid == uid; i++ {
				ex.ruleNames = append(ex.ruleNames, ex.stepRules[i].rule)
			}
		}
		for _, rule := range ex.ruleNames {
			ex.counted[rule] = append(ex.counted[rule], uid)
		}
		if logging {
			// The entry is encoded before Write returns, so one buffer of
			// fields and rule names serves every message: a pass logging
			// tens of thousands of actions makes no garbage per line.
			ex.fields = append(ex.fields[:0], zap.String("action", action), zap.Strings("rule", ex.ruleNames),
				zap.Uint32("uid", uid), zap.String("message_id", ex.plan.message(uid).MessageID), destination)
			if ce := ex.log.Check(zap.InfoLevel, "action"); ce != nil {
				ce.Write(ex.fields...)
			}
		}
	}
}

// uidRule is one (message, rule) pair of the step being executed.
type uidRule struct {
	uid  uint32
	rule string
}

// short abbreviates a UID set for error messages.
func short(set imap.SeqSet) string {
	s := set.String()
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
