package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// Flag passes: the rules with "flags" in on, evaluated on the messages
// whose flags changed since the last flag pass.
//
// With CONDSTORE (RFC 7162) a flag pass costs in proportion to the changes:
//
//  1. UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE m), m the recorded
//     mod-sequence: every message changed since, and every new one (a new
//     message gets a mod-sequence too). The highest MODSEQ returned is the
//     next m: the one response is a snapshot of the mailbox, so every
//     message at or below the highest UID returned has a mod-sequence at
//     or below it.
//  2. A message above the highest UID the flag passes knew is new: its
//     flags are not a change (arrival rules see it). A message whose flags
//     are exactly those mailrules' own actions left (FlagState.Own) is
//     mailrules' own change. The others changed by another client.
//  3. UID FETCH <those> (UID FLAGS MODSEQ <what the flag rules read>):
//     evaluate, fold into a plan, carry it out with the actions package.
//     A message changed again between 1 and 3 (MODSEQ above the new m) is
//     left to the next pass, which sees it anyway: nothing is evaluated
//     twice for the same change.
//  4. Record m, the highest UID and the flags the actions leave.
//
// Without CONDSTORE (or on a mailbox with NOMODSEQ) step 1 is UID FETCH 1:*
// (UID FLAGS) compared with every message's flags as the last pass left
// them (FlagMap in the state): a cost in proportion to the mailbox, every
// pass; a warning says so once per connection.
//
// The first flag pass over a mailbox (and the first after an upgrade from
// a state file without FlagState, or after a UIDVALIDITY change) only
// records where the mailbox stands: changes made before it do not count.

// flagPassSummary is what one flag pass did, for the log line.
type flagPassSummary struct {
	// Changed counts the messages another client changed; Own the changes
	// that were mailrules' own; New the messages new to flag passes.
	Changed, Own, New int
	// Later counts messages changed again meanwhile, left to the next pass.
	Later int
}

// flagPass runs the flag rules of mailbox, before its pass (see passes), on
// the same session. It does nothing when no rule of the mailbox has "flags" in
// on. Like pass it finishes the batch in flight after ctx is cancelled,
// within stopGrace.
func (s *session) flagPass(ctx context.Context, mailbox string) (sum *PassSummary, err error) {
	e := s.e
	set := e.config().Rules.For(s.acct.Name, mailbox)
	if !set.HasFlagRules() {
		return nil, nil
	}
	start := time.Now()
	fp := &flagPass{
		session: s, mailbox: mailbox, rules: set,
		log: s.log.With(zap.String("mailbox", mailbox), zap.String("pass", "flags")),
		sum: &PassSummary{Account: s.acct.Name, Mailbox: mailbox, Matched: map[string]int{}, Actions: map[string]int{}},
	}
	work, cancel := afterGrace(ctx, stopGrace)
	defer cancel()
	defer func() { e.opts.Metrics.observeFlagPass(s.acct.Name, mailbox, fp.sum) }()
	if err := fp.run(work); err != nil {
		return fp.sum, err
	}
	fp.sum.Elapsed = time.Since(start)
	if fp.logged {
		fp.log.Info("flag pass done",
			zap.String("mode", fp.mode()),
			zap.Int("changed", fp.fsum.Changed),
			zap.Int("own", fp.fsum.Own),
			zap.Int("new", fp.fsum.New),
			zap.Int("later", fp.fsum.Later),
			zap.Int("examined", fp.sum.Examined),
			zap.Any("matched", sortedCounts(fp.sum.Matched)),
			zap.Any("actions", sortedCounts(fp.sum.Actions)),
			zap.Int("rule_errors", fp.sum.Errors),
			zap.Int("failed", fp.sum.Failed),
			zap.Duration("elapsed", fp.sum.Elapsed))
	}
	return fp.sum, nil
}

// flagPass is the state of one flag pass over one mailbox.
type flagPass struct {
	*session
	mailbox string
	rules   *rules.Set
	log     *zap.Logger
	sum     *PassSummary
	fsum    flagPassSummary
	logged  bool // the pass did something worth a log line

	server    string
	st        MailboxState
	fs        *FlagState
	condstore bool
	status    *imap.MailboxStatus
	prev      FlagMap         // without CONDSTORE: the flags as the last pass left them
	differs   int             // without CONDSTORE: the messages whose flags are not prev\'s
	report    *actions.Report // of the plan carried out, if any
}

// mode names how changes are found, for the log.
func (fp *flagPass) mode() string {
	if fp.condstore {
		return "condstore"
	}
	return "compare-all"
}

func (fp *flagPass) run(ctx context.Context) error {
	e, acct := fp.e, fp.acct.Name
	var err error
	if fp.server, err = fp.serverName(ctx, fp.mailbox); err != nil {
		return err
	}
	if fp.st, _, err = e.store.Get(acct, fp.mailbox); err != nil {
		return err
	}
	fp.condstore = fp.client.Has(imap.CapCondStore) || fp.client.Has(imap.CapQResync)
	// Without ENABLE, the first FETCH with MODSEQ or CHANGEDSINCE enables
	// CONDSTORE (RFC 7162 section 3.1).
	if fp.condstore && fp.client.Has(imap.CapEnable) {
		if err := fp.client.EnableCondStore(ctx); err != nil {
			// RFC 5161 allows ENABLE only before a SELECT; a server that
			// holds to it refuses it on a watch's connection. CHANGEDSINCE
			// then enables CONDSTORE as well.
			var ie *imap.Error
			if !errors.As(err, &ie) {
				return fp.note(fmt.Errorf("enable CONDSTORE: %w", err))
			}
			fp.log.Debug("ENABLE CONDSTORE refused; the first CHANGEDSINCE enables it", zap.Error(err))
		}
	} else if !fp.warnedNoCondStore {
		fp.warnedNoCondStore = true
		fp.log.Warn("the server has no CONDSTORE (RFC 7162): each flag pass fetches the flags of every message of the mailbox and compares them with the last pass's; this costs in proportion to the mailbox, not to the changes")
	}
	fs := fp.st.Flags
	if fs != nil && fp.condstore && fs.ModSeq != 0 && !fp.watching && fp.selected != fp.server {
		// A cron run: one STATUS says whether anything changed at all.
		data, err := fp.client.Status(ctx, fp.server, imap.StatusHighestModSeq, imap.StatusUIDValidity)
		if err != nil {
			return fp.note(fmt.Errorf("status %q: %w", fp.server, err))
		}
		if data.UIDValidity != nil && *data.UIDValidity == fs.UIDValidity && data.HighestModSeq == fs.ModSeq {
			fp.log.Debug("no flag changed", zap.Uint64("modseq", fs.ModSeq))
			return nil
		}
	}
	if fp.status, err = fp.open(ctx, fp.server); err != nil {
		return err
	}
	if fs != nil && fs.UIDValidity != fp.status.UIDValidity {
		fp.log.Warn("UIDVALIDITY changed: flag rules start from now in this mailbox")
		fs = nil
	}
	if fs != nil && fs.NoModSeq {
		fp.condstore = false // the mailbox keeps no mod-sequences
	}
	if fs != nil && fp.condstore && fs.ModSeq == 0 && fs.HighestUID > 0 {
		fs = nil // recorded without CONDSTORE, which the server has now
	}
	if !fp.condstore && fs != nil {
		if fp.prev, err = e.store.GetFlagMap(acct, fp.mailbox); err != nil {
			return err
		}
		if fp.prev == nil {
			fs = nil // recorded with CONDSTORE, which the server no longer offers
		}
	}
	fresh := fs == nil
	if fresh {
		fs = &FlagState{UIDValidity: fp.status.UIDValidity}
		fp.log.Info("first flag pass over this mailbox: flags as they are now are the starting point; flag rules act on changes from now on")
		fp.logged = true
	}
	fp.fs = fs
	changed, next, err := fp.changes(ctx)
	if err == nil && fp.condstore && next.modseq == 0 && next.uid > 0 {
		// RFC 7162 section 3.1.2.2: a mailbox with NOMODSEQ (its FETCH
		// responses carry no MODSEQ) is compared message by message.
		fp.log.Warn("this mailbox keeps no mod-sequences (NOMODSEQ): each flag pass fetches the flags of every message and compares them with the last pass's, in proportion to the mailbox")
		fp.condstore, fp.prev, fp.fsum = false, nil, flagPassSummary{}
		fs = &FlagState{UIDValidity: fp.status.UIDValidity, NoModSeq: true}
		fp.fs = fs
		changed, next, err = fp.changes(ctx)
	}
	if err != nil {
		return err
	}
	own, err := fp.evaluate(ctx, changed, next)
	if err != nil {
		return err
	}
	if e.opts.DryRun {
		return nil
	}
	// Recorded after the actions: a pass killed half way is evaluated
	// again; its flag changes are no-ops then, and its copies are checked
	// against the destinations (journal).
	fs.ModSeq, fs.HighestUID, fs.Own = next.modseq, max(fs.HighestUID, next.uid), own
	if !fp.condstore {
		fs.ModSeq, fs.Own = 0, nil
		for uid, flags := range own {
			next.flags[uid] = flags
		}
		// Written only when it changed: it grows with the mailbox.
		if fp.differs > 0 || len(own) > 0 || len(next.flags) != len(fp.prev) || fp.prev == nil {
			if err := e.store.PutFlagMap(acct, fp.mailbox, next.flags); err != nil {
				return err
			}
		}
	}
	fs.Pending = nil
	return fp.saveFlagState()
}

// nextMark is where the flag passes will stand after this one.
type nextMark struct {
	modseq uint64
	uid    uint32
	flags  FlagMap // without CONDSTORE: every message's flags now
}

// changes finds the messages another client changed (step 1 and 2 in the
// comment at the top): their UIDs and flags.
func (fp *flagPass) changes(ctx context.Context) (changed map[uint32][]string, next nextMark, err error) {
	fs := fp.fs
	next = nextMark{modseq: fs.ModSeq, uid: fs.HighestUID}
	if !fp.condstore {
		next.flags = FlagMap{}
	}
	own := fs.Own // what the last flag pass and the passes since left
	changed = map[uint32][]string{}
	items := []imap.FetchItem{imap.FetchUID, imap.FetchFlags}
	var opts *imap.FetchOptions
	if fp.condstore {
		if fs.ModSeq == 0 {
			// Where the mailbox stands: every message is new, its flags
			// are not needed.
			items = []imap.FetchItem{imap.FetchUID, imap.FetchModSeq}
		} else {
			opts = &imap.FetchOptions{ChangedSince: fs.ModSeq}
		}
	}
	_, err = fp.client.UIDFetchWith(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, items, opts, func(m *imap.FetchMessage) error {
		if m.UID == 0 {
			return nil // unsolicited news by sequence number
		}
		next.modseq = max(next.modseq, m.ModSeq)
		next.uid = max(next.uid, m.UID)
		flags := slices.Clone(m.Flags)
		if next.flags != nil {
			next.flags[m.UID] = flags
			if b, ok := fp.prev[m.UID]; !ok || !sameFlags(b, flags) {
				fp.differs++
			}
		}
		if m.UID > fs.HighestUID {
			fp.fsum.New++
			return nil
		}
		if ours, ok := own[m.UID]; ok && sameFlags(ours, flags) {
			fp.fsum.Own++ // the flags mailrules left: its own change
			return nil
		}
		if !fp.condstore {
			before, ok := fp.prev[m.UID]
			if !ok {
				fp.fsum.New++ // not seen by the last pass
				return nil
			}
			if sameFlags(before, flags) {
				return nil // unchanged
			}
		}
		if slices.ContainsFunc(flags, func(f string) bool { return strings.EqualFold(f, imap.FlagDeleted) }) {
			return nil // being deleted: acting on it could duplicate it
		}
		changed[m.UID] = flags
		return nil
	})
	if err != nil {
		return nil, next, fp.note(fmt.Errorf("fetch changed flags from %q: %w", fp.server, err))
	}
	fp.fsum.Changed = len(changed)
	if len(changed) > 0 || fp.fsum.Own > 0 {
		fp.logged = true
	}
	return changed, next, nil
}

// evaluate fetches what the flag rules read of the changed messages,
// evaluates them and carries out the plan (step 3). own is the flags the
// actions leave, by UID.
func (fp *flagPass) evaluate(ctx context.Context, changed map[uint32][]string, next nextMark) (own map[uint32][]string, err error) {
	if len(changed) == 0 {
		return nil, nil
	}
	e, sum := fp.e, fp.sum
	items, headerOnly := fetchItems(fp.rules.FlagNeeds(), e.opts.DryRun, true)
	if fp.condstore {
		items = append(items, imap.FetchModSeq)
	}
	builder := actions.NewBuilder(fp.server)
	own = map[uint32][]string{}
	now := e.opts.Now()
	msg := rules.Message{Account: fp.acct.Name, Mailbox: fp.mailbox, FlagsChanged: true}
	uids := make([]uint32, 0, len(changed))
	for uid := range changed {
		uids = append(uids, uid)
	}
	set := imap.SeqSetFromNums(uids...)
	fetchStart := time.Now()
	onMessage := func(m *imap.FetchMessage) error {
		if _, asked := changed[m.UID]; !asked {
			return nil // unsolicited, or a UID the server added
		}
		if fp.condstore && m.ModSeq > next.modseq {
			fp.fsum.Later++ // changed again meanwhile: the next pass sees it
			return nil
		}
		if next.flags != nil {
			next.flags[m.UID] = slices.Clone(m.Flags)
		}
		msg.UID, msg.Flags, msg.InternalDate, msg.Size = m.UID, m.Flags, m.InternalDate, m.Size
		var data []byte
		if len(m.Sections) > 0 {
			data = m.Sections[0].Data
		}
		msg.Header, msg.Raw = data, nil
		if !headerOnly {
			msg.Header, msg.Raw = nil, data
		}
		res := fp.rules.Evaluate(&msg, now)
		dropFlagNoops(&res, m.Flags)
		sum.Examined++
		for _, name := range res.Matched {
			sum.Matched[name]++
		}
		for _, err := range res.Errors {
			sum.Errors++
			fp.log.Warn("rule failed on a message", zap.Uint32("uid", m.UID), zap.Error(err))
		}
		if res.HasActions() {
			builder.Add(decide(m.UID, data, res, e.opts.DryRun))
			if len(res.AddFlags) > 0 || len(res.RemoveFlags) > 0 {
				own[m.UID] = flagsAfter(m.Flags, res)
			}
		}
		return nil
	}
	for _, piece := range set.Chunks(0) {
		if err := fp.client.UIDFetch(ctx, piece, items, onMessage); err != nil {
			return nil, fp.note(fmt.Errorf("fetch from %q: %w", fp.server, err))
		}
	}
	sum.Fetch = time.Since(fetchStart)
	plan := builder.Plan()
	if e.opts.DryRun {
		e.printPlan(fmt.Sprintf("== %s / %s, flag changes (dry run: nothing changed)", fp.acct.Name, fp.mailbox), plan)
		return own, nil
	}
	if len(plan.Steps) == 0 {
		return own, nil
	}
	start := time.Now()
	ns, err := fp.namespace(ctx)
	if err != nil {
		return nil, err
	}
	opts := &actions.Options{
		Delimiter:    ns.delim,
		Prefix:       ns.prefix,
		Trash:        fp.trash(ns),
		AllowExpunge: fp.acct.Expunge,
		Subscribe:    fp.acct.Subscribe,
		Logger:       fp.session.log,
		Directory:    &fp.dir,
		UIDValidity:  fp.status.UIDValidity,
		KnownDests:   fp.st.Dests,
	}
	if err := fp.journal(plan, opts); err != nil {
		return nil, err
	}
	report, err := plan.Execute(ctx, fp.client, opts)
	if err != nil {
		return nil, fp.note(fmt.Errorf("carry out the flag rules' plan for %q: %w", fp.server, err))
	}
	fp.report = report
	for kind, n := range report.Messages() {
		sum.Actions[kind] += n
	}
	sum.Vanished = report.Vanished.Count()
	for _, f := range report.Failed {
		sum.Failed += f.UIDs.Count()
		fp.log.Warn("the server refused a flag rule's action; the message is evaluated again when its flags change next",
			zap.Stringer("uids", f.UIDs), zap.Error(f.Err))
		for uid := range f.UIDs.All() {
			delete(own, uid)
		}
	}
	sum.Act = time.Since(start)
	return own, nil
}

// journal makes a plan that copies or moves crash-safe, as act does for
// arrival passes: the batch is journaled in the flag state before it
// starts, with where each destination stood, and the copies of a batch an
// earlier flag pass left unfinished are checked against the destinations
// (opts.Dedupe) instead of being made twice. The journal is dropped when
// the pass is recorded.
func (fp *flagPass) journal(plan *actions.Plan, opts *actions.Options) error {
	fs, uidValidity := fp.fs, fp.status.UIDValidity
	old := fs.Pending
	if old != nil && old.UIDValidity != uidValidity {
		old = nil
	}
	if old != nil {
		fp.log.Info("an earlier flag pass was interrupted while copying: copies are checked against the destinations first",
			zap.Int("attempt", old.Attempts+1))
		opts.Dedupe = func(dest string, _ bool) (imap.SeqSet, actions.DestMark) {
			if floor, ok := old.copyFloor(dest); ok && old.HighestUID > 0 {
				return imap.SeqSet{{Start: 1, Stop: old.HighestUID}}, floor
			}
			return nil, actions.DestMark{}
		}
	}
	if !plan.NeedsJournal() || fp.e.opts.DryRun {
		return nil
	}
	j := &Journal{UIDValidity: uidValidity, From: 1, HighestUID: fs.HighestUID, Copies: map[string]actions.DestMark{}}
	maps.Copy(j.Copies, fp.st.Dests)
	if old != nil {
		maps.Copy(j.Copies, old.Copies) // lower marks, from before the interrupted batch
		j.Attempts = old.Attempts + 1
	}
	fs.Pending = j
	if err := fp.saveFlagState(); err != nil {
		return err
	}
	opts.OnCopyStart = func(dest string, mark actions.DestMark) error {
		if _, ok := j.Copies[dest]; ok {
			return nil
		}
		j.Copies[dest] = mark
		return fp.saveFlagState()
	}
	return nil
}

// saveFlagState writes fp.fs into the mailbox's state as it is in the
// store now (the arrival pass wrote its part).
func (fp *flagPass) saveFlagState() error {
	e, acct := fp.e, fp.acct.Name
	st, _, err := e.store.Get(acct, fp.mailbox)
	if err != nil {
		return err
	}
	if st.UIDValidity != 0 && st.UIDValidity != fp.fs.UIDValidity {
		return nil // renumbered meanwhile: the next passes start over
	}
	st.Flags = fp.fs
	if fp.report != nil {
		learnDests(&st, fp.report.Dests)
	}
	return e.store.Put(acct, fp.mailbox, st)
}

// flagsAfter returns the flags a message has after res's flag changes.
func flagsAfter(flags []string, res rules.Result) []string {
	out := slices.Clone(flags)
	for _, fc := range res.RemoveFlags {
		out = slices.DeleteFunc(out, func(f string) bool { return strings.EqualFold(f, fc.Flag) })
	}
	for _, fc := range res.AddFlags {
		if !slices.ContainsFunc(out, func(f string) bool { return strings.EqualFold(f, fc.Flag) }) {
			out = append(out, fc.Flag)
		}
	}
	return out
}

// expectFlags notes, in a pass over a mailbox with flag rules, the flags
// its actions leave on a message; recordOwnFlags keeps them for the next
// flag pass, which takes the change for mailrules' own (a sweep that marks
// old mail read, a rule that flags new mail, trigger no flag rule).
func (s *session) expectFlags(mailbox string, uid uint32, flags []string, res rules.Result) {
	if len(res.AddFlags) == 0 && len(res.RemoveFlags) == 0 {
		return
	}
	if s.expected == nil {
		s.expected = map[string]map[uint32][]string{}
	}
	if s.expected[mailbox] == nil {
		s.expected[mailbox] = map[uint32][]string{}
	}
	s.expected[mailbox][uid] = flagsAfter(flags, res)
}

// takeExpected returns and forgets what expectFlags noted for mailbox.
func (s *session) takeExpected(mailbox string) map[uint32][]string {
	out := s.expected[mailbox]
	delete(s.expected, mailbox)
	if out == nil {
		out = map[uint32][]string{}
	}
	return out
}

// passes is what Run and Watch do for a mailbox: its flag pass, then its
// pass (new mail, sweeps), then it records the flags that pass's actions
// left as mailrules' own, for the next flag pass. The flag pass comes
// first so that it sees another client's change before a rule of
// mailrules changes the message again. The summary is the pass's, with
// the flag pass's refused messages added to Failed.
func (s *session) passes(ctx context.Context, mailbox string) (*PassSummary, error) {
	fsum, err := s.flagPass(ctx, mailbox)
	if err != nil {
		return fsum, err
	}
	sum, err := s.pass(ctx, mailbox)
	if sum != nil && fsum != nil {
		sum.Failed += fsum.Failed
	}
	if err != nil {
		return sum, err
	}
	return sum, s.recordOwnFlags(mailbox)
}

// recordOwnFlags adds the flags a pass's actions left (expectFlags) to the
// mailbox's flag state, where the next flag pass finds them.
func (s *session) recordOwnFlags(mailbox string) error {
	expected := s.takeExpected(mailbox)
	if len(expected) == 0 || s.e.opts.DryRun {
		return nil
	}
	e, acct := s.e, s.acct.Name
	st, _, err := e.store.Get(acct, mailbox)
	if err != nil || st.Flags == nil {
		return err
	}
	if st.Flags.Own == nil {
		st.Flags.Own = map[uint32][]string{}
	}
	maps.Copy(st.Flags.Own, expected)
	return e.store.Put(acct, mailbox, st)
}

// flagsWake reports whether an update should end a watch's wait: changed
// flags (an untagged FETCH, RFC 3501 section 7.4.2) in a mailbox with flag
// rules (wake set). Changes of mailrules' own make one more flag pass, which finds
// them to be its own and acts on nothing.
func flagsWake(u imap.Update, wake *atomic.Bool) bool {
	return wake != nil && u.Kind == imap.UpdateFetch && wake.Load()
}

// observeFlagPass adds what a flag pass did to the mailbox's counters
// (messages examined, matches per rule, actions, errors) without counting
// a pass: the flag pass is part of the pass it follows, whose result and
// duration the metrics already have.
func (m *Metrics) observeFlagPass(account, mailbox string, sum *PassSummary) {
	if m == nil || sum == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mm := m.get(account, mailbox)
	mm.examined += uint64(sum.Examined)
	mm.ruleErrors += uint64(sum.Errors)
	mm.failed += uint64(sum.Failed)
	mm.vanished += uint64(sum.Vanished)
	for rule, n := range sum.Matched {
		mm.matches[rule] += uint64(n)
	}
	for kind, n := range sum.Actions {
		mm.actions[kind] += uint64(n)
	}
}
