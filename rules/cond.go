package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
)

// CondKind is the kind of a Cond node.
type CondKind int

const (
	// CondUnknown is a condition the intermediate form cannot express (a
	// regular expression, an address list, the body...): it may be true or
	// false for any message.
	CondUnknown CondKind = iota
	// CondTrue is true for every message.
	CondTrue
	// CondFalse is false for every message.
	CondFalse
	// CondAnd is true where every child is.
	CondAnd
	// CondOr is true where some child is.
	CondOr
	// CondNot is true where its only child is false.
	CondNot
	// CondAtom is one test of a message value against a constant (Atom).
	CondAtom
)

// String returns the name of the kind, e.g. "AND".
func (k CondKind) String() string {
	switch k {
	case CondUnknown:
		return "UNKNOWN"
	case CondTrue:
		return "TRUE"
	case CondFalse:
		return "FALSE"
	case CondAnd:
		return "AND"
	case CondOr:
		return "OR"
	case CondNot:
		return "NOT"
	case CondAtom:
		return "ATOM"
	}
	return fmt.Sprintf("CondKind(%d)", int(k))
}

// Cond is a rule's condition in a small intermediate form: a tree of
// And/Or/Not over atoms (a message field, an operator, a constant), with
// True, False and Unknown leaves. It says exactly when the rule's condition
// is true, except where it is Unknown; what is derived from it (the SEARCH
// prefilter) decides how to approximate. The rule compiler builds it from
// the expression once; a Sieve compiler can build the same form.
type Cond struct {
	Kind     CondKind
	Children []*Cond // operands of CondAnd and CondOr, the one operand of CondNot
	Atom     Atom    // CondAtom
}

// String formats the condition for logs and tests, e.g.
// (AND (ATOM age > 720h0m0s) (NOT (ATOM flag \Flagged has))).
func (c *Cond) String() string {
	switch c.Kind {
	case CondAnd, CondOr, CondNot:
		s := "(" + c.Kind.String()
		for _, ch := range c.Children {
			s += " " + ch.String()
		}
		return s + ")"
	case CondAtom:
		return "(ATOM " + c.Atom.String() + ")"
	}
	return "(" + c.Kind.String() + ")"
}

// Field is the message value an Atom tests.
type Field int

const (
	// FieldFlag is the message's flags; Atom.Name is the flag.
	FieldFlag Field = iota + 1
	// FieldHeader is the unfolded, RFC 2047-decoded value of the header
	// field Atom.Name ("" when absent), as header(name) and subject read it.
	FieldHeader
	// FieldListID is the list identifier inside List-Id's <...>, lower-case.
	FieldListID
	// FieldMessageID is the Message-Id field's identifier.
	FieldMessageID
	// FieldSize is RFC822.SIZE (RFC 3501 section 2.3.4).
	FieldSize
	// FieldInternalDate is the INTERNALDATE (RFC 3501 section 2.3.3).
	FieldInternalDate
	// FieldAge is the time from the internal date to Atom.From, or to the
	// pass time when From is nil.
	FieldAge
	// FieldUnixTime is the internal date in seconds since the Unix epoch.
	FieldUnixTime
	// FieldYear is the internal date's year, in the date's own zone.
	FieldYear
)

// String returns the name the rules use for the field, e.g. "internalDate".
func (f Field) String() string {
	switch f {
	case FieldFlag:
		return "flag"
	case FieldHeader:
		return "header"
	case FieldListID:
		return "listId"
	case FieldMessageID:
		return "messageId"
	case FieldSize:
		return "size"
	case FieldInternalDate:
		return "internalDate"
	case FieldAge:
		return "age"
	case FieldUnixTime:
		return "internalDate.Unix()"
	case FieldYear:
		return "internalDate.Year()"
	}
	return fmt.Sprintf("Field(%d)", int(f))
}

// Op is the operator of an Atom: field OP constant.
type Op int

const (
	// OpEq is ==.
	OpEq Op = iota + 1
	// OpNe is !=.
	OpNe
	// OpLt is <.
	OpLt
	// OpLe is <=.
	OpLe
	// OpGt is >.
	OpGt
	// OpGe is >=.
	OpGe
	// OpContains is a case-sensitive substring test (contains).
	OpContains
	// OpStartsWith is a case-sensitive prefix test (startsWith).
	OpStartsWith
	// OpEndsWith is a case-sensitive suffix test (endsWith).
	OpEndsWith
	// OpIContains is a case-insensitive substring test (icontains).
	OpIContains
	// OpIEquals is a case-insensitive equality (iequals).
	OpIEquals
	// OpGlob is a match of a * and ? pattern (glob).
	OpGlob
	// OpHas is presence without a constant: the header field Name exists
	// (hasHeader), or the flag Name is set, compared ignoring case (seen,
	// hasFlag).
	OpHas
	// OpIn is membership of the flag Name in the flags as the server spells
	// them, compared exactly ("Work" in flags).
	OpIn
)

var opNames = map[Op]string{
	OpEq: "==", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpContains: "contains", OpStartsWith: "startsWith", OpEndsWith: "endsWith",
	OpIContains: "icontains", OpIEquals: "iequals", OpGlob: "glob", OpHas: "has", OpIn: "in",
}

// String returns the operator as the rules write it, e.g. ">=".
func (op Op) String() string {
	if s, ok := opNames[op]; ok {
		return s
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// flip mirrors a comparison so that its operands may swap sides.
func (op Op) flip() Op {
	switch op {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return op
}

// compareOps maps expr's comparison operators to Op.
var compareOps = map[string]Op{"==": OpEq, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe}

// stringOps maps expr's string operators and our string helpers to Op.
var stringOps = map[string]Op{
	"contains": OpContains, "startsWith": OpStartsWith, "endsWith": OpEndsWith,
	"icontains": OpIContains, "iequals": OpIEquals, "glob": OpGlob,
}

// timeMethodOps maps the time.Time comparison methods to Op.
var timeMethodOps = map[string]Op{"Before": OpLt, "After": OpGt, "Equal": OpEq}

// Atom is one test: Field Op Value, e.g. size > 1048576.
type Atom struct {
	Field Field
	// Name is the header field name (FieldHeader) or the flag (FieldFlag),
	// as the rule wrote it.
	Name  string
	Op    Op
	Value Const // unused for OpHas and OpIn
	// From is where FieldAge is measured from; nil means the pass time.
	From *Const
}

// String formats the atom, e.g. "header Subject contains \"x\"".
func (a Atom) String() string {
	s := a.Field.String()
	if a.Name != "" {
		s += " " + a.Name
	}
	s += " " + a.Op.String()
	if a.Op != OpHas && a.Op != OpIn {
		s += " " + a.Value.String()
	}
	if a.From != nil {
		s += " from " + a.From.String()
	}
	return s
}

// At returns the constant at the pass time now: a string, bool, int,
// int64, float64, time.Duration or time.Time as the rule computes it. ok is
// false when it could not be computed.
func (c Const) At(now time.Time) (v any, ok bool) {
	if c.fold == nil {
		return c.Value, c.Value != nil
	}
	return c.fold.run(now)
}

// String formats the constant: its value, or "f(now)" when it depends on
// the pass time.
func (c Const) String() string {
	if c.fold != nil {
		return "f(now)"
	}
	if s, ok := c.Value.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(c.Value)
}

func condOf(k CondKind) *Cond { return &Cond{Kind: k} }

func condAtom(a Atom) *Cond { return &Cond{Kind: CondAtom, Atom: a} }

func condNot(c *Cond) *Cond { return &Cond{Kind: CondNot, Children: []*Cond{c}} }

func condAnd(cs ...*Cond) *Cond { return &Cond{Kind: CondAnd, Children: cs} }

func condOr(cs ...*Cond) *Cond { return &Cond{Kind: CondOr, Children: cs} }

// condition returns a rule's compiled condition in the intermediate form.
func (c *compiler) condition(n ast.Node) *Cond {
	b := &condBuilder{c: c}
	return b.build(n)
}

// condBuilder turns a compiled (patched) condition into a Cond. In that
// tree a message value is a call $name($env), and a helper that reads the
// message gets $env as its first argument.
type condBuilder struct {
	c *compiler
}

func (b *condBuilder) build(n ast.Node) *Cond {
	if k, ok := b.c.constant(n); ok {
		// A truth value that depends on the pass time (now.Year() > 2020)
		// stays unknown.
		if v, isBool := k.Value.(bool); isBool {
			if v {
				return condOf(CondTrue)
			}
			return condOf(CondFalse)
		}
		return condOf(CondUnknown)
	}
	switch n := n.(type) {
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			return condNot(b.build(n.Node))
		}
	case *ast.BinaryNode:
		return b.binary(n)
	case *ast.ConditionalNode:
		// cond ? a : b is true where (cond and a) or (not cond and b).
		cond := b.build(n.Cond)
		return condOr(condAnd(cond, b.build(n.Exp1)), condAnd(condNot(cond), b.build(n.Exp2)))
	case *ast.CallNode:
		return b.call(n)
	case *ast.VariableDeclaratorNode:
		// Names bound by let read as unknown.
		return b.build(n.Expr)
	case *ast.SequenceNode:
		if len(n.Nodes) > 0 {
			return b.build(n.Nodes[len(n.Nodes)-1])
		}
	}
	return condOf(CondUnknown)
}

func (b *condBuilder) binary(n *ast.BinaryNode) *Cond {
	switch n.Operator {
	case "&&", "and":
		return condAnd(b.build(n.Left), b.build(n.Right))
	case "||", "or":
		return condOr(b.build(n.Left), b.build(n.Right))
	case "==", "!=", "<", "<=", ">", ">=":
		return b.compare(compareOps[n.Operator], n.Left, n.Right)
	case "contains", "startsWith", "endsWith":
		return b.stringTest(n.Left, stringOps[n.Operator], n.Right)
	case "in":
		if !b.isVar(n.Right, "flags") {
			break
		}
		if s, ok := b.c.compileTimeString(n.Left); ok {
			return condAtom(Atom{Field: FieldFlag, Name: s, Op: OpIn})
		}
	}
	return condOf(CondUnknown)
}

// stringTest is src OP value for a string-valued message field src.
func (b *condBuilder) stringTest(src ast.Node, op Op, value ast.Node) *Cond {
	field, name, ok := b.stringField(src)
	if !ok {
		return condOf(CondUnknown)
	}
	k, ok := b.c.constant(value)
	if !ok {
		return condOf(CondUnknown)
	}
	return condAtom(Atom{Field: field, Name: name, Op: op, Value: k})
}

func (b *condBuilder) compare(op Op, left, right ast.Node) *Cond {
	k, ok := b.c.constant(right)
	msgSide := left
	if !ok {
		if k, ok = b.c.constant(left); !ok {
			return condOf(CondUnknown)
		}
		msgSide, op = right, op.flip()
	}
	// Boolean tests: flagged == false, seen != true.
	if v, isBool := k.Value.(bool); isBool {
		if op != OpEq && op != OpNe {
			return condOf(CondUnknown)
		}
		sub := b.build(msgSide)
		if v == (op == OpEq) {
			return sub
		}
		return condNot(sub)
	}
	if field, name, ok := b.stringField(msgSide); ok {
		return condAtom(Atom{Field: field, Name: name, Op: op, Value: k})
	}
	for _, v := range []struct {
		name  string
		field Field
	}{{"size", FieldSize}, {"age", FieldAge}, {"internalDate", FieldInternalDate}} {
		if b.isVar(msgSide, v.name) {
			return condAtom(Atom{Field: v.field, Op: op, Value: k})
		}
	}
	recv, method, args, ok := methodCall(msgSide)
	if !ok {
		return condOf(CondUnknown)
	}
	switch {
	case len(args) == 0 && b.isVar(recv, "internalDate") && method == "Unix":
		return condAtom(Atom{Field: FieldUnixTime, Op: op, Value: k})
	case len(args) == 0 && b.isVar(recv, "internalDate") && method == "Year":
		return condAtom(Atom{Field: FieldYear, Op: op, Value: k})
	case len(args) == 1 && method == "Sub" && b.isVar(args[0], "internalDate"):
		// ref.Sub(internalDate) is the age measured from ref.
		if ref, ok := b.c.constant(recv); ok {
			return condAtom(Atom{Field: FieldAge, Op: op, Value: k, From: &ref})
		}
	}
	return condOf(CondUnknown)
}

func (b *condBuilder) call(n *ast.CallNode) *Cond {
	if recv, method, args, ok := methodCall(n); ok {
		// internalDate.Before(t), internalDate.After(t), internalDate.Equal(t)
		// and the same with the constant as receiver.
		op, known := timeMethodOps[method]
		if !known || len(args) != 1 {
			return condOf(CondUnknown)
		}
		switch {
		case b.isVar(recv, "internalDate"):
			if k, ok := b.c.constant(args[0]); ok {
				return condAtom(Atom{Field: FieldInternalDate, Op: op, Value: k})
			}
		case b.isVar(args[0], "internalDate"):
			if k, ok := b.c.constant(recv); ok {
				return condAtom(Atom{Field: FieldInternalDate, Op: op.flip(), Value: k})
			}
		}
		return condOf(CondUnknown)
	}
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return condOf(CondUnknown)
	}
	if name, ok := strings.CutPrefix(id.Value, "$"); ok {
		if flag, ok := flagVars[name]; ok && b.isVar(n, name) {
			return condAtom(Atom{Field: FieldFlag, Name: flag, Op: OpHas})
		}
		return condOf(CondUnknown)
	}
	switch id.Value {
	case "hasFlag", "hasHeader":
		s, ok := b.constArg(n, 1)
		if !ok {
			break
		}
		if id.Value == "hasFlag" {
			return condAtom(Atom{Field: FieldFlag, Name: s, Op: OpHas})
		}
		return condAtom(Atom{Field: FieldHeader, Name: s, Op: OpHas})
	case "olderThan", "newerThan":
		s, ok := b.constArg(n, 1)
		if !ok {
			break
		}
		dur, err := parseAge(s)
		if err != nil {
			break
		}
		op := OpGt
		if id.Value == "newerThan" {
			op = OpLt
		}
		return condAtom(Atom{Field: FieldAge, Op: op, Value: Const{Value: dur}})
	case "icontains", "iequals", "glob":
		if len(n.Arguments) != 2 {
			break
		}
		return b.stringTest(n.Arguments[0], stringOps[id.Value], n.Arguments[1])
	}
	return condOf(CondUnknown)
}

// flagVars are the boolean message variables that test a system flag.
var flagVars = map[string]string{"seen": `\Seen`, "answered": `\Answered`, "flagged": `\Flagged`, "draft": `\Draft`}

// constArg returns the string argument i of a call, when it is a constant
// known without the pass time (argument 0 of a helper that reads the
// message is $env).
func (b *condBuilder) constArg(n *ast.CallNode, i int) (string, bool) {
	if len(n.Arguments) <= i {
		return "", false
	}
	return b.c.compileTimeString(n.Arguments[i])
}

// isVar reports whether n reads the message variable name, which the
// patcher made $name($env).
func (b *condBuilder) isVar(n ast.Node, name string) bool {
	call, ok := n.(*ast.CallNode)
	if !ok || len(call.Arguments) != 1 {
		return false
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != varFuncName(name) {
		return false
	}
	env, ok := call.Arguments[0].(*ast.IdentifierNode)
	return ok && env.Value == "$env"
}

// stringField recognizes a string-valued message field: subject, listId,
// messageId or header(name) with a constant name.
func (b *condBuilder) stringField(n ast.Node) (field Field, name string, ok bool) {
	switch {
	case b.isVar(n, "subject"):
		return FieldHeader, "Subject", true
	case b.isVar(n, "listId"):
		return FieldListID, "", true
	case b.isVar(n, "messageId"):
		return FieldMessageID, "", true
	}
	call, isCall := n.(*ast.CallNode)
	if !isCall {
		return 0, "", false
	}
	id, isID := call.Callee.(*ast.IdentifierNode)
	if !isID || id.Value != "header" {
		return 0, "", false
	}
	name, ok = b.constArg(call, 1)
	return FieldHeader, name, ok
}

// methodCall splits recv.Method(args...).
func methodCall(n ast.Node) (recv ast.Node, method string, args []ast.Node, ok bool) {
	call, isCall := n.(*ast.CallNode)
	if !isCall {
		return nil, "", nil, false
	}
	m, isMember := call.Callee.(*ast.MemberNode)
	if !isMember || m.Optional {
		return nil, "", nil, false
	}
	name, isStr := m.Property.(*ast.StringNode)
	if !isStr {
		return nil, "", nil, false
	}
	return m.Node, name.Value, call.Arguments, true
}
