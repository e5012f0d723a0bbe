package actions

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// Decision is what the rules decided for one message of the mailbox.
type Decision struct {
	UID    uint32
	Result rules.Result
	// MessageID, From and Subject describe the message in logs and dry runs.
	MessageID, From, Subject string
}

// StepKind says what a Step does.
type StepKind string

// Step kinds, in the order a Plan runs them.
const (
	StepAddFlags    StepKind = "add-flags"    // UID STORE +FLAGS.SILENT
	StepRemoveFlags StepKind = "remove-flags" // UID STORE -FLAGS.SILENT
	StepCopy        StepKind = "copy"         // UID COPY
	StepMove        StepKind = "move"         // UID MOVE, or COPY + STORE \Deleted + UID EXPUNGE
	StepDelete      StepKind = "delete"       // a move to the Trash mailbox
	StepExpunge     StepKind = "expunge"      // UID STORE +FLAGS.SILENT (\Deleted) + UID EXPUNGE
)

// Step is one batched action of a Plan: one kind of change applied to a set
// of messages. Executing it may take several commands when the UID set has to
// be split to keep command lines short, or when a move falls back to
// COPY/STORE/EXPUNGE.
type Step struct {
	Kind StepKind `json:"kind"`
	// Flags are the flags added or removed (flag steps only).
	Flags []string `json:"flags,omitempty"`
	// Mailbox is the destination as the rules wrote it: a "/"-separated path
	// (copy and move steps only). A delete's destination, the Trash, is
	// resolved at execution.
	Mailbox string `json:"mailbox,omitempty"`
	// UIDs are the messages the step acts on.
	UIDs imap.SeqSet `json:"uids"`
	// CopyFlags are, for a copy step, messages whose copies are to have
	// exactly the given flags in the destination rather than the source's
	// (rules.Target.OwnFlags). They are set after the copy, on the UIDs
	// the server's COPYUID names (RFC 4315 section 3).
	CopyFlags []CopyFlags `json:"copy_flags,omitempty"`
	// Causes says which rule asked for the step for which messages.
	Causes []Cause `json:"causes"`
}

// Count returns the number of messages the step acts on.
func (s *Step) Count() int { return s.UIDs.Count() }

// String describes the step in a few words, e.g. `move 12 messages to "Archive"`.
func (s *Step) String() string {
	n := s.Count()
	msgs := fmt.Sprintf("%d messages", n)
	if n == 1 {
		msgs = "1 message"
	}
	switch s.Kind {
	case StepAddFlags:
		return fmt.Sprintf("add %s to %s", strings.Join(s.Flags, " "), msgs)
	case StepRemoveFlags:
		return fmt.Sprintf("remove %s from %s", strings.Join(s.Flags, " "), msgs)
	case StepCopy:
		desc := fmt.Sprintf("copy %s to %q", msgs, s.Mailbox)
		for _, cf := range s.CopyFlags {
			flags := strings.Join(cf.Flags, " ")
			if flags == "" {
				flags = "none"
			}
			desc += fmt.Sprintf(", %d of them with flags %s", cf.UIDs.Count(), flags)
		}
		return desc
	case StepMove:
		return fmt.Sprintf("move %s to %q", msgs, s.Mailbox)
	case StepDelete:
		return fmt.Sprintf("delete %s (move to Trash)", msgs)
	case StepExpunge:
		return fmt.Sprintf("expunge %s permanently", msgs)
	}
	return fmt.Sprintf("%s %s", s.Kind, msgs)
}

// CopyFlags are the flags the copies of some messages are to have.
type CopyFlags struct {
	Flags []string    `json:"flags"`
	UIDs  imap.SeqSet `json:"uids"` // in the source
}

// Cause records that a rule asked for a step for some of its messages.
type Cause struct {
	Rule string      `json:"rule"`
	UIDs imap.SeqSet `json:"uids"`
}

// Message describes one message a Plan acts on, for logs and dry runs. It
// is kept small because a plan can cover a whole mailbox: From and Subject,
// which only a dry run's listing shows, sit behind a pointer that is nil
// when they are empty.
type Message struct {
	UID       uint32          `json:"uid"`
	MessageID string          `json:"message_id,omitempty"`
	Details   *MessageDetails `json:"details,omitempty"`
}

// MessageDetails are the decoded From and Subject of a message.
type MessageDetails struct {
	From    string `json:"from,omitempty"`
	Subject string `json:"subject,omitempty"`
}

// From returns the message's From, or "".
func (m *Message) From() string {
	if m.Details == nil {
		return ""
	}
	return m.Details.From
}

// Subject returns the message's Subject, or "".
func (m *Message) Subject() string {
	if m.Details == nil {
		return ""
	}
	return m.Details.Subject
}

// Plan is the batched form of the decisions for one mailbox. It is plain
// data that survives a JSON round trip, so it can be journaled before it is
// executed and resumed after a crash.
type Plan struct {
	// Mailbox is the source mailbox, by its server name (as selected).
	Mailbox string `json:"mailbox"`
	// Steps run in order; see the package documentation.
	Steps []Step `json:"steps"`
	// Messages describes every message some step acts on, sorted by UID.
	Messages []Message `json:"messages"`
}

// NeedsJournal reports whether the plan must be journaled before it runs:
// whether it puts messages into other mailboxes (copy, move or delete
// steps). Repeating a copy after a crash would duplicate it; and even a
// move is not safe to repeat blindly, because servers do not all carry out
// a MOVE atomically when the connection drops (Dovecot commits a large one
// in batches, copy before expunge). Flag changes and expunges can simply be
// repeated.
func (p *Plan) NeedsJournal() bool {
	for _, step := range p.Steps {
		switch step.Kind {
		case StepCopy, StepMove, StepDelete:
			return true
		}
	}
	return false
}

// Empty reports whether the plan has nothing to do.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

// message returns the description of the message with the given UID.
func (p *Plan) message(uid uint32) Message {
	i, ok := slices.BinarySearchFunc(p.Messages, uid, func(m Message, uid uint32) int {
		switch {
		case m.UID < uid:
			return -1
		case m.UID > uid:
			return 1
		}
		return 0
	})
	if !ok {
		return Message{UID: uid}
	}
	return p.Messages[i]
}

// cause is one (message, rule) pair behind an action; rule indexes the
// builder's rule names, which keeps a cause at 8 bytes for plans that cover
// a whole mailbox.
type cause struct {
	uid  uint32
	rule uint32
}

// causeList accumulates the (message, rule) pairs of one action. Appending
// is cheap; sorting and grouping happen once, when the plan is built.
type causeList []cause

// uids returns the set of UIDs in the list.
func (l causeList) uids() imap.SeqSet {
	nums := make([]uint32, len(l))
	for i, c := range l {
		nums[i] = c.uid
	}
	return imap.SeqSetFromNums(nums...)
}

// causes groups the UIDs by rule, rules sorted by name; names are the
// builder's rule names.
func (l causeList) causes(names []string) []Cause {
	byRule := make(map[string][]uint32)
	for _, c := range l {
		byRule[names[c.rule]] = append(byRule[names[c.rule]], c.uid)
	}
	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	causes := make([]Cause, 0, len(rules))
	for _, r := range rules {
		causes = append(causes, Cause{Rule: r, UIDs: imap.SeqSetFromNums(byRule[r]...)})
	}
	return causes
}

// builder accumulates decisions into per-action lists.
type builder struct {
	addFlags    map[string]causeList // flag -> messages
	removeFlags map[string]causeList
	copies      map[string]causeList // destination -> messages
	// copyFlags are the copies with flags of their own: destination ->
	// flags (joined by spaces) -> messages.
	copyFlags map[string]map[string][]uint32
	moves     map[string]causeList
	deletes   causeList
	expunges  causeList
	final     map[uint32]bool // messages that already have a final action
	lastUID   uint32          // highest UID added so far, to notice repeated UIDs cheaply
	// Messages in the order added; sorted in place into the plan's.
	messages []Message
	// Rule names, interned: causes refer to them by index.
	rules     []string
	ruleIndex map[string]uint32
}

// cause returns the cause for a message and a rule name.
func (b *builder) cause(uid uint32, rule string) cause {
	i, ok := b.ruleIndex[rule]
	if !ok {
		if b.ruleIndex == nil {
			b.ruleIndex = make(map[string]uint32)
		}
		i = uint32(len(b.rules))
		b.rules = append(b.rules, rule)
		b.ruleIndex[rule] = i
	}
	return cause{uid, i}
}

// NewPlan builds the plan for the decisions about messages of mailbox (the
// server's name of the source mailbox).
//
// Flag changes of one message accumulate; when a message both gains and
// loses the same flag, the change from the rule that comes later in
// Result.Matched wins (the removal on a tie). Copies to the same destination
// are merged. A message has at most one final action (move, delete or
// expunge); when several decisions name the same UID, the first final action
// wins. Flags are batched so that flags applying to exactly the same messages
// share one command.
func NewPlan(mailbox string, decisions []Decision) *Plan {
	b := NewBuilder(mailbox)
	for i := range decisions {
		b.b.add(&decisions[i])
	}
	return b.Plan()
}

// Builder folds decisions into a plan one at a time, so that a caller
// evaluating a large mailbox keeps only the batched UID lists, not every
// decision. The plan is the same as NewPlan's for the same decisions in the
// same order.
type Builder struct {
	mailbox string
	b       builder
}

// NewBuilder starts a plan for the source mailbox (its server name).
func NewBuilder(mailbox string) *Builder {
	return &Builder{mailbox: mailbox, b: builder{
		addFlags:    make(map[string]causeList),
		removeFlags: make(map[string]causeList),
		copies:      make(map[string]causeList),
		moves:       make(map[string]causeList),
	}}
}

// Add folds one decision into the plan. Decision.Result is not kept.
func (b *Builder) Add(d Decision) { b.b.add(&d) }

// Plan returns the plan for every decision added. It hands the builder's
// message list to the plan, so the Builder is done with afterwards.
func (b *Builder) Plan() *Plan { return b.b.plan(b.mailbox) }

// flagOp is the effective change of one flag on one message.
type flagOp struct {
	flag  string
	add   bool
	pos   int // position of the deciding rule in Result.Matched, -1 if absent
	rules []string
}

func (b *builder) add(d *Decision) {
	r := &d.Result
	if r.Final == nil && len(r.AddFlags) == 0 && len(r.RemoveFlags) == 0 && len(r.Copies) == 0 {
		return
	}
	if d.UID <= b.lastUID && b.final == nil {
		// UIDs out of order: from now on remember which messages have a
		// final action, so that a repeated UID keeps its first one.
		b.final = make(map[uint32]bool)
		for _, l := range b.moves {
			for _, c := range l {
				b.final[c.uid] = true
			}
		}
		for _, c := range slices.Concat(b.deletes, b.expunges) {
			b.final[c.uid] = true
		}
	}
	b.lastUID = max(b.lastUID, d.UID)
	m := Message{UID: d.UID, MessageID: d.MessageID}
	if d.From != "" || d.Subject != "" {
		m.Details = &MessageDetails{From: d.From, Subject: d.Subject}
	}
	b.messages = append(b.messages, m)

	var ops []flagOp // a handful per message: a slice beats a map
	apply := func(fc rules.FlagChange, add bool) {
		flag := canonicalFlag(fc.Flag)
		if flag == "" {
			return
		}
		p := slices.Index(r.Matched, fc.Rule)
		i := slices.IndexFunc(ops, func(op flagOp) bool { return op.flag == flag })
		switch {
		case i < 0:
			ops = append(ops, flagOp{flag: flag, add: add, pos: p, rules: []string{fc.Rule}})
		case ops[i].add == add:
			if !slices.Contains(ops[i].rules, fc.Rule) {
				ops[i].rules = append(ops[i].rules, fc.Rule)
			}
			ops[i].pos = max(ops[i].pos, p)
		case p > ops[i].pos || (p == ops[i].pos && !add):
			ops[i] = flagOp{flag: flag, add: add, pos: p, rules: []string{fc.Rule}}
		}
	}
	for _, fc := range r.AddFlags {
		apply(fc, true)
	}
	for _, fc := range r.RemoveFlags {
		apply(fc, false)
	}
	for _, op := range ops {
		target := b.removeFlags
		if op.add {
			target = b.addFlags
		}
		for _, rule := range op.rules {
			target[op.flag] = append(target[op.flag], b.cause(d.UID, rule))
		}
	}

	for _, t := range r.Copies {
		b.copies[t.Mailbox] = append(b.copies[t.Mailbox], b.cause(d.UID, t.Rule))
		if t.OwnFlags {
			b.addCopyFlags(t, d.UID)
		}
	}

	f := r.Final
	if f == nil || (b.final != nil && b.final[d.UID]) {
		return
	}
	switch f.Kind {
	case rules.FinalMove:
		b.moves[f.Mailbox] = append(b.moves[f.Mailbox], b.cause(d.UID, f.Rule))
	case rules.FinalDelete:
		b.deletes = append(b.deletes, b.cause(d.UID, f.Rule))
	case rules.FinalExpunge:
		b.expunges = append(b.expunges, b.cause(d.UID, f.Rule))
	default:
		return
	}
	if b.final != nil {
		b.final[d.UID] = true
	}
}

// addCopyFlags notes that the copy of uid to t.Mailbox is to have t.Flags.
func (b *builder) addCopyFlags(t rules.Target, uid uint32) {
	var flags []string
	for _, f := range t.Flags {
		if f = canonicalFlag(f); f != "" && f != imap.FlagDeleted && !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	sort.Strings(flags)
	if b.copyFlags == nil {
		b.copyFlags = make(map[string]map[string][]uint32)
	}
	byFlags := b.copyFlags[t.Mailbox]
	if byFlags == nil {
		byFlags = make(map[string][]uint32)
		b.copyFlags[t.Mailbox] = byFlags
	}
	key := strings.Join(flags, " ")
	byFlags[key] = append(byFlags[key], uid)
}

func (b *builder) plan(mailbox string) *Plan {
	p := &Plan{Mailbox: mailbox, Steps: []Step{}, Messages: []Message{}}
	p.Steps = append(p.Steps, b.flagSteps(StepAddFlags, b.addFlags)...)
	p.Steps = append(p.Steps, b.flagSteps(StepRemoveFlags, b.removeFlags)...)
	copies := b.destSteps(StepCopy, b.copies)
	for i := range copies {
		byFlags := b.copyFlags[copies[i].Mailbox]
		for _, key := range slices.Sorted(maps.Keys(byFlags)) {
			flags := []string{}
			if key != "" {
				flags = strings.Split(key, " ")
			}
			copies[i].CopyFlags = append(copies[i].CopyFlags, CopyFlags{Flags: flags, UIDs: imap.SeqSetFromNums(byFlags[key]...)})
		}
	}
	p.Steps = append(p.Steps, copies...)
	p.Steps = append(p.Steps, b.destSteps(StepMove, b.moves)...)
	if len(b.deletes) > 0 {
		p.Steps = append(p.Steps, Step{Kind: StepDelete, UIDs: b.deletes.uids(), Causes: b.deletes.causes(b.rules)})
	}
	if len(b.expunges) > 0 {
		p.Steps = append(p.Steps, Step{Kind: StepExpunge, UIDs: b.expunges.uids(), Causes: b.expunges.causes(b.rules)})
	}
	// Messages sorted by UID, the first description of a repeated UID kept.
	slices.SortStableFunc(b.messages, func(a, b Message) int { return cmp.Compare(a.UID, b.UID) })
	if m := slices.CompactFunc(b.messages, func(a, b Message) bool { return a.UID == b.UID }); m != nil {
		p.Messages = m
	}
	return p
}

// flagSteps groups flags that apply to exactly the same messages into one
// step each, so the number of steps is at most the number of distinct flags.
func (b *builder) flagSteps(kind StepKind, byFlag map[string]causeList) []Step {
	type group struct {
		flags []string
		set   imap.SeqSet
		msgs  causeList
	}
	flags := make([]string, 0, len(byFlag))
	for f := range byFlag {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	var groups []*group
	byKey := make(map[string]*group)
	for _, f := range flags {
		set := byFlag[f].uids()
		key := set.String()
		g := byKey[key]
		if g == nil {
			g = &group{set: set}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.flags = append(g.flags, f)
		g.msgs = append(g.msgs, byFlag[f]...)
	}
	steps := make([]Step, 0, len(groups))
	for _, g := range groups {
		steps = append(steps, Step{Kind: kind, Flags: g.flags, UIDs: g.set, Causes: g.msgs.causes(b.rules)})
	}
	return steps
}

// destSteps makes one step per destination, destinations sorted by name.
func (b *builder) destSteps(kind StepKind, byDest map[string]causeList) []Step {
	dests := make([]string, 0, len(byDest))
	for d := range byDest {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	steps := make([]Step, 0, len(dests))
	for _, d := range dests {
		msgs := byDest[d]
		steps = append(steps, Step{Kind: kind, Mailbox: d, UIDs: msgs.uids(), Causes: msgs.causes(b.rules)})
	}
	return steps
}

// canonicalFlag trims a flag and gives the RFC 3501 section 2.3.2 system
// flags, whose names are case-insensitive, their usual spelling.
func canonicalFlag(flag string) string {
	flag = strings.TrimSpace(flag)
	for _, f := range [...]string{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft} {
		if strings.EqualFold(flag, f) {
			return f
		}
	}
	return flag
}
