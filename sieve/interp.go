package sieve

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailrules/mailrules/message"
)

// Env is the message a script runs against, and what it may know of the
// world around it.
type Env struct {
	// Header is the raw header block (the fetched fields or all of them).
	// Run reads it in place: it must not change during the call; the
	// Outcome refers to none of its bytes.
	Header []byte
	// Raw is the whole message; needed only by body tests.
	Raw []byte
	// Size is the message size in bytes (RFC822.SIZE); when 0, len(Raw).
	Size int64
	// Flags are the message's IMAP flags; the internal flag variable of
	// imap4flags starts with them (RFC 5232 section 3).
	Flags []string
	// Now is the time currentdate reads.
	Now time.Time
	// MailboxExists answers mailboxexists (RFC 5490 section 3.1); nil
	// answers true for every name.
	MailboxExists func(name string) bool
}

// maxIncludeDepth bounds nested includes at run time.
const maxIncludeDepth = 16

// errStop ends the whole script (stop); errReturn the current included
// script (return, RFC 6609 section 3.3).
var (
	errStop   = errors.New("stop")
	errReturn = errors.New("return")
)

// run is the state of one run of a script over a message.
type run struct {
	env       *Env
	hdr       message.Header
	dec       *message.Decoder
	globals   map[string]string
	matchVars []string
	flags     []string // the internal flag variable
	actions   []Action
	keep      bool // the implicit keep still stands
	once      map[*Script]bool
	depth     int
}

// scope is one script's local variables during a run.
type scope struct {
	s       *Script
	vars    map[string]string
	globals map[string]bool // names declared global in this script
}

// Run executes the script over a message and returns its actions. It does
// no I/O. A run-time error (a :regex built from variables that does not
// compile, include nesting too deep) stops the script; the error is
// returned with no outcome, and the caller keeps the message as it is, as
// Pigeonhole falls back to keep.
func (s *Script) Run(env *Env) (*Outcome, error) {
	r := &run{env: env, dec: s.dec, keep: true}
	r.hdr.ParseInPlace(env.Header)
	for _, f := range env.Flags {
		if !strings.EqualFold(f, `\Recent`) {
			r.flags = addFlags(r.flags, []string{f})
		}
	}
	err := r.script(s)
	if err != nil && err != errStop {
		return nil, err
	}
	if r.keep {
		r.store(Action{Kind: ActionKeep, Implicit: true, Flags: append([]string(nil), r.flags...)})
	}
	return &Outcome{Actions: r.actions}, nil
}

func (r *run) script(s *Script) error {
	sc := &scope{s: s}
	err := r.block(sc, s.cmds)
	if err == errReturn {
		return nil
	}
	return err
}

func (r *run) block(sc *scope, list []*node) error {
	for _, n := range list {
		if err := r.command(sc, n); err != nil {
			return err
		}
	}
	return nil
}

// store records a keep or fileinto; a mailbox already stored to is stored
// once (RFC 5228 section 2.10.3), the first time's flags winning.
func (r *run) store(a Action) {
	for _, b := range r.actions {
		if (b.Kind == ActionKeep && a.Kind == ActionKeep) ||
			(b.Kind == ActionFileinto && a.Kind == ActionFileinto && b.Mailbox == a.Mailbox) {
			return
		}
	}
	r.actions = append(r.actions, a)
}

func (r *run) command(sc *scope, n *node) error {
	switch n.name {
	case "if":
		for _, b := range n.branches {
			ok := true
			if b.test != nil {
				var err error
				if ok, err = r.test(sc, b.test); err != nil {
					return err
				}
			}
			if ok {
				return r.block(sc, b.block)
			}
		}
		return nil
	case "stop":
		return errStop
	case "return":
		return errReturn
	case "keep":
		flags := r.flags
		if f, ok := n.tags["flags"]; ok {
			flags = addFlags(nil, r.strings(sc, f))
		}
		r.store(Action{Kind: ActionKeep, Flags: append([]string(nil), flags...), Pos: n.pos})
		r.keep = false
	case "discard":
		r.keep = false
		for _, a := range r.actions {
			if a.Kind == ActionDiscard {
				return nil
			}
		}
		r.actions = append(r.actions, Action{Kind: ActionDiscard, Pos: n.pos})
	case "fileinto":
		mailbox := r.expand(sc, n.args[0].Strs[0].Value)
		flags := r.flags
		if f, ok := n.tags["flags"]; ok {
			flags = addFlags(nil, r.strings(sc, f))
		}
		_, copied := n.tags["copy"]
		r.store(Action{Kind: ActionFileinto, Mailbox: mailbox, Flags: append([]string(nil), flags...), Copy: copied, Pos: n.pos})
		if !copied {
			r.keep = false
		}
	case "redirect", "reject", "ereject", "vacation", "notify":
		// Not carried out, so the implicit keep stays: nothing is lost.
		r.actions = append(r.actions, Action{Kind: ActionUnsupported, Name: n.name, Pos: n.pos})
	case "setflag", "addflag", "removeflag":
		list := splitFlags(r.strings(sc, n.args[1]))
		cur := r.flags
		if n.hasFirst {
			cur = splitFlags([]string{r.variable(sc, r.expand(sc, n.args[0].Strs[0].Value))})
		}
		switch n.name {
		case "setflag":
			cur = addFlags(nil, list)
		case "addflag":
			cur = addFlags(cur, list)
		case "removeflag":
			cur = removeFlags(cur, list)
		}
		if n.hasFirst {
			r.setVariable(sc, r.expand(sc, n.args[0].Strs[0].Value), strings.Join(cur, " "))
		} else {
			r.flags = cur
		}
	case "set":
		r.setVariable(sc, r.expand(sc, n.args[0].Strs[0].Value), modify(n, r.expand(sc, n.args[1].Strs[0].Value)))
	case "global":
		if sc.globals == nil {
			sc.globals = map[string]bool{}
		}
		for _, s := range n.args[0].Strs {
			sc.globals[strings.ToLower(r.expand(sc, s.Value))] = true
		}
	case "include":
		if n.include == nil {
			return nil // :optional and missing
		}
		if _, once := n.tags["once"]; once {
			if r.once[n.include] {
				return nil
			}
			if r.once == nil {
				r.once = map[*Script]bool{}
			}
			r.once[n.include] = true
		}
		if r.depth >= maxIncludeDepth {
			return fmt.Errorf("%s: include nested more than %d deep", n.pos, maxIncludeDepth)
		}
		r.depth++
		err := r.script(n.include)
		r.depth--
		return err
	}
	return nil
}

// variable reads a variable: a match variable ${N}, a global (declared, or
// in the global namespace), or a local one; "" when unset
// (RFC 5229 section 3, RFC 6609 section 3.5).
func (r *run) variable(sc *scope, name string) string {
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		if n, err := strconv.Atoi(name); err == nil && n < len(r.matchVars) {
			return r.matchVars[n]
		}
		return ""
	}
	lower := strings.ToLower(name)
	if g, ok := strings.CutPrefix(lower, "global."); ok {
		return r.globals[g]
	}
	if sc.globals[lower] {
		return r.globals[lower]
	}
	return sc.vars[lower]
}

func (r *run) setVariable(sc *scope, name, value string) {
	lower := strings.ToLower(name)
	if r.globals == nil {
		r.globals = map[string]string{}
	}
	if g, ok := strings.CutPrefix(lower, "global."); ok {
		r.globals[g] = value
		return
	}
	if sc.globals[lower] {
		r.globals[lower] = value
		return
	}
	if sc.vars == nil {
		sc.vars = map[string]string{}
	}
	sc.vars[lower] = value
}

// expand replaces variable references ${name} when the script requires
// variables (RFC 5229 section 3); a reference that is not well formed
// stays as written.
func (r *run) expand(sc *scope, s string) string {
	if !sc.s.caps["variables"] || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		end := strings.IndexByte(rest, '}')
		if end >= 0 && isVariableRef(rest[:end]) {
			b.WriteString(r.variable(sc, rest[:end]))
			s = rest[end+1:]
			continue
		}
		b.WriteString("${")
		s = rest
	}
}

// isVariableRef accepts a number or an identifier with optional dotted
// namespace parts.
func isVariableRef(s string) bool {
	if s == "" {
		return false
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
		}
	}
	return digits || validVariableName(s)
}

// strings expands every string of an argument. The result must not be
// modified.
func (r *run) strings(sc *scope, a Arg) []string {
	if a.values != nil {
		return a.values
	}
	out := make([]string, len(a.Strs))
	for i, s := range a.Strs {
		out[i] = r.expand(sc, s.Value)
	}
	return out
}

// asciiUpper upper-cases ASCII letters only, as Pigeonhole's :upper does.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// modify applies set's modifiers (case changes touch ASCII letters only,
// as in Pigeonhole), in the order of RFC 5229 section 4.1:
// :lower/:upper, then :lowerfirst/:upperfirst, then :quotewildcard
// (or :quoteregex), then :length.
func modify(n *node, v string) string {
	if _, ok := n.tags["lower"]; ok {
		v = asciiLower(v)
	}
	if _, ok := n.tags["upper"]; ok {
		v = asciiUpper(v)
	}
	if _, ok := n.tags["lowerfirst"]; ok && v != "" {
		v = asciiLower(v[:1]) + v[1:]
	}
	if _, ok := n.tags["upperfirst"]; ok && v != "" {
		v = asciiUpper(v[:1]) + v[1:]
	}
	if _, ok := n.tags["quotewildcard"]; ok {
		var b strings.Builder
		for _, c := range v {
			if c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		}
		v = b.String()
	}
	if _, ok := n.tags["quoteregex"]; ok {
		var b strings.Builder
		for _, c := range v {
			if strings.ContainsRune(`\.+*?()[]{}^$|`, c) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		}
		v = b.String()
	}
	if _, ok := n.tags["length"]; ok {
		v = strconv.Itoa(len([]rune(v)))
	}
	return v
}

// splitFlags splits flag lists on spaces (RFC 5232 section 3).
func splitFlags(list []string) []string {
	var out []string
	for _, s := range list {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

// addFlags adds flags not there yet (case-insensitively), keeping order.
func addFlags(cur, add []string) []string {
	out := append([]string(nil), cur...)
	for _, f := range splitFlags(add) {
		if !containsFold(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func removeFlags(cur, remove []string) []string {
	var out []string
	for _, f := range cur {
		if !containsFold(remove, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
