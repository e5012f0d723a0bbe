package gmailfilter

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mailrules/mailrules/internal/diag"
)

// Options change how filters are translated. A nil *Options is the zero
// value.
type Options struct {
	// Archive is the mailbox that shouldArchive without a label moves
	// mail to; "" means "Archive". On Gmail itself, "[Gmail]/All Mail".
	Archive string
	// NoBody makes plain words search the Subject and the sender only,
	// not the body, so that the rules need no whole messages fetched.
	NoBody bool
}

// DefaultArchive is the mailbox shouldArchive moves mail to unless
// Options.Archive says otherwise.
const DefaultArchive = "Archive"

// Rule is one mailrules rule made from one Gmail filter.
type Rule struct {
	Name   string
	When   string // the expr condition
	Copy   []string
	Move   string
	Flag   []string
	Seen   bool
	Delete bool

	// Filter is the Gmail filter the rule comes from.
	Filter *Filter
	// Omitted says what of the filter the rule leaves out; these become
	// comments in the output and warnings.
	Omitted []Note
	// Disabled, when not empty, is why the rule cannot stand for its
	// filter: it is written commented out.
	Disabled []Note
}

// Note is one thing about a filter that the rule could not translate,
// with the position of the property (or entry) it is about.
type Note struct {
	Pos diag.Position
	Msg string
}

// Terminal reports whether the rule ends processing of a message (move
// or delete).
func (r *Rule) Terminal() bool { return r.Move != "" || r.Delete }

// Result is the translation of a whole export.
type Result struct {
	File  string // the export's name, for the header and positions
	Feed  *Feed
	Rules []Rule // in the order they are written; see Import
	// Warnings has one entry for each thing not translated, with the
	// position of the property or entry it comes from.
	Warnings diag.Problems

	opts Options
}

// Import reads a Gmail filter export and translates every filter into a
// rule. file names the input in positions and comments.
//
// Gmail applies every filter that matches, whereas mailrules stops at
// the first rule that moves or deletes a message; so the rules that only
// copy, flag or mark read come first, and those that move or delete after
// them, each group in the order of the export.
func Import(data []byte, file string, opts *Options) (*Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	feed, err := ReadFeed(data, file)
	if err != nil {
		return nil, err
	}
	res := &Result{File: file, Feed: feed, opts: *opts}
	if len(feed.Filters) == 0 {
		res.Warnings = append(res.Warnings, diag.Problem{Pos: diag.Position{File: file}, Severity: diag.Warning,
			Msg: "the export has no filters (no <entry> elements)"})
	}
	names := map[string]bool{}
	for i := range feed.Filters {
		f := &feed.Filters[i]
		r := translateFilter(f, feed.Owner, opts)
		r.Name = uniqueName(names, r.Name)
		res.Rules = append(res.Rules, r)
		for _, w := range r.warnings() {
			w.Rule = r.Name
			res.Warnings = append(res.Warnings, w)
		}
	}
	res.Warnings.Sort()
	slices.SortStableFunc(res.Rules, func(a, b Rule) int {
		switch {
		case a.Terminal() == b.Terminal():
			return 0
		case b.Terminal():
			return -1
		}
		return 1
	})
	return res, nil
}

// warnings are the rule's omissions as problems at its filter's entry.
func (r *Rule) warnings() []diag.Problem {
	var out []diag.Problem
	prefix := fmt.Sprintf("Gmail filter %d: ", r.Filter.Index)
	for _, d := range r.Disabled {
		out = append(out, diag.Problem{Pos: d.Pos, Severity: diag.Warning, Msg: prefix + d.Msg + "; the rule is written commented out"})
	}
	for _, o := range r.Omitted {
		out = append(out, diag.Problem{Pos: o.Pos, Severity: diag.Warning, Msg: prefix + "not translated: " + o.Msg})
	}
	return out
}

// translateFilter makes the rule for one filter.
func translateFilter(f *Filter, owner string, opts *Options) Rule {
	r := Rule{Filter: f}
	var criteria []code
	var name []string
	disable := func(pos diag.Position, format string, args ...any) {
		r.Disabled = append(r.Disabled, Note{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	// add translates one criterion; what it cannot is noted at p.
	add := func(n Node, p Property) {
		c := &condition{opts: opts, me: owner}
		criteria = append(criteria, c.translate(n))
		for _, m := range c.missing {
			disable(p.Pos, "%s: %s", p.Name, m.Error())
		}
	}
	search := func(p Property, op string) {
		switch op {
		case "":
			name = append(name, p.Value)
		case "-":
			name = append(name, "-{"+p.Value+"}")
		default:
			name = append(name, op+":("+p.Value+")")
		}
		n, err := Parse(p.Value)
		if err != nil {
			disable(p.Pos, "%s %s: %v", p.Name, strconv.Quote(p.Value), err)
			return
		}
		if n == nil {
			return
		}
		switch op {
		case "":
		case "-":
			if and, ok := n.(And); ok {
				// "Doesn't have: a b" is Gmail's -{a b}: none of them.
				n = Or(and)
			}
			n = Not{X: n}
		default:
			n = scope(n, op)
		}
		add(n, p)
	}
	actions := &actionSet{opts: opts}
	for _, p := range f.Props {
		switch p.Name {
		case "from", "to", "subject":
			search(p, p.Name)
		case "hasTheWord":
			search(p, "")
		case "doesNotHaveTheWord":
			search(p, "-")
		case "hasAttachment":
			if isTrue(p.Value) {
				add(Term{Op: "has", Value: "attachment"}, p)
				name = append(name, "has:attachment")
			}
		case "size":
			t, err := sizeTerm(f, p)
			if err != nil {
				disable(p.Pos, "%v", err)
				continue
			}
			add(t, p)
			name = append(name, t.String())
		case "sizeOperator", "sizeUnit":
			// read with size
		case "excludeChats":
			// mailrules sees mail, never chats
		default:
			if !actions.add(p) {
				disable(p.Pos, "unknown property %s = %s", p.Name, strconv.Quote(p.Value))
			}
		}
	}
	switch len(criteria) {
	case 0:
		r.When = "true"
		if len(r.Disabled) == 0 {
			r.Omitted = append(r.Omitted, Note{Pos: f.Pos, Msg: "no criteria: the rule matches every message"})
		}
	case 1:
		r.When = criteria[0].src
	default:
		parts := make([]string, len(criteria))
		for i, c := range criteria {
			parts[i] = c.wrap(precCmp)
		}
		r.When = strings.Join(parts, " && ")
	}
	actions.apply(&r)
	if len(name) == 0 {
		name = append(name, "every message")
	}
	r.Name = ruleName(strings.Join(name, " "))
	return r
}

// sizeTerm reads the size criterion with its sizeOperator and sizeUnit.
func sizeTerm(f *Filter, p Property) (Term, error) {
	n, err := strconv.Atoi(strings.TrimSpace(p.Value))
	if err != nil || n < 0 {
		return Term{}, fmt.Errorf("size %s: not a number", strconv.Quote(p.Value))
	}
	t := Term{Op: "larger", Value: strconv.Itoa(n)}
	if op, ok := f.Get("sizeOperator"); ok {
		switch op.Value {
		case "s_sl":
		case "s_ss":
			t.Op = "smaller"
		default:
			return Term{}, fmt.Errorf("sizeOperator %s: want s_sl (larger) or s_ss (smaller)", strconv.Quote(op.Value))
		}
	}
	if u, ok := f.Get("sizeUnit"); ok {
		switch u.Value {
		case "s_sb":
		case "s_skb":
			t.Value += "K"
		case "s_smb":
			t.Value += "M"
		default:
			return Term{}, fmt.Errorf("sizeUnit %s: want s_sb, s_skb or s_smb", strconv.Quote(u.Value))
		}
	}
	return t, nil
}

// isTrue reads a Gmail boolean property.
func isTrue(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }

// actionSet collects a filter's actions before they become a rule's.
type actionSet struct {
	opts                       *Options
	labels                     []Property
	archive, read, star, trash bool
	omitted                    []Note
}

// add takes the action property p; false means p is no action Gmail
// exports.
func (a *actionSet) add(p Property) bool {
	switch p.Name {
	case "label":
		a.labels = append(a.labels, p)
	case "shouldArchive":
		a.archive = a.archive || isTrue(p.Value)
	case "shouldMarkAsRead":
		a.read = a.read || isTrue(p.Value)
	case "shouldStar":
		a.star = a.star || isTrue(p.Value)
	case "shouldTrash":
		a.trash = a.trash || isTrue(p.Value)
	case "shouldNeverSpam":
		if isTrue(p.Value) {
			a.omit(p, "shouldNeverSpam: mailrules does not decide what is spam; "+
				"to keep such mail away from a spam rule, put a rule with this condition and stop = true before it")
		}
	case "shouldAlwaysMarkAsImportant", "shouldNeverMarkAsImportant":
		if isTrue(p.Value) {
			a.omit(p, p.Name+": Gmail's importance markers have no counterpart over IMAP")
		}
	case "forwardTo":
		a.omit(p, "forwardTo = "+strconv.Quote(p.Value)+": mailrules does not send mail")
	case "smartLabelToApply":
		a.omit(p, "smartLabelToApply = "+strconv.Quote(p.Value)+": Gmail's categories have no counterpart over IMAP")
	default:
		return false
	}
	return true
}

// omit notes that the action p is not translated, and why.
func (a *actionSet) omit(p Property, msg string) {
	a.omitted = append(a.omitted, Note{Pos: p.Pos, Msg: msg})
}

// apply sets r's actions: labels are copies, or with shouldArchive the
// first label is a move; shouldArchive alone moves to the archive;
// shouldTrash deletes (to Trash) and wins over archiving.
func (a *actionSet) apply(r *Rule) {
	var boxes []string
	for _, l := range a.labels {
		box, err := labelMailbox(l.Value)
		if err != nil {
			r.Disabled = append(r.Disabled, Note{Pos: l.Pos, Msg: fmt.Sprintf("label %s: %v", strconv.Quote(l.Value), err)})
			continue
		}
		if !slices.Contains(boxes, box) {
			boxes = append(boxes, box)
		}
	}
	switch {
	case a.trash:
		r.Delete = true
		r.Copy = boxes
	case a.archive && len(boxes) > 0:
		r.Move = boxes[0]
		r.Copy = boxes[1:]
	case a.archive:
		r.Move = a.opts.Archive
		if r.Move == "" {
			r.Move = DefaultArchive
		}
		r.Move = escapeTemplate(r.Move)
	default:
		r.Copy = boxes
	}
	if len(r.Copy) == 0 {
		r.Copy = nil
	}
	if a.star {
		r.Flag = []string{`\Flagged`}
	}
	r.Seen = a.read
	r.Omitted = append(r.Omitted, a.omitted...)
	if !r.Terminal() && len(r.Copy) == 0 && len(r.Flag) == 0 && !r.Seen && len(r.Disabled) == 0 {
		r.Disabled = append(r.Disabled, Note{Pos: r.Filter.Pos, Msg: "no action that mailrules can carry out"})
	}
}

// labelMailbox turns a Gmail label into a mailrules mailbox path: nested
// labels are already written with "/", as mailrules writes mailboxes;
// braces, which start an {expression} in a mailbox, are doubled.
func labelMailbox(label string) (string, error) {
	if strings.TrimSpace(label) == "" {
		return "", fmt.Errorf("empty label")
	}
	for _, seg := range strings.Split(label, "/") {
		switch strings.TrimSpace(seg) {
		case "":
			return "", fmt.Errorf("empty level in a nested label")
		case ".", "..":
			return "", fmt.Errorf("%q is not allowed as a mailbox level", seg)
		}
	}
	if strings.IndexFunc(label, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("control character in the label")
	}
	return escapeTemplate(label), nil
}

// escapeTemplate doubles the braces of a literal mailbox name.
func escapeTemplate(s string) string {
	return strings.NewReplacer("{", "{{", "}", "}}").Replace(s)
}

// maxNameLen is the longest rule name, in characters, before "...".
const maxNameLen = 60

// ruleName makes a readable rule name out of a filter's search: control
// characters become spaces, runs of spaces one, and a long search is cut.
func ruleName(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > maxNameLen {
		s = strings.TrimSpace(string(r[:maxNameLen-3])) + "..."
	}
	return s
}

// uniqueName returns name, or name with " (2)", " (3)"... when an
// earlier rule has it, and records it.
func uniqueName(taken map[string]bool, name string) string {
	n := name
	for i := 2; taken[n]; i++ {
		n = fmt.Sprintf("%s (%d)", name, i)
	}
	taken[n] = true
	return n
}
