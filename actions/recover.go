package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/imap"
)

// wholeSetError is a refusal that concerns every message of a step, such as
// a destination that cannot be created: retrying with fewer messages would
// only repeat it.
type wholeSetError struct{ err error }

func (e *wholeSetError) Error() string { return e.err.Error() }
func (e *wholeSetError) Unwrap() error { return e.err }

// refused reports whether err is the server's refusal of one command (a
// tagged NO or BAD, *imap.Error): the connection is still fine, the plan can
// go on with other messages. Anything else (a broken connection, a
// cancelled context, a command the server lacks) stops the plan.
func refused(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && !errors.Is(err, imap.ErrAbort)
}

// wholeSet reports whether a refusal concerns the command as a whole, so
// that splitting the set would not help: a response code that names the
// destination or the account (RFC 5530), or a failed CREATE.
func wholeSet(err error) bool {
	var ws *wholeSetError
	if errors.As(err, &ws) {
		return true
	}
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return false
	}
	switch strings.ToUpper(ie.Code) {
	case "TRYCREATE", "NONEXISTENT", "NOPERM", "OVERQUOTA", "LIMIT", "CANNOT", "INUSE", "UNAVAILABLE", "READ-ONLY", "NOTSAVED":
		return true
	}
	return false
}

// live returns the messages of set that no earlier step failed or found
// gone.
func (ex *executor) live(set imap.SeqSet) imap.SeqSet {
	if len(ex.gone) == 0 {
		return set
	}
	var keep []uint32
	for uid := range set.All() {
		if !ex.gone[uid] {
			keep = append(keep, uid)
		}
	}
	return imap.SeqSetFromNums(keep...)
}

// failAll records that the server refused the action for every message of
// uids; err is returned when it is not a refusal (the plan cannot go on).
func (ex *executor) failAll(uids imap.SeqSet, err error) error {
	if !refused(err) {
		return err
	}
	if len(uids) == 0 {
		return nil
	}
	idx := ex.step.Step
	ex.report.Failed = append(ex.report.Failed, Failure{Step: idx, UIDs: uids, Err: err})
	if ex.gone == nil {
		ex.gone = make(map[uint32]bool)
	}
	for uid := range uids.All() {
		ex.gone[uid] = true
	}
	ex.log.Warn("the server refused an action; the messages stay where they are and are tried again on a later pass",
		zap.String("step", ex.plan.Steps[idx].String()), zap.Stringer("uids", uids), zap.Error(err))
	return nil
}

// vanish records messages that no longer exist in the source.
func (ex *executor) vanish(uids imap.SeqSet) {
	ex.report.Vanished = imap.SeqSetFromNums(append(ex.report.Vanished.Nums(), uids.Nums()...)...)
	if ex.gone == nil {
		ex.gone = make(map[uint32]bool)
	}
	for uid := range uids.All() {
		ex.gone[uid] = true
	}
	ex.log.Info("messages vanished before they could be acted on (expunged by another client)", zap.Stringer("uids", uids))
}

// attempt runs op, one command on set, and returns the messages it was
// carried out for. When the server refuses it, attempt finds out which
// messages still exist (another client may have expunged some: RFC 3501
// section 7.4.1, RFC 5530 EXPUNGEISSUED), retries with those, and then
// halves the set to isolate the messages the server refuses, so that one bad
// message never holds back the others; refused messages are recorded as
// failed. An error means the plan cannot go on.
func (ex *executor) attempt(ctx context.Context, set imap.SeqSet, op func(imap.SeqSet) error) (imap.SeqSet, error) {
	err := op(set)
	if err == nil {
		return set, nil
	}
	if !refused(err) {
		return nil, err
	}
	if wholeSet(err) {
		return nil, ex.failAll(set, err)
	}
	existing, serr := ex.stillThere(ctx, set)
	if serr != nil {
		return nil, serr
	}
	if n := existing.Count(); n < set.Count() {
		ex.vanish(difference(set, existing))
		if n == 0 {
			return nil, nil
		}
		set = existing
		if err = op(set); err == nil {
			return set, nil
		}
		if !refused(err) {
			return nil, err
		}
		if wholeSet(err) {
			return nil, ex.failAll(set, err)
		}
	}
	return ex.bisect(ctx, set, err, op)
}

// bisect isolates the messages of set that op fails for, after op failed
// for all of set with err: it tries each half; a half that fails is halved
// again, unless both halves fail, which means the refusal concerns them all.
// One bad message among n costs about 2*log2(n) commands.
func (ex *executor) bisect(ctx context.Context, set imap.SeqSet, err error, op func(imap.SeqSet) error) (imap.SeqSet, error) {
	nums := set.Nums()
	if len(nums) < 2 {
		return nil, ex.failAll(set, err)
	}
	halves := [2]imap.SeqSet{imap.SeqSetFromNums(nums[:len(nums)/2]...), imap.SeqSetFromNums(nums[len(nums)/2:]...)}
	var errs [2]error
	var done []uint32
	for i, h := range halves {
		errs[i] = op(h)
		switch {
		case errs[i] == nil:
			done = append(done, h.Nums()...)
		case !refused(errs[i]):
			return nil, errs[i]
		}
	}
	if errs[0] != nil && errs[1] != nil {
		if err := ex.failAll(set, errs[0]); err != nil {
			return nil, err
		}
		return imap.SeqSetFromNums(done...), nil
	}
	for i, h := range halves {
		if errs[i] == nil {
			continue
		}
		more, err := ex.bisect(ctx, h, errs[i], op)
		if err != nil {
			return nil, err
		}
		done = append(done, more.Nums()...)
	}
	return imap.SeqSetFromNums(done...), nil
}

// stillThere returns the messages of set still in the source mailbox: after
// a NOOP, which lets the server report expunges (RFC 3501 section 6.1.2),
// UID SEARCH UID set. Without an Inspector every message counts as there.
func (ex *executor) stillThere(ctx context.Context, set imap.SeqSet) (imap.SeqSet, error) {
	insp, ok := ex.mb.(Inspector)
	if !ok {
		return set, nil
	}
	ex.command()
	if err := insp.Noop(ctx); err != nil {
		if refused(err) {
			return set, nil
		}
		return nil, fmt.Errorf("NOOP after a refused command: %w", err)
	}
	ex.command()
	uids, err := insp.UIDSearch(ctx, &imap.SearchCriteria{UID: set})
	if err != nil {
		if refused(err) {
			return set, nil
		}
		return nil, fmt.Errorf("look up which of %s still exist: %w", short(set), err)
	}
	return intersect(imap.SeqSetFromNums(uids...), set), nil
}

// difference returns the numbers of a that are not in b.
func difference(a, b imap.SeqSet) imap.SeqSet {
	return merge(a, b, false)
}

// intersect returns the numbers of a that are also in b.
func intersect(a, b imap.SeqSet) imap.SeqSet {
	return merge(a, b, true)
}

// merge returns the numbers of a that are (in) or are not in b, walking
// both sorted, so that sets covering a whole mailbox cost linear time.
func merge(a, b imap.SeqSet, in bool) imap.SeqSet {
	an, bn := a.Nums(), b.Nums()
	slices.Sort(an)
	slices.Sort(bn)
	var out []uint32
	j := 0
	for _, n := range an {
		for j < len(bn) && bn[j] < n {
			j++
		}
		if (j < len(bn) && bn[j] == n) == in {
			out = append(out, n)
		}
	}
	return imap.SeqSetFromNums(out...)
}
