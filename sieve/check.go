package sieve

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/rules"
)

// node is one checked command or test, its tagged arguments resolved.
type node struct {
	name string
	pos  diag.Position
	spec *commandSpec
	// tags maps a tag name to its argument: the value that followed it, or
	// the tag itself for one without a value.
	tags map[string]Arg
	// args are the positional arguments. When the spec's first one is
	// optional and was left out, args[0] is the zero Arg and hasFirst false.
	args     []Arg
	hasFirst bool
	tests    []*node
	// branches of an if: each test with its block; the else branch has a
	// nil test.
	branches []branch

	comparator string // i;ascii-casemap (default), i;octet, i;ascii-numeric
	match      string // is (default), contains, matches, regex, value, count
	relation   string // for value and count: gt ge lt le eq ne
	addrPart   string // all (default), localpart, domain

	// regex is the compiled :regex key when the key is a constant.
	regex []*regexp.Regexp
	// include is the compiled script an include command runs.
	include *Script
}

type branch struct {
	test  *node
	block []*node
}

// checker turns a parsed script into nodes, reporting every problem.
type checker struct {
	file     string
	caps     map[string]bool
	problems diag.Problems
	warnings diag.Problems
	comp     *compilation
	script   *Script
}

func (c *checker) errorf(pos diag.Position, format string, args ...any) {
	c.problems = append(c.problems, diag.Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(pos diag.Position, format string, args ...any) {
	c.warnings = append(c.warnings, diag.Problem{Pos: pos, Msg: fmt.Sprintf(format, args...), Severity: diag.Warning})
}

// requires reads the leading require commands (RFC 5228 section 3.2).
func (c *checker) requires(cmds []*Command) []*Command {
	i := 0
	for ; i < len(cmds) && cmds[i].Name == "require"; i++ {
		cmd := cmds[i]
		if len(cmd.Args) != 1 || cmd.Args[0].Kind != ArgStrings || len(cmd.Tests) > 0 || cmd.HasBlock {
			c.errorf(cmd.Pos, "require takes one string list of capabilities")
			continue
		}
		for _, s := range cmd.Args[0].Strs {
			supported, known := extensions[s.Value]
			switch {
			case !known:
				c.errorf(s.Pos, "require: unknown or unsupported extension %q", s.Value)
				continue
			case !supported:
				c.warnf(s.Pos, "require %q: mailrules does not send mail, so the actions of %s are not carried out", s.Value, s.Value)
			}
			c.caps[s.Value] = true
			for _, implied := range impliedBy[s.Value] {
				c.caps[implied] = true
			}
		}
	}
	return cmds[i:]
}

// block checks a list of commands.
func (c *checker) block(cmds []*Command) []*node {
	var out []*node
	for i := 0; i < len(cmds); i++ {
		cmd := cmds[i]
		switch cmd.Name {
		case "require":
			c.errorf(cmd.Pos, "require must come before any other command, at the top of the script")
			continue
		case "elsif", "else":
			c.errorf(cmd.Pos, "%s without a preceding if", cmd.Name)
			continue
		case "if":
			n := &node{name: "if", pos: cmd.Pos}
			n.branches = append(n.branches, c.branch(cmd))
			for i+1 < len(cmds) && (cmds[i+1].Name == "elsif" || cmds[i+1].Name == "else") {
				i++
				n.branches = append(n.branches, c.branch(cmds[i]))
				if cmds[i].Name == "else" {
					break
				}
			}
			out = append(out, n)
			continue
		}
		if n := c.command(cmd.Name, cmd.Pos, cmd.Args, cmd.Tests, false); n != nil {
			if cmd.HasBlock {
				c.errorf(cmd.Pos, "%s takes no block", cmd.Name)
			}
			out = append(out, n)
		}
	}
	return out
}

func (c *checker) branch(cmd *Command) branch {
	var b branch
	if cmd.Name != "else" {
		if len(cmd.Tests) != 1 {
			c.errorf(cmd.Pos, "%s needs exactly one test", cmd.Name)
		} else {
			b.test = c.test(cmd.Tests[0])
		}
	} else if len(cmd.Tests) > 0 {
		c.errorf(cmd.Pos, "else takes no test")
	}
	if len(cmd.Args) > 0 {
		c.errorf(cmd.Args[0].Pos, "%s takes no arguments", cmd.Name)
	}
	if !cmd.HasBlock {
		c.errorf(cmd.Pos, "%s needs a block { ... }", cmd.Name)
	}
	b.block = c.block(cmd.Block)
	if b.test == nil && cmd.Name != "else" {
		b.test = &node{name: "false", spec: commandSpecs["false"]}
	}
	return b
}

func (c *checker) test(t *Test) *node {
	return c.command(t.Name, t.Pos, t.Args, t.Tests, true)
}

// names returns the identifiers of the wanted kind, for did-you-mean.
func names(test bool) []string {
	var out []string
	for name, sp := range commandSpecs {
		if sp.test == test && !sp.control {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// command checks one command (or test, when asTest) against its spec.
func (c *checker) command(name string, pos diag.Position, args []Arg, tests []*Test, asTest bool) *node {
	kind := "command"
	if asTest {
		kind = "test"
	}
	sp, ok := commandSpecs[name]
	if !ok || sp.test != asTest || sp.control {
		if ok && sp.test != asTest {
			c.errorf(pos, "%s is a %s, not a %s", name, map[bool]string{true: "test", false: "command"}[sp.test], kind)
		} else if s := rules.Closest(name, names(asTest)); s != "" {
			c.errorf(pos, "unknown %s %q; did you mean %q?", kind, name, s)
		} else {
			c.errorf(pos, "unknown %s %q", kind, name)
		}
		return nil
	}
	if sp.ext != "" && !c.caps[sp.ext] {
		c.errorf(pos, "%s needs require %q", name, sp.ext)
	}
	n := &node{name: name, pos: pos, spec: sp, tags: map[string]Arg{},
		comparator: "i;ascii-casemap", match: "is", addrPart: "all"}
	if sp.sends {
		c.warnf(pos, "%s is not supported: mailrules does not send mail; the action is not carried out and the message is kept", name)
	}
	if name == "string" {
		// RFC 5229 section 5 gives no default; Pigeonhole's is i;octet.
		n.comparator = "i;octet"
	}
	groups := map[string]string{}
	var positional []Arg
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.Kind != ArgTag {
			positional = append(positional, a)
			continue
		}
		if len(positional) > 0 {
			c.errorf(a.Pos, "%s: tagged argument :%s must come before the other arguments", name, a.Tag)
		}
		ts, ok := sp.tags[a.Tag]
		if !ok {
			var known []string
			for t := range sp.tags {
				known = append(known, t)
			}
			sort.Strings(known)
			if sug := rules.Closest(a.Tag, known); sug != "" {
				c.errorf(a.Pos, "%s: unknown tagged argument :%s; did you mean :%s?", name, a.Tag, sug)
			} else {
				c.errorf(a.Pos, "%s: unknown tagged argument :%s", name, a.Tag)
			}
			continue
		}
		if ts.ext != "" && !c.caps[ts.ext] {
			c.errorf(a.Pos, "%s :%s needs require %q", name, a.Tag, ts.ext)
		}
		if _, dup := n.tags[a.Tag]; dup {
			c.errorf(a.Pos, "%s: :%s given twice", name, a.Tag)
		}
		if ts.group != "" {
			if other, dup := groups[ts.group]; dup && other != a.Tag {
				c.errorf(a.Pos, "%s: :%s and :%s exclude each other", name, other, a.Tag)
			}
			groups[ts.group] = a.Tag
		}
		val := a
		if ts.value != valNone {
			if i+1 >= len(args) || !fits(args[i+1], ts.value) {
				c.errorf(a.Pos, "%s: :%s must be followed by %s", name, a.Tag, ts.value)
				continue
			}
			i++
			val = args[i]
			c.decodeStrings(&val)
		}
		n.tags[a.Tag] = val
		switch ts.group {
		case "match":
			n.match = a.Tag
		case "address-part":
			n.addrPart = a.Tag
		}
	}
	// Positional arguments.
	want := sp.pos
	offset := 0
	if sp.optFirst && len(positional) == len(want)-1 {
		n.args = append([]Arg{{}}, positional...)
		want, offset = want[1:], 1
	} else {
		n.args = positional
		n.hasFirst = true
	}
	before := len(c.problems)
	if len(positional) != len(want) {
		c.errorf(pos, "%s takes %s, got %d", name, countArgs(sp), len(positional))
		n.args = make([]Arg, len(sp.pos))
		for i := range n.args {
			n.args[i] = Arg{Kind: ArgStrings, Strs: []String{{Pos: pos}}}
		}
		n.hasFirst = !sp.optFirst
	} else {
		for i := range want {
			a := &n.args[i+offset]
			if !fits(*a, want[i]) {
				c.errorf(a.Pos, "%s: argument %d must be %s, not %s", name, i+1, want[i], a.describe())
				*a = Arg{Kind: ArgStrings, Strs: []String{{Pos: a.Pos}}}
				continue
			}
			c.decodeStrings(a)
		}
	}
	// Tests.
	switch {
	case sp.tests == 0 && len(tests) > 0:
		c.errorf(tests[0].Pos, "%s takes no test", name)
	case sp.tests == 1 && len(tests) != 1:
		c.errorf(pos, "%s needs exactly one test", name)
	case sp.tests == -1 && len(tests) == 0:
		c.errorf(pos, "%s needs a list of tests ( ... )", name)
	}
	for _, t := range tests {
		if tn := c.test(t); tn != nil {
			n.tests = append(n.tests, tn)
		}
	}
	if len(c.problems) == before {
		// Only arguments of the right shape are worth checking further.
		c.semantics(n)
	}
	return n
}

func countArgs(sp *commandSpec) string {
	if len(sp.pos) == 0 {
		return "no arguments"
	}
	parts := make([]string, len(sp.pos))
	for i, v := range sp.pos {
		parts[i] = v.String()
		if i == 0 && sp.optFirst {
			parts[i] = "an optional " + strings.TrimPrefix(v.String(), "a ")
		}
	}
	return strings.Join(parts, ", ")
}

func fits(a Arg, want valueType) bool {
	switch want {
	case valNumber:
		return a.Kind == ArgNumber
	case valString:
		return a.Kind == ArgStrings && !a.List && len(a.Strs) == 1
	case valStringList:
		return a.Kind == ArgStrings
	}
	return false
}

// decodeStrings replaces encoded characters in an argument's strings when
// the script requires encoded-character (RFC 5228 section 2.4.2.4).
func (c *checker) decodeStrings(a *Arg) {
	defer c.constantValues(a)
	if a.Kind != ArgStrings || !c.caps["encoded-character"] {
		return
	}
	strs := make([]String, len(a.Strs))
	for i, s := range a.Strs {
		v, err := decodeEncoded(s.Value)
		if err != nil {
			c.errorf(s.Pos, "%v", err)
		}
		strs[i] = String{Value: v, Pos: s.Pos}
	}
	a.Strs = strs
}

// constantValues records an argument's values when none holds a variable
// reference.
func (c *checker) constantValues(a *Arg) {
	if a.Kind != ArgStrings {
		return
	}
	values := make([]string, len(a.Strs))
	for i, s := range a.Strs {
		if !c.constant(s) {
			return
		}
		values[i] = s.Value
	}
	a.values = values
}

// constant returns the argument's only string when it holds no variable
// reference, so that it can be checked at compile time.
func (c *checker) constant(s String) bool {
	return !c.caps["variables"] || !strings.Contains(s.Value, "${")
}

// semantics checks what the table cannot express.
func (c *checker) semantics(n *node) {
	if a, ok := n.tags["comparator"]; ok {
		name := strings.ToLower(a.Strs[0].Value)
		switch name {
		case "i;octet", "i;ascii-casemap":
		case "i;ascii-numeric":
			if !c.caps["comparator-i;ascii-numeric"] {
				c.errorf(a.Pos, "comparator %q needs require \"comparator-i;ascii-numeric\"", name)
			}
		default:
			c.errorf(a.Pos, "unknown comparator %q", a.Strs[0].Value)
		}
		n.comparator = name
	}
	if n.comparator == "i;ascii-numeric" && (n.match == "contains" || n.match == "matches" || n.match == "regex") {
		// RFC 4790 section 9.1.1: equality and ordering only.
		c.errorf(n.tags[n.match].Pos, "%s: comparator i;ascii-numeric cannot do the substring matching of :%s", n.name, n.match)
	}
	if n.match == "value" || n.match == "count" {
		rel := strings.ToLower(n.tags[n.match].Strs[0].Value)
		switch rel {
		case "gt", "ge", "lt", "le", "eq", "ne":
		default:
			c.errorf(n.tags[n.match].Pos, ":%s %q: want one of gt, ge, lt, le, eq, ne (RFC 5231)", n.match, rel)
		}
		n.relation = rel
	}
	if n.match == "regex" && n.spec.test {
		keys := n.args[len(n.args)-1]
		if n.name == "spamtest" {
			keys = n.args[0]
		}
		for _, s := range keys.Strs {
			if !c.constant(s) {
				n.regex = nil
				break
			}
			re, err := compileRegex(s.Value, n.comparator)
			if err != nil {
				c.errorf(s.Pos, "%s: bad :regex %q: %v", n.name, s.Value, err)
				continue
			}
			n.regex = append(n.regex, re)
		}
	}
	switch n.name {
	case "header", "address", "exists":
		c.fieldNames(n)
	case "envelope":
		for _, s := range n.args[0].Strs {
			if p := strings.ToLower(s.Value); c.constant(s) && p != "from" && p != "to" {
				c.errorf(s.Pos, "envelope %q: mailrules only knows the envelope from (Return-Path) and to (Delivered-To, X-Original-To) of a stored message", s.Value)
			}
		}
	case "size":
		if _, over := n.tags["over"]; !over {
			if _, under := n.tags["under"]; !under {
				c.errorf(n.pos, "size needs :over or :under")
			}
		}
	case "set":
		if name := n.args[0].Strs; len(name) == 1 && !validVariableName(name[0].Value) {
			c.errorf(name[0].Pos, "set: %q is not a variable name", name[0].Value)
		}
	case "global":
		for _, s := range n.args[0].Strs {
			if !validVariableName(s.Value) {
				c.errorf(s.Pos, "global: %q is not a variable name", s.Value)
			}
		}
	case "setflag", "addflag", "removeflag", "hasflag":
		if n.hasFirst && n.name != "hasflag" && !c.caps["variables"] {
			c.errorf(n.args[0].Pos, "%s with a variable name needs require \"variables\"", n.name)
		}
	case "date", "currentdate":
		if n.name == "date" {
			c.fieldNames(n)
		}
		part := n.args[len(n.args)-2].Strs[0]
		if _, ok := dateParts[strings.ToLower(part.Value)]; !ok && c.constant(part) {
			// A warning, as in Pigeonhole: the test is then false.
			c.warnf(part.Pos, "%s: unknown date part %q; the test is always false", n.name, part.Value)
		}
		if z, ok := n.tags["zone"]; ok && c.constant(z.Strs[0]) {
			if _, ok := parseZone(z.Strs[0].Value); !ok {
				c.errorf(z.Pos, "%s: :zone %q is not a time zone offset like +0100", n.name, z.Strs[0].Value)
			}
		}
	case "include":
		c.includeScript(n)
	case "fileinto":
		if s := n.args[0].Strs; len(s) == 1 && c.constant(s[0]) && strings.TrimSpace(s[0].Value) == "" {
			c.errorf(s[0].Pos, "fileinto: empty mailbox name")
		}
	}
	if _, last := n.tags["last"]; last {
		if _, index := n.tags["index"]; !index {
			c.errorf(n.tags["last"].Pos, "%s: :last needs :index (RFC 5260 section 6)", n.name)
		}
	}
	if ix, ok := n.tags["index"]; ok && ix.Num < 1 {
		c.errorf(ix.Pos, "%s: :index counts from 1", n.name)
	}
	if f, ok := n.tags["flags"]; ok {
		c.checkFlags(f)
	}
	if (n.name == "setflag" || n.name == "addflag" || n.name == "removeflag") && len(n.args) == 2 {
		c.checkFlags(n.args[1])
	}
}

// fieldNames checks the header field names of a test's first argument.
func (c *checker) fieldNames(n *node) {
	for _, s := range n.args[0].Strs {
		if c.constant(s) && !validFieldName(s.Value) {
			c.errorf(s.Pos, "%s: %q is not a header field name", n.name, s.Value)
		}
	}
}

// checkFlags rejects flags mailrules cannot set (RFC 3501 section 2.3.2).
func (c *checker) checkFlags(a Arg) {
	for _, s := range a.Strs {
		if !c.constant(s) {
			continue
		}
		for _, f := range strings.Fields(s.Value) {
			switch {
			case strings.EqualFold(f, `\Deleted`) || strings.EqualFold(f, `\Recent`):
				c.warnf(s.Pos, `flag %s is ignored: mailrules never sets \Deleted or \Recent (use discard)`, f)
			case !settable(f):
				c.warnf(s.Pos, `flag %q is ignored: not an IMAP flag (\Seen \Answered \Flagged \Draft, or a keyword without spaces or any of (){%%*"\])`, f)
			}
		}
	}
}

func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] >= 0x7f || name[i] == ':' {
			return false
		}
	}
	return true
}

// validVariableName accepts identifiers and dotted names (RFC 5229 section 3).
func validVariableName(name string) bool {
	if name == "" {
		return false
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" || !isIdentStart(part[0]) {
			return false
		}
		for i := 1; i < len(part); i++ {
			if !isIdentChar(part[i]) {
				return false
			}
		}
	}
	return true
}

// decodeEncoded replaces ${hex:...} and ${unicode:...} (RFC 5228 section
// 2.4.2.4). A sequence that is not well formed stays as written.
func decodeEncoded(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		colon := strings.IndexByte(rest, ':')
		if end < 0 || colon < 0 || colon > end {
			b.WriteString("${")
			s = rest
			continue
		}
		kind := strings.ToLower(strings.TrimSpace(rest[:colon]))
		body := rest[colon+1 : end]
		var out []byte
		fields := strings.Fields(body)
		// At least one hex pair or Unicode code point; a pair is 1 or 2
		// digits.
		ok := (kind == "hex" || kind == "unicode") && len(fields) > 0
		if ok {
			for _, f := range fields {
				v, err := strconv.ParseUint(f, 16, 32)
				if err != nil || (kind == "hex" && len(f) > 2) || len(f) > 8 {
					ok = false
					break
				}
				if kind == "hex" {
					out = append(out, byte(v))
				} else {
					if v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) {
						return s, fmt.Errorf("encoded character: ${unicode:%s} is not a Unicode scalar value", f)
					}
					out = append(out, string(rune(v))...)
				}
			}
		}
		if !ok {
			b.WriteString("${")
			s = rest
			continue
		}
		b.Write(out)
		s = rest[end+1:]
	}
}
