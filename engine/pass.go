package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// maxAttempts is how many passes try a message whose actions the server
// refuses before mailrules gives up on it (and says so in the log).
const maxAttempts = 5

// stopGrace is how long a pass may go on after a signal: the batch in
// flight is finished if the server answers within it, else the command
// waiting is interrupted (the journal makes that safe).
const stopGrace = 5 * time.Second

// bodyLimit caps how much of a message is fetched when a rule reads the
// body or attachments: BODY.PEEK[]<0.bodyLimit>.
const bodyLimit = 1 << 20

// afterGrace returns a context that ctx's cancellation reaches only grace
// later, so that work in flight can finish first.
func afterGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(work, func() { t.Stop() })
	})
	return work, func() {
		stop()
		cancel()
	}
}

// PassSummary is what one pass over one mailbox did.
type PassSummary struct {
	Account, Mailbox string
	// Examined counts the messages evaluated.
	Examined int
	// Matched counts, per rule name, the messages whose condition held.
	Matched map[string]int
	// Actions counts the messages per plan step kind that were acted on.
	Actions map[string]int
	// Errors counts rule evaluation failures.
	Errors int
	// Failed counts the messages whose actions the server refused; they
	// are tried again on later passes. GaveUp counts those tried
	// maxAttempts times, now left alone. Vanished counts messages another
	// client expunged before their actions ran.
	Failed, GaveUp, Vanished int
	// Classified and ClassifyErrors count, per classifier, the verdicts
	// obtained and the calls that gave none. Deferred counts the messages
	// left untouched for a later pass for want of a verdict.
	Classified, ClassifyErrors map[string]int
	Deferred                   int
	// Elapsed is the wall time of the pass; Fetch and Act the parts spent
	// fetching and evaluating, and carrying out the plan.
	Elapsed, Fetch, Act time.Duration
}

// pass evaluates the rules over one mailbox (as the config names it) and
// carries out the decisions. When ctx is cancelled it goes on for up to
// stopGrace, so that the batch in flight can finish; the state is exact
// either way.
func (s *session) pass(ctx context.Context, mailbox string) (sum *PassSummary, err error) {
	start := time.Now()
	e := s.e
	defer func() { e.opts.Metrics.observePass(s.acct.Name, mailbox, sum, err, time.Since(start)) }()
	defer func() { e.passEnded(s.acct.Name, mailbox, sum, err, time.Since(start)) }()
	p := &mailboxPass{
		session: s,
		mailbox: mailbox,
		log:     s.log.With(zap.String("mailbox", mailbox)),
		rules:   e.config().Rules.For(s.acct.Name, mailbox),
		sum: &PassSummary{Account: s.acct.Name, Mailbox: mailbox, Matched: map[string]int{}, Actions: map[string]int{},
			Classified: map[string]int{}, ClassifyErrors: map[string]int{}},
	}
	defer func() { p.sum.Elapsed = time.Since(start) }()
	if p.rules.Len() == 0 {
		p.log.Debug("no rule applies to this mailbox")
		return p.sum, nil
	}
	// Finish the batch in flight after a signal, within stopGrace.
	work, cancel := afterGrace(ctx, stopGrace)
	defer cancel()

	idle, err := p.prepare(work)
	if err != nil || idle {
		return p.sum, err
	}
	set, old, err := p.fetchSet(work)
	if err != nil || set == nil {
		return p.sum, err
	}
	plan, maxUID, err := p.evaluate(work, set, old)
	if err != nil {
		return p.sum, err
	}
	if e.opts.DryRun {
		e.printPlan(fmt.Sprintf("== %s / %s (dry run: nothing changed)", s.acct.Name, mailbox), plan)
	} else if err := p.act(work, plan, maxUID); err != nil {
		return p.sum, err
	}
	p.sum.Elapsed = time.Since(start)
	s.logSummary(p.log, p.sum)
	return p.sum, nil
}

// mailboxPass is the state of one pass over one mailbox.
type mailboxPass struct {
	*session
	mailbox string
	log     *zap.Logger
	rules   *rules.Set
	sum     *PassSummary

	server  string              // the mailbox's server name
	st      MailboxState        // the recorded state, as updated by the pass
	known   bool                // st was recorded before (and UIDVALIDITY held)
	full    bool                // every message is looked at (--all, or an unfinished one)
	status  *imap.MailboxStatus // from SELECT (or EXAMINE)
	now     time.Time           // "now" for the rules
	journal *Journal            // left by an interrupted batch, or nil
	retry   imap.SeqSet         // old messages to try again (st.Retry, st.Deferred and st.DeferredOld)
	// oldAgain are those of retry that are evaluated as old mail (st.DeferredOld).
	oldAgain imap.SeqSet
	seen     map[uint32]bool // which old messages the fetch returned
	// exists answers rules.Message.MailboxExists, from one LIST before
	// the fetch; nil when no rule asks.
	exists func(path string) bool

	// undecided are the messages whose rules reached classify() without
	// a verdict; deferred those still without one after asking.
	undecided             []undecided
	deferred, deferredOld []uint32
}

// prepare loads the state and opens the mailbox; idle is true when there is
// nothing to do. On a first pass (or after a UIDVALIDITY change) it records
// the baseline; a run --all is recorded as a full pass until it completes.
func (p *mailboxPass) prepare(ctx context.Context) (idle bool, err error) {
	e := p.e
	if p.st, p.known, err = e.store.Get(p.acct.Name, p.mailbox); err != nil {
		return false, err
	}
	if p.server, err = p.serverName(ctx, p.mailbox); err != nil {
		return false, err
	}
	p.full = e.opts.All || p.st.FullPass
	quiet := p.known && p.st.Pending == nil && len(p.st.Retry) == 0 && len(p.st.Deferred) == 0 && len(p.st.DeferredOld) == 0 && !p.full && !p.rules.HasScopeAll()
	if quiet && !p.watching && p.selected != p.server {
		// A cron run over a mailbox with no new mail: one STATUS instead
		// of a SELECT, which costs the server a sync of the whole mailbox.
		// Not in watch, which waits in the selected mailbox next.
		unchanged, err := p.unchanged(ctx, p.server, p.st)
		if err != nil || unchanged {
			if unchanged {
				p.log.Debug("nothing new", zap.Uint32("highest_uid", p.st.HighestUID))
			}
			return unchanged, err
		}
	}
	if p.status, err = p.open(ctx, p.server); err != nil {
		return false, err
	}
	if p.known && p.st.UIDValidity == 0 {
		// Only the wish for a full pass was recorded (recordFullPass):
		// the mailbox was never opened.
		p.known = false
	}
	if p.known && p.st.UIDValidity != p.status.UIDValidity {
		p.log.Warn("UIDVALIDITY changed: the server renumbered this mailbox; existing mail is left alone and only mail arriving from now on is treated as new",
			zap.Uint32("old", p.st.UIDValidity), zap.Uint32("new", p.status.UIDValidity))
		p.known = false
	}
	if !p.known {
		last, err := p.lastUID(ctx, p.status)
		if err != nil {
			return false, err
		}
		// The flag passes' state (flags.go) checks its own UIDVALIDITY.
		p.st = MailboxState{UIDValidity: p.status.UIDValidity, HighestUID: last, FullPass: p.full, Flags: p.st.Flags}
		if !e.opts.DryRun {
			if err := e.store.Put(p.acct.Name, p.mailbox, p.st); err != nil {
				return false, err
			}
		}
		if p.full && !e.opts.All {
			p.log.Info("completing a pass over every message (run --all) that did not finish")
		}
		if !p.full {
			p.log.Info("first pass over this mailbox: existing mail is left alone (run with --all to apply the rules to it)",
				zap.Uint32("messages", p.status.Exists), zap.Uint32("highest_uid", p.st.HighestUID))
		}
		return false, nil
	}
	switch {
	case e.opts.All && !p.st.FullPass && !e.opts.DryRun:
		// Remembered until the pass completes, so that a run --all that
		// fails half way is completed by the next pass, not forgotten.
		p.st.FullPass = true
		if err := e.store.Put(p.acct.Name, p.mailbox, p.st); err != nil {
			return false, err
		}
	case p.st.FullPass && !e.opts.All:
		p.log.Info("completing a pass over every message (run --all) that did not finish")
	}
	if j := p.st.Pending; j != nil {
		if j.UIDValidity != p.st.UIDValidity {
			p.log.Warn("dropping the journal of an interrupted batch from before a UIDVALIDITY change")
			p.st.Pending = nil
		} else {
			j.Attempts++
			p.journal = j
			p.log.Info("an earlier pass was interrupted while copying: its messages are evaluated again, and copies are checked against the destinations first",
				zap.Uint32("up_to_uid", j.HighestUID), zap.Int("attempt", j.Attempts))
		}
	}
	var retry []uint32
	for _, r := range p.st.Retry {
		retry = append(retry, r.UIDs.Nums()...)
	}
	retry = append(retry, p.st.Deferred.Nums()...)
	retry = append(retry, p.st.DeferredOld.Nums()...)
	p.oldAgain = p.st.DeferredOld
	p.retry = imap.SeqSetFromNums(retry...)
	return false, nil
}

// fetchSet decides which messages to fetch: everything in a full pass;
// with scope = "all" rules the new mail and the old messages the server finds
// for their SEARCH prefilter; otherwise the new mail. Messages to try again
// come along. It returns a nil set when the server says nothing is new.
func (p *mailboxPass) fetchSet(ctx context.Context) (set imap.SeqSet, old *sweepScope, err error) {
	e, highest := p.e, p.st.HighestUID
	p.now = e.opts.Now()
	switch {
	case p.full:
		return imap.SeqSet{{Start: 1, Stop: 0}}, &sweepScope{all: true}, nil
	case p.rules.HasScopeAll():
		// Ask the server which old messages the scope = "all" rules could
		// match, rather than fetching the whole mailbox every pass.
		set, old, err = p.sweepSet(ctx, p.rules.SweepFilter(p.now), highest)
		if err != nil || old.all {
			return set, old, err
		}
	case p.status.UIDNext != 0 && p.status.UIDNext <= highest+1 && len(p.retry) == 0:
		p.log.Debug("nothing new", zap.Uint32("highest_uid", highest))
		return nil, nil, nil
	default:
		set, old = imap.SeqSet{{Start: highest + 1, Stop: 0}}, &sweepScope{}
	}
	if len(p.retry) > 0 {
		old.hits = slices.Compact(slices.Sorted(slices.Values(append(old.hits, p.retry.Nums()...))))
		set = append(slices.Clone(p.retry), set...)
	}
	return set, old, nil
}

// evaluate fetches set and evaluates the rules on each message as it
// streams in, folding the decisions into a plan. old says which messages at
// or below the highest UID handled are looked at; maxUID is the highest UID
// seen.
func (p *mailboxPass) evaluate(ctx context.Context, set imap.SeqSet, old *sweepScope) (plan *actions.Plan, maxUID uint32, err error) {
	e, sum, highest := p.e, p.sum, p.st.HighestUID
	items, headerOnly := fetchItems(PassNeeds(p.rules), e.opts.DryRun, e.opts.All || p.rules.HasScopeAll())
	// Decisions are folded into the plan as the fetch streams, so memory
	// holds the batched UID lists, not every message's decision.
	builder := actions.NewBuilder(p.server)
	maxUID = highest
	if p.exists, err = p.mailboxExists(ctx); err != nil {
		return nil, 0, err
	}
	msg := rules.Message{Account: p.acct.Name, Mailbox: p.mailbox, MailboxExists: p.exists}
	fetchStart := time.Now()
	flagsKnown := slices.Contains(items, imap.FetchFlags)
	p.seen = make(map[uint32]bool)
	onMessage := func(m *imap.FetchMessage) error {
		isNew := p.full || m.UID > highest || (p.retry.Contains(m.UID) && !p.oldAgain.Contains(m.UID))
		// "UID n:*" also returns the last message when n is past it
		// (RFC 3501 section 6.4.8), so filter here.
		if m.UID == 0 || (!isNew && !old.includes(m.UID)) {
			return nil
		}
		maxUID = max(maxUID, m.UID)
		if m.UID <= highest {
			p.seen[m.UID] = true
		}
		if slices.Contains(m.Flags, imap.FlagDeleted) && !p.ours(m.UID) {
			// Being deleted by another client (or left so by our own move
			// on a server without UIDPLUS): acting on it again would
			// duplicate it.
			return nil
		}
		msg.UID, msg.Flags, msg.InternalDate, msg.Size, msg.New = m.UID, m.Flags, m.InternalDate, m.Size, isNew
		// The one body section fetched: the header fields, or the whole
		// message, from which the rules (and decide) take the header.
		var data []byte
		if len(m.Sections) > 0 {
			data = m.Sections[0].Data
		}
		msg.Header, msg.Raw = data, nil
		if !headerOnly {
			msg.Header, msg.Raw = nil, data
		}
		res := p.rules.Evaluate(&msg, p.now)
		sum.Examined++
		if res.Need != "" {
			// A rule reached classify(): decided after the fetch, on the
			// whole message, with the verdict.
			p.undecided = append(p.undecided, undecided{uid: m.UID, isNew: isNew, size: m.Size})
			return nil
		}
		p.record(m.UID, data, m.Flags, flagsKnown, res, builder)
		return nil
	}
	// A long UID set (scattered sweep matches) is fetched in pieces so no
	// command line exceeds about 8 KB.
	for _, piece := range set.Chunks(0) {
		if err := p.client.UIDFetch(ctx, piece, items, onMessage); err != nil {
			return nil, 0, p.note(fmt.Errorf("fetch from %q: %w", p.server, err))
		}
	}
	if err := p.decideUndecided(ctx, builder, items); err != nil {
		return nil, 0, err
	}
	sum.Fetch = time.Since(fetchStart)
	return builder.Plan(), maxUID, nil
}

// record counts what the rules decided for one message and adds its
// actions to the plan. fetched is the header block or the whole message;
// flags are the message's flags when flagsKnown.
func (p *mailboxPass) record(uid uint32, fetched []byte, flags []string, flagsKnown bool, res rules.Result, builder *actions.Builder) {
	if flagsKnown {
		dropFlagNoops(&res, flags)
		if p.rules.HasFlagRules() {
			p.expectFlags(p.mailbox, uid, flags, res) // flags.go
		}
	}
	for _, name := range res.Matched {
		p.sum.Matched[name]++
	}
	for _, err := range res.Errors {
		p.sum.Errors++
		p.log.Warn("rule failed on a message", zap.Uint32("uid", uid), zap.Error(err))
	}
	if res.HasActions() {
		builder.Add(decide(uid, fetched, res, p.e.opts.DryRun))
	}
}

// act carries out the plan, journaled when it copies, and records the
// mailbox as handled up to maxUID, with the messages the server refused to
// be tried again.
func (p *mailboxPass) act(ctx context.Context, plan *actions.Plan, maxUID uint32) error {
	e, st := p.e, &p.st
	var report *actions.Report
	if len(plan.Steps) > 0 {
		start := time.Now()
		ns, err := p.namespace(ctx)
		if err != nil {
			return err
		}
		if plan.NeedsJournal() {
			j := &Journal{UIDValidity: p.status.UIDValidity, From: st.HighestUID + 1, HighestUID: maxUID,
				Copies: make(map[string]actions.DestMark)}
			if p.oldInScope() {
				j.From = 1
			}
			if old := p.journal; old != nil {
				j.From = min(j.From, max(old.From, 1))
				j.HighestUID = max(j.HighestUID, old.HighestUID)
				j.Attempts, j.Plan = old.Attempts, old.Plan
			}
			// Where the destinations stood after earlier passes: written
			// with the journal, so copying into them needs no STATUS and
			// no further write. An interrupted batch's marks, lower, win.
			maps.Copy(j.Copies, st.Dests)
			if p.journal != nil {
				maps.Copy(j.Copies, p.journal.Copies)
			}
			st.Pending = j
			if err := e.store.Put(p.acct.Name, p.mailbox, *st); err != nil {
				return err
			}
		}
		opts := &actions.Options{
			Delimiter:    ns.delim,
			Prefix:       ns.prefix,
			Trash:        p.trash(ns),
			AllowExpunge: p.acct.Expunge,
			Subscribe:    p.acct.Subscribe,
			Logger:       p.session.log, // actions adds the mailbox itself
			Directory:    &p.dir,
			Dedupe:       p.dedupe,
			UIDValidity:  p.status.UIDValidity,
			KnownDests:   st.Dests,
			OnCopyStart: func(dest string, mark actions.DestMark) error {
				j := st.Pending
				if j == nil {
					return nil
				}
				if _, ok := j.Copies[dest]; ok {
					return nil // known before the batch began, or from an interrupted one
				}
				j.Copies[dest] = mark
				return e.store.Put(p.acct.Name, p.mailbox, *st)
			},
		}
		report, err = plan.Execute(ctx, p.client, opts)
		if err != nil {
			return p.note(fmt.Errorf("carry out plan for %q: %w", p.server, err))
		}
		learnDests(st, report.Dests)
		if err := p.recordPlaced(ctx, report); err != nil {
			return err
		}
		for kind, n := range report.Messages() {
			p.sum.Actions[kind] += n
		}
		p.sum.Vanished = report.Vanished.Count()
		p.sum.Act = time.Since(start)
	}
	retry := p.nextRetry(report)
	deferred, deferredOld := imap.SeqSetFromNums(p.deferred...), imap.SeqSetFromNums(p.deferredOld...)
	if maxUID != st.HighestUID || st.Pending != nil || !p.known || st.FullPass || len(st.Retry) > 0 || len(retry) > 0 ||
		len(st.Deferred) > 0 || len(deferred) > 0 || len(st.DeferredOld) > 0 || len(deferredOld) > 0 {
		st.DeferredOld = deferredOld
		// Deferred messages (no verdict) stay out of HighestUID's
		// meaning: they are evaluated again until decided, without limit.
		st.HighestUID, st.Pending, st.FullPass, st.Retry, st.Deferred = max(st.HighestUID, maxUID), nil, false, retry, deferred
		if err := e.store.Put(p.acct.Name, p.mailbox, *st); err != nil {
			return err
		}
	}
	return nil
}

// trash is the account's configured Trash as the server names it, or ""
// to let the actions find it.
func (s *session) trash(ns *namespace) string {
	if s.acct.Trash == "" {
		return ""
	}
	return actions.MailboxName(s.acct.Trash, ns.delim, ns.prefix)
}

// unchanged asks with STATUS (RFC 3501 section 6.3.10) whether a mailbox
// has had no new mail since st was recorded: same UIDVALIDITY, and UIDNEXT
// not past the highest UID handled.
func (s *session) unchanged(ctx context.Context, mailbox string, st MailboxState) (bool, error) {
	data, err := s.client.Status(ctx, mailbox, imap.StatusUIDNext, imap.StatusUIDValidity)
	if err != nil {
		return false, s.note(fmt.Errorf("status %q: %w", mailbox, err))
	}
	if data.UIDNext == nil || data.UIDValidity == nil {
		return false, nil // the server did not say: look properly
	}
	return *data.UIDValidity == st.UIDValidity && *data.UIDNext <= st.HighestUID+1, nil
}

// open selects the mailbox, or examines it for a dry run. A mailbox the
// session already has selected is not selected again: its status is the
// client's, kept current by the server's untagged responses, except that
// UIDNEXT is then unknown (0).
func (s *session) open(ctx context.Context, mailbox string) (*imap.MailboxStatus, error) {
	if s.selected == mailbox && !s.e.opts.DryRun {
		if st := s.client.Mailbox(); st != nil && st.Name == mailbox {
			st.UIDNext = 0
			return st, nil
		}
	}
	var (
		status *imap.MailboxStatus
		err    error
	)
	s.selected = ""
	if s.e.opts.DryRun {
		status, err = s.client.Examine(ctx, mailbox)
	} else {
		status, err = s.client.Select(ctx, mailbox, nil)
	}
	if err != nil {
		return nil, s.note(fmt.Errorf("select %q: %w", mailbox, err))
	}
	if !s.e.opts.DryRun {
		s.selected = mailbox
	}
	return status, nil
}

// logSummary writes the per-pass summary line.
func (s *session) logSummary(log *zap.Logger, sum *PassSummary) {
	log.Info("pass done",
		zap.Int("examined", sum.Examined),
		zap.Any("matched", sortedCounts(sum.Matched)),
		zap.Any("actions", sortedCounts(sum.Actions)),
		zap.Int("rule_errors", sum.Errors),
		zap.Int("failed", sum.Failed),
		zap.Int("vanished", sum.Vanished),
		zap.Int("deferred", sum.Deferred),
		zap.Duration("elapsed", sum.Elapsed),
		zap.Duration("fetch", sum.Fetch),
		zap.Duration("act", sum.Act))
}

// sortedCounts renders counts as "name=n" strings in name order, so log
// lines are stable.
func sortedCounts(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

// lastUID is the highest UID in the selected mailbox right now: UIDNEXT-1,
// or, from a server that left UIDNEXT out of its SELECT response (it is
// required, RFC 3501 section 6.3.1, but not every server sends it), the UID
// of the last message, so that a first pass never mistakes existing mail
// for new.
func (s *session) lastUID(ctx context.Context, status *imap.MailboxStatus) (uint32, error) {
	if status.UIDNext != 0 {
		return status.UIDNext - 1, nil
	}
	if status.Exists == 0 {
		return 0, nil
	}
	var last uint32
	err := s.client.Fetch(ctx, imap.SeqSet{{Start: 0, Stop: 0}}, []imap.FetchItem{imap.FetchUID}, func(m *imap.FetchMessage) error {
		last = max(last, m.UID)
		return nil
	})
	if err != nil {
		return 0, s.note(fmt.Errorf("find the highest UID: %w", err))
	}
	return last, nil
}
