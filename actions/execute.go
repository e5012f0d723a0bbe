package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
	// Placed has, for each destination the server reported COPYUID for,
	// the UIDs the copied and moved messages got there: what mailrules
	// itself put into a mailbox, so that learning from the user's moves
	// (engine) can tell them apart.
	Placed map[string]Placed
}

// Placed are the UIDs messages got in one destination (COPYUID, RFC 4315
// section 3), under its UIDVALIDITY.
type Placed struct {
	UIDValidity uint32      `json:"uidvalidity"`
	UIDs        imap.SeqSet `json:"uids"`
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
	ex.step = nil
	if err := ex.setCopyFlags(ctx); err != nil {
		ex.finish()
		return ex.report, fmt.Errorf("actions on %q: %w", p.Mailbox, err)
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
	// looked are where destinations stood when dedupe asked STATUS.
	looked map[string]DestMark
	// started are the destinations OnCopyStart was called for.
	started map[string]bool
	// destUIDs map source UIDs to their copies' UIDs (COPYUID) while a
	// copy step with CopyFlags runs; copyFlags are the flags to set on
	// copies once every step ran (copyflags.go).
	destUIDs  map[uint32]uint32
	copyFlags []destFlags
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
