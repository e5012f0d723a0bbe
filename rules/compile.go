package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/message"
)

// Set is a compiled, immutable rule set. It is safe for concurrent use.
type Set struct {
	rules  []*rule
	needs  Needs
	hasAll bool
	// flagNeeds is what the rules with "flags" in on need; hasFlags says
	// there is one.
	flagNeeds Needs
	hasFlags  bool
	shared    *shared
}

// shared is what a Set and the subsets made by For have in common.
type shared struct {
	dec   *message.Decoder
	pool  sync.Pool // *evalState
	limit bodyLimit
}

// evalState is the reusable per-Evaluate scratch space.
type evalState struct {
	vm  vm.VM
	env evalEnv
}

// rule is one compiled Spec.
type rule struct {
	name        string
	when        *vm.Program
	cond        *Cond // when in the intermediate form; nil when there is no when
	move        *template
	copies      []*template
	addFlags    []string
	removeFlags []string
	final       FinalKind
	hasFinal    bool
	stop        bool
	scopeAll    bool
	onArrival   bool   // evaluated in arrival passes (and sweeps)
	onFlags     bool   // evaluated in flag passes
	script      Script // a script rule; when, cond and the actions are unset
	accounts    []string
	mailboxes   []string
	needs       Needs
	whenSrc     string   // the condition as written
	classifiers []string // classify() names in the condition and templates
}

// Compile checks and compiles specs, in order, with no classifier
// configured. It reports every problem at once, as diag.Problems.
func Compile(specs []Spec) (*Set, error) {
	return CompileWith(specs, nil)
}

// CompileWith is Compile with options: the configured classifiers that
// classify(name) may call. A nil opts is equivalent to a zero Options.
func CompileWith(specs []Spec, opts *Options) (*Set, error) {
	c := newCompiler()
	if opts != nil {
		c.opts = *opts
	}
	set := &Set{shared: &shared{dec: c.dec, limit: message.DefaultBodyLimit}}
	seen := map[string]diag.Position{}
	for i := range specs {
		sp := &specs[i]
		if sp.Name != "" {
			if first, dup := seen[sp.Name]; dup {
				c.problem(sp, sp.Pos, "duplicate rule name (first defined at %s)", first)
			} else {
				seen[sp.Name] = sp.Pos
			}
		}
		if r := c.compileRule(sp, i); r != nil {
			set.rules = append(set.rules, r)
		}
	}
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	set.finish()
	return set, nil
}

// finish computes the set's needs and scope summary from its rules.
func (s *Set) finish() {
	var list, flagList []Needs
	s.hasAll, s.hasFlags = false, false
	for _, r := range s.rules {
		if r.onArrival {
			list = append(list, r.needs)
		}
		s.hasAll = s.hasAll || r.scopeAll
		if r.onFlags {
			s.hasFlags = true
			flagList = append(flagList, r.needs)
		}
	}
	s.needs = mergeNeeds(list)
	s.flagNeeds = mergeNeeds(flagList)
}

// For returns the subset of rules that apply to the account and mailbox
// (their accounts and mailboxes limits), in order. INBOX is matched
// case-insensitively (RFC 3501 section 5.1).
func (s *Set) For(account, mailbox string) *Set {
	sub := &Set{shared: s.shared}
	for _, r := range s.rules {
		if len(r.accounts) > 0 && !containsString(r.accounts, account) {
			continue
		}
		if len(r.mailboxes) > 0 && !containsMailbox(r.mailboxes, mailbox) {
			continue
		}
		sub.rules = append(sub.rules, r)
	}
	sub.finish()
	return sub
}

// Len returns the number of rules.
func (s *Set) Len() int { return len(s.rules) }

// Names returns the rule names, in order.
func (s *Set) Names() []string {
	out := make([]string, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.name
	}
	return out
}

// HasScopeAll reports whether some rule sweeps whole mailboxes (scope "all").
func (s *Set) HasScopeAll() bool { return s.hasAll }

// Needs returns what must be fetched to evaluate the set's rules on
// arrival (see FlagNeeds for flag passes). The Headers slice must not be
// modified.
func (s *Set) Needs() Needs { return s.needs }

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsMailbox(list []string, mailbox string) bool {
	for _, v := range list {
		if imap.MailboxEqual(v, mailbox) {
			return true
		}
	}
	return false
}

// compiler holds what compiling every rule shares.
type compiler struct {
	dec      *message.Decoder
	opts     Options
	vars     map[string]*variable
	funcs    map[string]*function
	baseOpts []expr.Option
	names    []string // for did-you-mean
	problems diag.Problems
	// foldConfig compiles constant subexpressions; made on first use.
	foldConfig *conf.Config
	// classifiers collects the classify() names of the rule being compiled.
	classifiers []string
}

func newCompiler() *compiler {
	c := &compiler{dec: message.NewDecoder(), vars: map[string]*variable{}, funcs: map[string]*function{}}
	c.baseOpts = []expr.Option{expr.Env(exprEnv{})}
	for _, v := range variables() {
		v := v
		c.vars[v.name] = &v
		c.names = append(c.names, v.name)
		idx, compute := v.index, v.compute
		c.baseOpts = append(c.baseOpts, expr.Function(varFuncName(v.name), func(p ...any) (any, error) {
			e := p[0].(*evalEnv)
			if cached := e.cache[idx]; cached != nil {
				return cached, nil
			}
			val := compute(e)
			e.cache[idx] = val
			return val, nil
		}, v.typ))
	}
	for _, f := range functions() {
		f := f
		c.funcs[f.name] = &f
		c.names = append(c.names, f.name)
		types := f.types
		fn := f.fn
		var call func(p ...any) (any, error)
		if f.withEnv {
			call = func(p ...any) (any, error) { return fn(p[0].(*evalEnv), p[1:]) }
		} else {
			call = func(p ...any) (any, error) { return fn(nil, p) }
		}
		c.baseOpts = append(c.baseOpts, expr.Function(f.name, call, types...))
	}
	for _, b := range builtin.Builtins {
		c.names = append(c.names, b.Name)
	}
	return c
}

// varFuncName is the internal function a variable is rewritten to call.
func varFuncName(name string) string { return "$" + name }

func (c *compiler) problem(sp *Spec, pos diag.Position, format string, args ...any) {
	c.problems = append(c.problems, diag.Problem{Pos: pos, Rule: sp.Name, Msg: fmt.Sprintf(format, args...)})
}

// locate finds the position of a byte offset inside a field's value.
func locate(sp *Spec, field string, index, offset int) diag.Position {
	if sp.Loc != nil {
		if p, ok := sp.Loc.Locate(field, index, offset); ok {
			return p
		}
	}
	return sp.Pos
}

func (c *compiler) compileRule(sp *Spec, index int) *rule {
	before := len(c.problems)
	r := &rule{name: sp.Name, stop: sp.Stop, accounts: sp.Accounts, mailboxes: sp.Mailboxes, whenSrc: sp.When}
	c.classifiers = nil
	if strings.TrimSpace(sp.Name) == "" {
		c.problem(sp, sp.Pos, "rule #%d has no name", index+1)
	}
	switch sp.Scope {
	case "", ScopeNew:
	case ScopeAll:
		r.scopeAll = true
	default:
		c.problem(sp, locate(sp, "scope", 0, 0), "scope %q: want \"new\" or \"all\"", sp.Scope)
	}
	c.compileOn(sp, r)
	if sp.Script != nil {
		return c.compileScriptRule(sp, r, before)
	}
	var finals []string
	if sp.Move != "" {
		finals = append(finals, "move")
		r.final, r.hasFinal = FinalMove, true
	}
	if sp.Delete {
		finals = append(finals, "delete")
		r.final, r.hasFinal = FinalDelete, true
	}
	if sp.Expunge {
		finals = append(finals, "expunge")
		r.final, r.hasFinal = FinalExpunge, true
	}
	if len(finals) > 1 {
		c.problem(sp, sp.Pos, "at most one of move, delete and expunge (has %s)", strings.Join(finals, ", "))
	}
	if len(finals) == 0 && len(sp.Copy) == 0 && len(sp.Flag) == 0 && len(sp.Unflag) == 0 && sp.Seen == nil && !sp.Stop {
		c.problem(sp, sp.Pos, "no action: give move, copy, flag, unflag, seen, delete, expunge or stop")
	}
	for i, a := range sp.Accounts {
		if a == "" {
			c.problem(sp, locate(sp, "accounts", i, 0), "empty account name in accounts")
		}
	}
	for i, m := range sp.Mailboxes {
		if m == "" {
			c.problem(sp, locate(sp, "mailboxes", i, 0), "empty mailbox name in mailboxes")
		}
	}
	var needs []Needs
	if strings.TrimSpace(sp.When) == "" {
		c.problem(sp, sp.Pos, "missing when (the condition); use when = 'true' to match every message")
	} else if prog := c.compileExpr(sp, "when", 0, 0, sp.When, true); prog != nil {
		r.when = prog
		r.cond = c.condition(prog.Node())
		needs = append(needs, c.programNeeds(prog))
	}
	if sp.Move != "" {
		if t := c.compileTemplate(sp, "move", 0, sp.Move); t != nil {
			r.move = t
			needs = append(needs, t.needs(c))
		}
	}
	for i, m := range sp.Copy {
		if t := c.compileTemplate(sp, "copy", i, m); t != nil {
			r.copies = append(r.copies, t)
			needs = append(needs, t.needs(c))
		}
	}
	for i, f := range sp.Flag {
		if flag, ok := c.checkFlag(sp, "flag", i, f); ok {
			r.addFlags = append(r.addFlags, flag)
		}
	}
	for i, f := range sp.Unflag {
		if flag, ok := c.checkFlag(sp, "unflag", i, f); ok {
			r.removeFlags = append(r.removeFlags, flag)
		}
	}
	if sp.Seen != nil {
		if *sp.Seen {
			r.addFlags = append(r.addFlags, `\Seen`)
		} else {
			r.removeFlags = append(r.removeFlags, `\Seen`)
		}
	}
	for _, a := range r.addFlags {
		for _, b := range r.removeFlags {
			if a == b {
				c.problem(sp, sp.Pos, "flag %s is both added and removed", a)
			}
		}
	}
	if len(c.problems) > before {
		return nil
	}
	r.needs = mergeNeeds(needs)
	r.classifiers = c.classifiers
	return r
}

// checkFlag validates a flag name (RFC 3501 section 2.3.2: a system flag or
// an atom keyword) and returns it with system flags in canonical case.
func (c *compiler) checkFlag(sp *Spec, field string, i int, f string) (string, bool) {
	pos := locate(sp, field, i, 0)
	if f == "" {
		c.problem(sp, pos, "%s: empty flag", field)
		return "", false
	}
	if strings.HasPrefix(f, `\`) {
		for _, sys := range []string{`\Seen`, `\Answered`, `\Flagged`, `\Draft`} {
			if strings.EqualFold(f, sys) {
				return sys, true
			}
		}
		switch strings.ToLower(f) {
		case `\deleted`:
			c.problem(sp, pos, `%s: \Deleted cannot be set by a rule; use delete = true (to Trash) or expunge = true`, field)
		case `\recent`:
			c.problem(sp, pos, `%s: \Recent is set by the server only`, field)
		default:
			c.problem(sp, pos, `%s: unknown system flag %q (want \Seen, \Answered, \Flagged, \Draft or a keyword without \)`, field, f)
		}
		return "", false
	}
	for _, r := range f {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"\]`, r) {
			c.problem(sp, pos, "%s: flag %q: keywords are ASCII atoms without spaces or any of (){%%*\"\\]", field, f)
			return "", false
		}
	}
	return f, true
}

// mergeNeeds combines what several rules or expressions need: the union of
// their header names (sorted, unique) and of their other needs.
func mergeNeeds(list []Needs) Needs {
	var n Needs
	seen := map[string]bool{}
	for _, m := range list {
		for _, h := range m.Headers {
			if !seen[h] {
				seen[h] = true
				n.Headers = append(n.Headers, h)
			}
		}
		n.AllHeaders = n.AllHeaders || m.AllHeaders
		n.Flags = n.Flags || m.Flags
		n.InternalDate = n.InternalDate || m.InternalDate
		n.Size = n.Size || m.Size
		n.Body = n.Body || m.Body
		n.Mailboxes = n.Mailboxes || m.Mailboxes
	}
	sort.Strings(n.Headers)
	return n
}

// compileExpr compiles one expression of a rule. offset is where src starts
// inside the field's value (for templates). It reports problems and returns
// nil on failure.
func (c *compiler) compileExpr(sp *Spec, field string, index, offset int, src string, asBool bool) *vm.Program {
	st := &patchState{c: c, callees: map[*ast.IdentifierNode]bool{}, lets: map[string]bool{}}
	opts := append([]expr.Option{}, c.baseOpts...)
	opts = append(opts, expr.Patch(&collector{st}), expr.Patch(&patcher{st}))
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src, opts...)
	for _, name := range st.classifiers {
		c.classifiers = appendUnique(c.classifiers, name)
	}
	if len(st.problems) > 0 {
		for _, p := range st.problems {
			c.problem(sp, locate(sp, field, index, offset+runeToByte(src, p.from)), "%s: %s", field, p.msg)
		}
		return nil
	}
	if err != nil {
		from := 0
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			from, msg = fe.From, fe.Message
		}
		msg = c.explain(msg)
		if asBool && strings.HasPrefix(msg, "expected bool") {
			msg = "the condition must be true or false: " + msg
		}
		c.problem(sp, locate(sp, field, index, offset+runeToByte(src, from)), "%s: %s", field, msg)
		return nil
	}
	return prog
}

// runeToByte converts a rune offset in s to a byte offset.
func runeToByte(s string, runes int) int {
	if runes <= 0 {
		return 0
	}
	n := 0
	for i := range s {
		if n == runes {
			return i
		}
		n++
	}
	return len(s)
}

// explain adds a did-you-mean to unknown-name errors.
func (c *compiler) explain(msg string) string {
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		name = strings.TrimSpace(name)
		if s := c.suggest(name); s != "" {
			return fmt.Sprintf("unknown name %q; did you mean %q?", name, s)
		}
		return fmt.Sprintf("unknown name %q", name)
	}
	if field, ok := strings.CutPrefix(msg, "type rules.verdict has no field "); ok {
		field = strings.TrimSpace(field)
		hint := ""
		if s := Closest(field, verdictFields); s != "" {
			hint = fmt.Sprintf("; did you mean %q?", s)
		}
		return fmt.Sprintf("a classify() verdict has no field %q (it has %s)%s", field, strings.Join(verdictFields, ", "), hint)
	}
	msg = strings.ReplaceAll(msg, "rules.verdict", "classify() verdict")
	// Internal variable functions must not leak into messages.
	return strings.ReplaceAll(msg, "$", "")
}

// suggest returns the known name closest to name, or "".
func (c *compiler) suggest(name string) string {
	return Closest(name, c.names)
}

// Closest returns the candidate nearest to name by edit distance, ignoring
// case, when it is near enough to be a likely typo (at most 2 edits, 3 for
// names longer than 6 characters); otherwise "". It backs the "did you
// mean" hints for rule variables and configuration keys.
func Closest(name string, candidates []string) string {
	best, bestDist := "", 0
	for _, cand := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(cand))
		if best == "" || d < bestDist {
			best, bestDist = cand, d
		}
	}
	limit := 2
	if utf8.RuneCountInString(name) > 6 {
		limit = 3
	}
	if bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// patchState is shared by the collector and patcher visitors of one
// expression.
type patchState struct {
	c        *compiler
	callees  map[*ast.IdentifierNode]bool
	lets     map[string]bool
	problems []exprProblem
	// classifiers are the configured classifiers the expression names.
	classifiers []string
}

type exprProblem struct {
	from int // rune offset
	msg  string
}

// collector is the first visitor: it learns which identifiers are called
// and which names are bound by let, and checks constant arguments.
type collector struct{ st *patchState }

// Visit implements ast.Visitor.
func (v *collector) Visit(node *ast.Node) {
	st := v.st
	switch n := (*node).(type) {
	case *ast.VariableDeclaratorNode:
		st.lets[n.Name] = true
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		st.callees[id] = true
		if _, isVar := st.c.vars[id.Value]; isVar && id.Value != "now" {
			st.problems = append(st.problems, exprProblem{n.Location().From,
				fmt.Sprintf("%s is a value, not a function: write %s without ()", id.Value, id.Value)})
			return
		}
		f, ok := st.c.funcs[id.Value]
		if !ok || len(n.Arguments) == 0 {
			return
		}
		if f.classifierArg {
			st.checkClassifier(n)
			return
		}
		arg, isConst := constString(n.Arguments[0])
		switch {
		case f.headerArg && isConst && !message.ValidFieldName(arg):
			st.problems = append(st.problems, exprProblem{n.Arguments[0].Location().From,
				fmt.Sprintf("%s(%q): not a valid header field name", f.name, arg)})
		case f.durationArg && isConst:
			if _, err := parseAge(arg); err != nil {
				st.problems = append(st.problems, exprProblem{n.Arguments[0].Location().From, fmt.Sprintf("%s: %v", f.name, err)})
			}
		}
	}
}

// patcher is the second visitor: it rewrites message variables into calls
// of their functions with $env, and passes $env to the functions that read
// the message.
type patcher struct{ st *patchState }

// Visit implements ast.Visitor.
func (v *patcher) Visit(node *ast.Node) {
	st := v.st
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if st.callees[n] || st.lets[n.Value] {
			return
		}
		if _, ok := st.c.vars[n.Value]; ok {
			ast.Patch(node, envCall(varFuncName(n.Value), n.Location()))
		}
	case *ast.BuiltinNode:
		if n.Name == "now" && len(n.Arguments) == 0 {
			// now() is the pass time too, so that evaluation stays pure.
			ast.Patch(node, envCall(varFuncName("now"), n.Location()))
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || st.lets[id.Value] {
			return
		}
		if f, ok := st.c.funcs[id.Value]; ok && f.withEnv {
			env := &ast.IdentifierNode{Value: "$env"}
			env.SetLocation(n.Location())
			n.Arguments = append([]ast.Node{env}, n.Arguments...)
		}
	}
}

func envCall(fn string, loc file.Location) *ast.CallNode {
	callee := &ast.IdentifierNode{Value: fn}
	callee.SetLocation(loc)
	env := &ast.IdentifierNode{Value: "$env"}
	env.SetLocation(loc)
	call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{env}}
	call.SetLocation(loc)
	return call
}

func constString(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.ConstantNode:
		s, ok := v.Value.(string)
		return s, ok
	}
	return "", false
}

// programNeeds walks a compiled program's tree for what it reads.
func (c *compiler) programNeeds(p *vm.Program) Needs {
	w := &needsWalker{c: c}
	node := p.Node()
	ast.Walk(&node, w)
	return mergeNeeds([]Needs{w.n})
}

type needsWalker struct {
	c *compiler
	n Needs
}

func (w *needsWalker) add(nd need) {
	w.n.Headers = append(w.n.Headers, nd.headers...)
	w.n.Flags = w.n.Flags || nd.flags
	w.n.InternalDate = w.n.InternalDate || nd.internalDate
	w.n.Size = w.n.Size || nd.size
	w.n.Body = w.n.Body || nd.body
}

// Visit implements ast.Visitor.
func (w *needsWalker) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	if name, ok := strings.CutPrefix(id.Value, "$"); ok {
		if v, ok := w.c.vars[name]; ok {
			w.add(v.need)
		}
		return
	}
	f, ok := w.c.funcs[id.Value]
	if !ok {
		return
	}
	w.add(f.need)
	if f.headerArg {
		// Arguments[0] is $env.
		if len(call.Arguments) >= 2 {
			if name, ok := constString(call.Arguments[1]); ok {
				w.n.Headers = append(w.n.Headers, strings.ToUpper(strings.TrimSpace(name)))
				return
			}
		}
		w.n.AllHeaders = true
	}
}
