package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// maxSetBytes bounds the UID set of one command so that no command line
// exceeds about 8 KB (RFC 7162 section 4).
const maxSetBytes = 7900

// bodyLimit caps how much of a message is fetched when a rule reads the
// body or attachments: BODY.PEEK[]<0.bodyLimit>.
const bodyLimit = 1 << 20

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
	// Elapsed is the wall time of the pass; Fetch and Act the parts spent
	// fetching and evaluating, and carrying out the plan.
	Elapsed, Fetch, Act time.Duration
}

// pass evaluates the rules over one mailbox and carries out the decisions.
// It does not stop half way when ctx is cancelled after the fetch: the batch
// in flight is finished so that the state stays exact.
func (s *session) pass(ctx context.Context, mailbox string) (sum *PassSummary, err error) {
	start := time.Now()
	e := s.e
	defer func() { e.opts.Metrics.observePass(s.acct.Name, mailbox, sum, err, time.Since(start)) }()
	p := &mailboxPass{
		session: s,
		mailbox: mailbox,
		log:     s.log.With(zap.String("mailbox", mailbox)),
		rules:   e.cfg.Rules.For(s.acct.Name, mailbox),
		sum:     &PassSummary{Account: s.acct.Name, Mailbox: mailbox, Matched: map[string]int{}, Actions: map[string]int{}},
	}
	defer func() { p.sum.Elapsed = time.Since(start) }()
	if p.rules.Len() == 0 {
		p.log.Debug("no rule applies to this mailbox")
		return p.sum, nil
	}
	// Finish the batch in flight even after a signal, within bounds.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
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

	st     MailboxState        // the recorded state, as updated by the pass
	known  bool                // st was recorded before (and UIDVALIDITY held)
	status *imap.MailboxStatus // from SELECT (or EXAMINE)
	now    time.Time           // "now" for the rules
}

// prepare loads the state and opens the mailbox; idle is true when there is
// nothing to do. On a first pass (or after a UIDVALIDITY change) it records
// the baseline, and it finishes a journaled batch left by an earlier pass.
func (p *mailboxPass) prepare(ctx context.Context) (idle bool, err error) {
	e := p.e
	if p.st, p.known, err = e.store.Get(p.acct.Name, p.mailbox); err != nil {
		return false, err
	}
	if p.known && p.st.Pending == nil && !e.opts.All && !p.rules.HasScopeAll() && p.selected != p.mailbox {
		// A cron run over a mailbox with no new mail: one STATUS instead
		// of a SELECT, which costs the server a sync of the whole mailbox.
		unchanged, err := p.unchanged(ctx, p.mailbox, p.st)
		if err != nil || unchanged {
			if unchanged {
				p.log.Debug("nothing new", zap.Uint32("highest_uid", p.st.HighestUID))
			}
			return unchanged, err
		}
	}
	if p.status, err = p.open(ctx, p.mailbox); err != nil {
		return false, err
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
		p.st = MailboxState{UIDValidity: p.status.UIDValidity, HighestUID: last}
		if !e.opts.All && !e.opts.DryRun {
			if err := e.store.Put(p.acct.Name, p.mailbox, p.st); err != nil {
				return false, err
			}
		}
		if !e.opts.All {
			p.log.Info("first pass over this mailbox: existing mail is left alone (run with --all to apply the rules to it)",
				zap.Uint32("messages", p.status.Exists), zap.Uint32("highest_uid", p.st.HighestUID))
		}
	}
	if p.st.Pending != nil {
		if err := p.resume(ctx, p.mailbox, &p.st, p.log); err != nil {
			return false, err
		}
	}
	return false, nil
}

// fetchSet decides which messages to fetch: everything with --all; with
// scope = "all" rules the new mail and the old messages the server finds
// for their SEARCH prefilter; otherwise the new mail. It returns a nil set
// when the server says nothing is new.
func (p *mailboxPass) fetchSet(ctx context.Context) (set imap.SeqSet, old *sweepScope, err error) {
	e, highest := p.e, p.st.HighestUID
	p.now = e.opts.Now()
	switch {
	case e.opts.All:
		return imap.SeqSet{{Start: 1, Stop: 0}}, &sweepScope{all: true}, nil
	case p.rules.HasScopeAll():
		// Ask the server which old messages the scope = "all" rules could
		// match, rather than fetching the whole mailbox every pass.
		return p.sweepSet(ctx, p.rules.SweepFilter(p.now), highest)
	case p.status.UIDNext != 0 && p.status.UIDNext <= highest+1:
		p.log.Debug("nothing new", zap.Uint32("highest_uid", highest))
		return nil, nil, nil
	}
	return imap.SeqSet{{Start: highest + 1, Stop: 0}}, &sweepScope{}, nil
}

// evaluate fetches set and evaluates the rules on each message as it
// streams in, folding the decisions into a plan. old says which messages at
// or below the highest UID handled are looked at; maxUID is the highest UID
// seen.
func (p *mailboxPass) evaluate(ctx context.Context, set imap.SeqSet, old *sweepScope) (plan *actions.Plan, maxUID uint32, err error) {
	e, sum, highest := p.e, p.sum, p.st.HighestUID
	items, headerOnly := fetchItems(p.rules.Needs(), e.opts.DryRun, e.opts.All || p.rules.HasScopeAll())
	// Decisions are folded into the plan as the fetch streams, so memory
	// holds the batched UID lists, not every message's decision.
	builder := actions.NewBuilder(p.mailbox)
	maxUID = highest
	msg := rules.Message{Account: p.acct.Name, Mailbox: p.mailbox}
	fetchStart := time.Now()
	onMessage := func(m *imap.FetchMessage) error {
		isNew := e.opts.All || m.UID > highest
		// "UID n:*" also returns the last message when n is past it
		// (RFC 3501 section 6.4.8), so filter here.
		if m.UID == 0 || (!isNew && !old.includes(m.UID)) {
			return nil
		}
		maxUID = max(maxUID, m.UID)
		if slices.Contains(m.Flags, imap.FlagDeleted) {
			// Being deleted, by another client or by our own move on a
			// server without UIDPLUS: acting on it again would duplicate it.
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
		for _, name := range res.Matched {
			sum.Matched[name]++
		}
		for _, err := range res.Errors {
			sum.Errors++
			p.log.Warn("rule failed on a message", zap.Uint32("uid", m.UID), zap.Error(err))
		}
		if hasActions(&res) {
			builder.Add(decide(m.UID, data, res, e.opts.DryRun))
		}
		return nil
	}
	// A long UID set (scattered sweep matches) is fetched in pieces so no
	// command line exceeds about 8 KB.
	for _, piece := range set.Split(maxSetBytes) {
		if err := p.client.UIDFetch(ctx, piece, items, onMessage); err != nil {
			return nil, 0, p.note(fmt.Errorf("fetch from %q: %w", p.mailbox, err))
		}
	}
	sum.Fetch = time.Since(fetchStart)
	return builder.Plan(), maxUID, nil
}

// act carries out the plan, journaled when it has to be, and records the
// mailbox as handled up to maxUID.
func (p *mailboxPass) act(ctx context.Context, plan *actions.Plan, maxUID uint32) error {
	e, st := p.e, &p.st
	if len(plan.Steps) > 0 {
		start := time.Now()
		if p.needsJournal(plan) {
			raw, err := json.Marshal(plan)
			if err != nil {
				return fmt.Errorf("encode plan: %w", err)
			}
			st.Pending = &Journal{UIDValidity: p.status.UIDValidity, HighestUID: maxUID, Plan: raw}
			if err := e.store.Put(p.acct.Name, p.mailbox, *st); err != nil {
				return err
			}
		}
		report, err := plan.Execute(ctx, p.client, p.actionOptions(p.mailbox, st, p.log))
		if err != nil {
			return p.note(fmt.Errorf("carry out plan for %q: %w", p.mailbox, err))
		}
		for kind, n := range report.Messages() {
			p.sum.Actions[kind] += n
		}
		p.sum.Act = time.Since(start)
	}
	if maxUID != st.HighestUID || st.Pending != nil || !p.known {
		st.HighestUID, st.Pending = max(st.HighestUID, maxUID), nil
		if err := e.store.Put(p.acct.Name, p.mailbox, *st); err != nil {
			return err
		}
	}
	return nil
}

// needsJournal reports whether a plan must be journaled before it runs.
// Flag changes, MOVE and UID EXPUNGE can simply be repeated after a crash:
// the messages already moved are no longer fetched, flags are set again.
// A copy cannot: repeating it duplicates the message. So plans with copy
// steps, and moves on servers without MOVE (done as copies), are journaled
// and their steps confirmed one by one.
func (s *session) needsJournal(plan *actions.Plan) bool {
	for _, step := range plan.Steps {
		switch step.Kind {
		case actions.StepCopy:
			return true
		case actions.StepMove, actions.StepDelete:
			if !s.client.Has(imap.CapMove) {
				return true
			}
		}
	}
	return false
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

// resume finishes a journaled batch: the steps the server confirmed are
// skipped, the others carried out, then the batch's highest UID recorded.
func (s *session) resume(ctx context.Context, mailbox string, st *MailboxState, log *zap.Logger) error {
	j := st.Pending
	if j.UIDValidity != st.UIDValidity {
		log.Warn("dropping an unfinished batch from before a UIDVALIDITY change")
		st.Pending = nil
		return nil
	}
	var plan actions.Plan
	if err := json.Unmarshal(j.Plan, &plan); err != nil {
		return fmt.Errorf("decode unfinished plan for %q: %w", mailbox, err)
	}
	if s.e.opts.DryRun {
		s.e.printPlan(fmt.Sprintf("== %s / %s: unfinished batch from an earlier pass (dry run: not resumed)", s.acct.Name, mailbox), &plan)
		return nil
	}
	log.Info("resuming an unfinished batch", zap.Int("steps", len(plan.Steps)), zap.Ints("done", j.Done))
	opts := s.actionOptions(mailbox, st, log)
	opts.Skip = j.IsDone
	if _, err := plan.Execute(ctx, s.client, opts); err != nil {
		return s.note(fmt.Errorf("resume plan for %q: %w", mailbox, err))
	}
	st.HighestUID, st.Pending = max(st.HighestUID, j.HighestUID), nil
	return s.e.store.Put(s.acct.Name, mailbox, *st)
}

// actionOptions returns the options for executing a plan, journaling every
// confirmed step into st.
func (s *session) actionOptions(mailbox string, st *MailboxState, log *zap.Logger) *actions.Options {
	return &actions.Options{
		Trash:        s.acct.Trash,
		AllowExpunge: s.acct.Expunge,
		Subscribe:    s.acct.Subscribe,
		Logger:       s.log,
		Directory:    &s.dir,
		OnStepDone: func(step int) {
			if st.Pending == nil {
				return // not journaled: nothing to record
			}
			st.Pending.Done = append(st.Pending.Done, step)
			if err := s.e.store.Put(s.acct.Name, mailbox, *st); err != nil {
				log.Error("journal step", zap.Int("step", step), zap.Error(err))
			}
		},
	}
}

// logSummary writes the per-pass summary line.
func (s *session) logSummary(log *zap.Logger, sum *PassSummary) {
	log.Info("pass done",
		zap.Int("examined", sum.Examined),
		zap.Any("matched", sortedCounts(sum.Matched)),
		zap.Any("actions", sortedCounts(sum.Actions)),
		zap.Int("rule_errors", sum.Errors),
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

// FetchItems returns the FETCH items a pass sends for a rule set with these
// needs; sweep is true when the set has scope = "all" rules. `mailrules
// check` shows them.
func FetchItems(needs rules.Needs, sweep bool) []imap.FetchItem {
	items, _ := fetchItems(needs, false, sweep)
	return items
}

// fetchItems turns what the rules need into FETCH items. headerOnly is false
// when the one body section fetched is the whole (truncated) message. The
// Message-ID is always fetched so that every action can be logged with it;
// a dry run also fetches From and Subject to print the plan. A sweep over
// old mail fetches FLAGS to pass over messages marked \Deleted.
func fetchItems(needs rules.Needs, dryRun, sweep bool) (items []imap.FetchItem, headerOnly bool) {
	items = []imap.FetchItem{imap.FetchUID}
	if needs.Flags || sweep {
		items = append(items, imap.FetchFlags)
	}
	if needs.InternalDate {
		items = append(items, imap.FetchInternalDate)
	}
	if needs.Size {
		items = append(items, imap.FetchRFC822Size)
	}
	switch {
	case needs.Body:
		return append(items, imap.FetchSection("", true, 0, bodyLimit)), false
	case needs.AllHeaders:
		return append(items, imap.FetchSection("HEADER", true, 0, -1)), true
	}
	fields := append([]string{}, needs.Headers...)
	fields = appendMissing(fields, "MESSAGE-ID")
	if dryRun {
		fields = appendMissing(fields, "FROM", "SUBJECT")
	}
	return append(items, imap.FetchHeaderFields(fields...)), true
}

func appendMissing(list []string, names ...string) []string {
	for _, n := range names {
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}

func hasActions(r *rules.Result) bool {
	return len(r.AddFlags) > 0 || len(r.RemoveFlags) > 0 || len(r.Copies) > 0 || r.Final != nil
}

// decide copies what the plan keeps of a message out of the fetch buffer,
// which is only valid during the fetch callback: the Message-ID for the
// action log, and for a dry run's listing From and Subject too. fetched is
// the header block or the whole message.
func decide(uid uint32, fetched []byte, res rules.Result, dryRun bool) actions.Decision {
	d := actions.Decision{UID: uid, Result: res}
	if dryRun {
		sum := rules.Summarize(fetched)
		d.MessageID, d.From, d.Subject = sum.MessageID, sum.From, sum.Subject
	} else {
		d.MessageID = rules.MessageID(fetched)
	}
	return d
}
