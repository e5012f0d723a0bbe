package actions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/imap"
)

// Mailbox is the subset of *imap.Client that executing a plan needs. The
// source mailbox must be selected read-write. A Mailbox that also has a
// Subscribe method (see Subscriber) can subscribe created mailboxes.
type Mailbox interface {
	Has(c imap.Cap) bool
	UIDStore(ctx context.Context, uids imap.SeqSet, op imap.StoreOp, silent bool, flags []string) error
	UIDCopy(ctx context.Context, uids imap.SeqSet, dest string) (*imap.CopyData, error)
	UIDMove(ctx context.Context, uids imap.SeqSet, dest string) (*imap.CopyData, error)
	UIDExpunge(ctx context.Context, uids imap.SeqSet) ([]uint32, error)
	Expunge(ctx context.Context) ([]uint32, error)
	Create(ctx context.Context, name string) error
	List(ctx context.Context, ref, pattern string) ([]*imap.ListData, error)
}

// Inspector is implemented by a Mailbox that can look around: find out
// which messages still exist after the server refused a command (NOOP, UID
// SEARCH), and compare a destination's messages with the source's before
// copying (STATUS, EXAMINE, UID FETCH, SELECT). *imap.Client is one. Without
// it, a refused command fails all its messages and copies are not checked.
type Inspector interface {
	Noop(ctx context.Context) error
	UIDSearch(ctx context.Context, criteria *imap.SearchCriteria) ([]uint32, error)
	Status(ctx context.Context, name string, items ...imap.StatusItem) (*imap.StatusData, error)
	Select(ctx context.Context, name string, opts *imap.SelectOptions) (*imap.MailboxStatus, error)
	Examine(ctx context.Context, name string) (*imap.MailboxStatus, error)
	UIDFetch(ctx context.Context, uids imap.SeqSet, items []imap.FetchItem, fn func(*imap.FetchMessage) error) error
}

// Subscriber is implemented by a Mailbox that can SUBSCRIBE (RFC 3501
// section 6.3.6).
type Subscriber interface {
	Subscribe(ctx context.Context, name string) error
}

// Options configure Execute. A nil *Options is the zero value.
type Options struct {
	// Delimiter is the server's hierarchy delimiter, as LIST reports it.
	// Empty: learned from the LIST that Execute sends when the plan has
	// destinations.
	Delimiter string
	// Prefix is the personal namespace prefix destinations go under, such
	// as "INBOX." (RFC 2342). Empty: none.
	Prefix string
	// Trash is the server's name of the mailbox deleted messages go to,
	// used as is. Empty: the mailbox LIST marks \Trash (RFC 6154), else an
	// existing "Trash" (under Prefix or not), else Prefix+"Trash", created.
	Trash string
	// AllowExpunge permits a bare EXPUNGE after a move or expunge when the
	// server lacks UIDPLUS. It also removes every other message marked
	// \Deleted in the mailbox, so it is an explicit account opt-in.
	AllowExpunge bool
	// Subscribe subscribes the mailboxes Execute creates.
	Subscribe bool
	// Skip, when set, is asked once per step before anything is sent;
	// returning true skips the step (it was done by an earlier, interrupted
	// run, as the engine's journal says).
	Skip func(step int) bool
	// OnStepDone, when set, is called after the server confirmed every
	// command of a step (with the step's index in Plan.Steps).
	OnStepDone func(step int)
	// Logger receives one info entry per message and action (rule, UID,
	// Message-ID, destination) and debug entries per command. Nil: no logs.
	Logger *zap.Logger
	// Dedupe, when set, is asked before messages are copied or moved into
	// a destination which of them an earlier pass may already have put
	// there (one that was interrupted, or for copies a repeated pass over
	// old mail), and from which UID of the destination on to look; move
	// says whether the step is a move. Those messages are compared with
	// the destination's by Message-ID and size (INTERNALDATE and size when
	// they have no Message-ID). A copy found there is not made again; a
	// message to move that is found there is expunged from the source
	// instead (UID EXPUNGE), which completes a move the server carried out
	// only half: Dovecot commits a large MOVE in batches, and a cut
	// connection can leave a batch copied but not expunged. Needs a
	// Mailbox that is also an Inspector; the source mailbox is selected
	// again afterwards.
	// The returned mark says from which UID of the destination on to look;
	// when its UIDVALIDITY is not the destination's any more, from 1.
	Dedupe func(dest string, move bool) (uids imap.SeqSet, from DestMark)
	// OnCopyStart, when set, is called before the first copy or move into
	// a destination with where the destination stands: its entry in
	// KnownDests, else its UIDNEXT and UIDVALIDITY (STATUS, RFC 3501
	// section 6.3.10; UIDNEXT 1 when the server does not say), so that a
	// journal can tell later which of the destination's messages this run
	// may have put there. An error stops Execute. Needs an Inspector.
	OnCopyStart func(dest string, mark DestMark) error
	// KnownDests are marks of destinations from earlier passes (see
	// Report.Dests): a UIDNEXT the destination has reached since. They
	// spare OnCopyStart a STATUS per destination and pass.
	KnownDests map[string]DestMark
	// UIDValidity, when not zero, is the source mailbox's UIDVALIDITY:
	// Execute stops with an error if selecting the source again (after a
	// Dedupe look-up) shows another one.
	UIDValidity uint32
	// Directory, when set, carries what one LIST "" "*" said about the
	// server's mailboxes (and what was created since) from one Execute to
	// the next on the same connection, so a daemon lists once, not once a
	// pass. A destination deleted meanwhile by another client is recreated
	// on the server's NO [TRYCREATE]. Nil: Execute lists when it needs to.
	Directory *Directory
}

// DestMark is where a destination mailbox stood: its UIDVALIDITY (0 when
// unknown) and a UIDNEXT, so that messages put there afterwards have UIDs
// from UIDNext on (RFC 3501 section 2.3.1.1).
type DestMark struct {
	UIDValidity uint32 `json:"uidvalidity,omitempty"`
	UIDNext     uint32 `json:"uidnext"`
}

// Directory remembers the mailboxes a server has, its delimiter and its
// Trash between Execute calls on one connection. The zero value is ready
// to use; it is not safe for concurrent use.
type Directory struct {
	listed   bool
	existing map[string]bool // mailboxKey(name) -> exists
	delim    string
	trash    string // server name of the Trash, once resolved
}

// Report says what Execute did.
type Report struct {
	// Mailbox is the source mailbox.
	Mailbox string
	// Steps has one entry per plan step, in order, up to the failed step
	// when Execute returns an error.
	Steps []StepReport
	// Rules counts, per rule, the messages it caused an action for that the
	// server confirmed.
	Rules map[string]int
	// Created lists the mailboxes created, parents first.
	Created []string
	// Warnings are things left undone on purpose, such as messages left
	// marked \Deleted because the server lacks UIDPLUS.
	Warnings []string
	// Commands is the number of IMAP commands sent, LIST and CREATE included.
	Commands int
	// Failed lists the messages whose action the server refused (a tagged
	// NO or BAD that did not go away when retried without the messages
	// that had vanished). They are still in the source mailbox; later
	// steps left them alone, earlier steps may have changed them.
	Failed []Failure
	// Vanished are messages another client expunged before the plan
	// reached them; nothing was done to them and nothing is lost.
	Vanished imap.SeqSet
	// AlreadyCopied counts the messages not copied again because the
	// destination already held them (see Options.Dedupe).
	AlreadyCopied int
	// Dests has, for each destination the server reported COPYUID for
	// (UIDPLUS, RFC 4315), its UIDVALIDITY and the UID after the highest
	// one the copies got: a mark for Options.KnownDests of a later pass.
	Dests map[string]DestMark
}

// Failure is a set of messages whose action the server refused.
type Failure struct {
	Step int         // index in Plan.Steps
	UIDs imap.SeqSet // the messages
	Err  error       // the server's answer
}

// FailedUIDs returns the UIDs of every failure, in one set.
func (r *Report) FailedUIDs() imap.SeqSet {
	var nums []uint32
	for _, f := range r.Failed {
		nums = append(nums, f.UIDs.Nums()...)
	}
	return imap.SeqSetFromNums(nums...)
}

// Messages returns the number of messages acted on per kind of action
// (the StepKind as a string: "add-flags", "copy", "move", ...), summed over
// the steps, for pass summaries. A message counts once per step.
func (r *Report) Messages() map[string]int {
	m := make(map[string]int)
	for _, sr := range r.Steps {
		if sr.Messages > 0 {
			m[string(sr.Kind)] += sr.Messages
		}
	}
	return m
}

// StepReport says what was done for one step.
type StepReport struct {
	// Step is the index in Plan.Steps.
	Step int
	Kind StepKind
	// Mailbox is the server's name of the destination, if any.
	Mailbox string
	// Messages is the number of messages the confirmed commands acted on.
	Messages int
	// Commands is the number of IMAP commands the step sent.
	Commands int
	// Skipped is set when Options.Skip skipped the step.
	Skipped bool
	// Done is set when the step completed (OnStepDone was called).
	Done bool
	// Warnings are this step's entries of Report.Warnings.
	Warnings []string
}

// StepError is the error Execute returns when it cannot go on: the
// connection failed, ctx ended, or a hook returned an error. Later steps did
// not run; the failed step may have completed some of its commands (see its
// StepReport). A server's refusal of a command is not a StepError: it is a
// Failure in the Report, and the plan goes on.
type StepError struct {
	Mailbox string // source mailbox
	Step    int    // index in Plan.Steps
	Desc    string // what the step does
	Err     error
}

// Error describes the failed step and the cause.
func (e *StepError) Error() string {
	return fmt.Sprintf("actions on %q: step %d (%s): %v", e.Mailbox, e.Step, e.Desc, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Execute carries out the plan on mb, whose selected mailbox must be
// p.Mailbox. When the server refuses a command (a tagged NO or BAD), the
// messages that vanished meanwhile are left out and the command retried,
// then the set is halved until the refused messages are isolated; those are
// reported in Report.Failed, left alone by later steps, and the plan goes
// on. Execute returns a *StepError, with the report so far, only when it
// cannot go on. It always returns a non-nil Report.
func (p *Plan) Execute(ctx context.Context, mb Mailbox, opts *Options) (*Report, error) {
	ex := &executor{
		plan:    p,
		mb:      mb,
		report:  &Report{Mailbox: p.Mailbox, Rules: make(map[string]int)},
		counted: make(map[string][]uint32),
	}
	if opts != nil {
		ex.opts = *opts
	}
	ex.dir = ex.opts.Directory
	if ex.dir == nil {
		ex.dir = &Directory{}
	}
	if ex.dir.existing == nil {
		ex.dir.existing = make(map[string]bool)
	}
	ex.log = ex.opts.Logger
	if ex.log == nil {
		ex.log = zap.NewNop()
	}
	ex.log = ex.log.With(zap.String("mailbox", p.Mailbox))
	ex.delim = ex.opts.Delimiter

	skip := make([]bool, len(p.Steps))
	needList := false
	for i := range p.Steps {
		st := &p.Steps[i]
		if ex.opts.Skip != nil && ex.opts.Skip(i) {
			skip[i] = true
			continue
		}
		switch st.Kind {
		case StepCopy, StepMove:
			if MailboxName(st.Mailbox, "/", "") == "" {
				return ex.report, &StepError{Mailbox: p.Mailbox, Step: i, Desc: st.String(), Err: errors.New("empty destination mailbox")}
			}
			needList = true
		case StepDelete:
			needList = true
		case StepAddFlags, StepRemoveFlags, StepExpunge:
		default:
			return ex.report, &StepError{Mailbox: p.Mailbox, Step: i, Desc: st.String(), Err: fmt.Errorf("unknown step kind %q", st.Kind)}
		}
	}
	if ex.dir.listed {
		ex.delim = ex.dir.delim
	} else if needList {
		if err := ex.listMailboxes(ctx); err != nil {
			return ex.report, fmt.Errorf("actions on %q: %w", p.Mailbox, err)
		}
		ex.dir.listed, ex.dir.delim = true, ex.delim
	}

	for i := range p.Steps {
		st := &p.Steps[i]
		sr := StepReport{Step: i, Kind: st.Kind}
		if skip[i] {
			sr.Skipped = true
			ex.report.Steps = append(ex.report.Steps, sr)
			continue
		}
		ex.report.Steps = append(ex.report.Steps, sr)
		ex.step = &ex.report.Steps[len(ex.report.Steps)-1]
		ex.stepRules = nil
		err := ctx.Err()
		if err == nil {
			err = ex.run(ctx, st)
		}
		if err != nil {
			ex.finish()
			return ex.report, &StepError{Mailbox: p.Mailbox, Step: i, Desc: st.String(), Err: err}
		}
		ex.step.Done = true
		if ex.opts.OnStepDone != nil {
			ex.opts.OnStepDone(i)
		}
	}
	ex.finish()
	return ex.report, nil
}

// finish fills in the per-rule counts of the report.
func (ex *executor) finish() {
	ex.step = nil
	for rule, uids := range ex.counted {
		slices.Sort(uids)
		ex.report.Rules[rule] = len(slices.Compact(uids))
	}
}

// executor holds the state of one Execute call.
type executor struct {
	plan    *Plan
	mb      Mailbox
	opts    Options
	log     *zap.Logger
	report  *Report
	step    *StepReport // the step being executed
	delim   string
	dir     *Directory          // Options.Directory, or one for this call
	counted map[string][]uint32 // rule -> UIDs acted on, with repeats
	// stepRules are the (UID, rule) pairs of the step being executed,
	// sorted by UID; built on first use.
	stepRules []uidRule
	// gone are the messages a step failed or found expunged: later steps
	// leave them alone.
	gone map[uint32]bool
	// started are the destinations OnCopyStart was called for.
	started   map[string]bool
	ruleNames []string    // scratch for one log entry
	fields    []zap.Field // likewise
}

// command accounts for one IMAP command about to be sent.
func (ex *executor) command() {
	ex.report.Commands++
	if ex.step != nil {
		ex.step.Commands++
	}
}

// warn records a warning in the report and the log.
func (ex *executor) warn(msg string, fields ...zap.Field) {
	ex.report.Warnings = append(ex.report.Warnings, msg)
	if ex.step != nil {
		ex.step.Warnings = append(ex.step.Warnings, msg)
	}
	ex.log.Warn(msg, fields...)
}

// listMailboxes learns the existing mailboxes, the delimiter when not
// configured, and the Trash, with one LIST "" "*" (RFC 3501 section 6.3.8).
func (ex *executor) listMailboxes(ctx context.Context) error {
	ex.command()
	list, err := ex.mb.List(ctx, "", "*")
	if err != nil {
		return fmt.Errorf("LIST \"\" \"*\": %w", err)
	}
	specialTrash := ""
	for _, l := range list {
		if l.HasAttr(`\NonExistent`) {
			continue
		}
		ex.dir.existing[mailboxKey(l.Name)] = true
		if ex.opts.Delimiter == "" && ex.delim == "" && l.Delim != "" {
			ex.delim = l.Delim
		}
		if specialTrash == "" && l.HasAttr(`\Trash`) && !l.HasAttr(`\Noselect`) {
			specialTrash = l.Name
		}
	}
	switch {
	case ex.opts.Trash != "":
		ex.dir.trash = ex.opts.Trash
	case specialTrash != "":
		ex.dir.trash = specialTrash
	case ex.opts.Prefix != "" && ex.dir.existing[ex.opts.Prefix+"Trash"]:
		ex.dir.trash = ex.opts.Prefix + "Trash"
	case ex.dir.existing["Trash"]:
		ex.dir.trash = "Trash"
	default:
		ex.dir.trash = MailboxName("Trash", ex.delim, ex.opts.Prefix)
	}
	return nil
}

// destination maps a step's destination to the server's name.
func (ex *executor) destination(st *Step) string {
	if st.Kind == StepDelete {
		return ex.dir.trash
	}
	return MailboxName(st.Mailbox, ex.delim, ex.opts.Prefix)
}

// ensureMailbox creates name, and its missing parents first, unless it is
// known to exist. With force it creates name even if it was thought to exist
// (after a NO [TRYCREATE]).
func (ex *executor) ensureMailbox(ctx context.Context, name string, force bool) error {
	if !force && ex.dir.existing[mailboxKey(name)] {
		return nil
	}
	// RFC 3501 section 6.3.3: a server SHOULD create missing superiors
	// itself, but not all do; create them first.
	var parentErr error
	for _, parent := range parents(name, ex.delim) {
		if ex.dir.existing[mailboxKey(parent)] {
			continue
		}
		if err := ex.create(ctx, parent); err != nil && parentErr == nil {
			parentErr = err
		}
	}
	if err := ex.create(ctx, name); err != nil {
		if parentErr != nil {
			return fmt.Errorf("%w (creating a parent: %v)", err, parentErr)
		}
		return err
	}
	return nil
}

// create sends one CREATE; a NO [ALREADYEXISTS] (RFC 5530) counts as done.
func (ex *executor) create(ctx context.Context, name string) error {
	ex.command()
	err := ex.mb.Create(ctx, name)
	var ie *imap.Error
	if err != nil && errors.As(err, &ie) && strings.EqualFold(ie.Code, "ALREADYEXISTS") {
		ex.dir.existing[mailboxKey(name)] = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("mailbox %q: %w", name, err)
	}
	ex.dir.existing[mailboxKey(name)] = true
	ex.report.Created = append(ex.report.Created, name)
	ex.log.Info("created mailbox", zap.String("destination", name))
	if ex.opts.Subscribe {
		sub, ok := ex.mb.(Subscriber)
		if !ok {
			ex.warn(fmt.Sprintf("cannot subscribe %q: the client has no SUBSCRIBE", name), zap.String("destination", name))
			return nil
		}
		ex.command()
		if err := sub.Subscribe(ctx, name); err != nil {
			ex.warn(fmt.Sprintf("SUBSCRIBE %q failed: %v", name, err), zap.String("destination", name))
		}
	}
	return nil
}

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
			ex.warn(fmt.Sprintf("not copying %d messages of %q into the same mailbox", setCount(uids), dest),
				zap.String("destination", dest), zap.Stringer("uids", uids))
			return nil
		}
		if err := ex.ensureMailbox(ctx, dest, false); err != nil {
			return ex.failAll(uids, err)
		}
		_, err := ex.copyAll(ctx, st, uids, dest, "copy", false)
		return err

	case StepMove, StepDelete:
		dest := ex.destination(st)
		ex.step.Mailbox = dest
		if imap.MailboxEqual(dest, ex.plan.Mailbox) {
			if st.Kind == StepDelete {
				ex.warn(fmt.Sprintf("not deleting %d messages: %q is the Trash; they are left in place", setCount(uids), dest),
					zap.String("destination", dest), zap.Stringer("uids", uids))
			} else {
				ex.warn(fmt.Sprintf("not moving %d messages of %q into the same mailbox", setCount(uids), dest),
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
	ex.report.AlreadyCopied += setCount(uids)
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
			setCount(uids), what, ex.plan.Mailbox), zap.Stringer("uids", uids), zap.String("destination", dest))
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
		return err
	})
}

// learn notes in the report where dest stands after a copy or move the
// server answered with COPYUID.
func (ex *executor) learn(dest string, data *imap.CopyData) {
	if data == nil || data.UIDValidity == 0 || len(data.DestUIDs) == 0 {
		return
	}
	var top uint32
	for _, r := range data.DestUIDs {
		top = max(top, r.Start, r.Stop)
	}
	if ex.report.Dests == nil {
		ex.report.Dests = make(map[string]DestMark)
	}
	mark := ex.report.Dests[dest]
	if mark.UIDValidity != data.UIDValidity {
		mark = DestMark{UIDValidity: data.UIDValidity}
	}
	mark.UIDNext = max(mark.UIDNext, top+1)
	ex.report.Dests[dest] = mark
}

// retryCreate runs do; when it fails with NO [TRYCREATE] (RFC 3501 section
// 6.4.7) it creates dest and runs do once more. A failed CREATE concerns
// every message of the step, not just this set: it comes back as a
// wholeSetError.
func (ex *executor) retryCreate(ctx context.Context, dest string, do func() error) error {
	err := do()
	if err == nil || !imap.IsTryCreate(err) {
		return err
	}
	ex.log.Info("destination missing, creating it", zap.String("destination", dest))
	if cerr := ex.ensureMailbox(ctx, dest, true); cerr != nil {
		return &wholeSetError{cerr}
	}
	return do()
}

// done records that the server confirmed action for the messages of set:
// counts and one info log entry per message.
func (ex *executor) done(st *Step, set imap.SeqSet, action, dest string) {
	ex.step.Messages += setCount(set)
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
