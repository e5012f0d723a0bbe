package rules

import (
	"time"

	"github.com/expr-lang/expr/ast"
	exprcompiler "github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Const is a constant operand of an Atom. expr computes it, from the rule's
// own checked subexpression, so it is the value the rule sees: a literal,
// days(30), duration("48h"), date("2024-01-01"), now - days(3)... A value
// that reads the pass time (now) is computed for each pass; use At.
type Const struct {
	// Value is the value when it does not depend on the pass time; nil
	// otherwise.
	Value any
	fold  *folded
}

// folded is a constant subexpression that reads the pass time, compiled
// by expr to be run at each pass.
type folded struct {
	prog *vm.Program
}

// run computes the subexpression with now as the pass time.
func (f *folded) run(now time.Time) (any, bool) {
	v, err := vm.Run(f.prog, &evalEnv{now: now})
	return v, err == nil && v != nil
}

// newFoldConfig is expr's configuration for compiling constant
// subexpressions: the same functions and environment as the rules.
func (c *compiler) newFoldConfig() *conf.Config {
	config := conf.CreateNew()
	for _, op := range c.baseOpts {
		op(config)
	}
	for name := range config.Disabled {
		delete(config.Builtins, name)
	}
	config.Check()
	return config
}

// constant folds n, a node of a checked rule condition, when it does not
// read the message: it is compiled by expr and, unless it reads the pass
// time, run once. ok is false for anything that reads the message (or a
// name bound by let, or a predicate's #), and for what expr cannot compute.
func (c *compiler) constant(n ast.Node) (Const, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return Const{Value: n.Value}, true
	case *ast.FloatNode:
		return Const{Value: n.Value}, true
	case *ast.StringNode:
		return Const{Value: n.Value}, true
	case *ast.BoolNode:
		return Const{Value: n.Value}, true
	case *ast.ConstantNode:
		// What expr's optimizer folded already.
		return Const{Value: n.Value}, n.Value != nil
	}
	free, readsNow := c.messageFree(n)
	if !free {
		return Const{}, false
	}
	if c.foldConfig == nil {
		c.foldConfig = c.newFoldConfig()
	}
	prog, err := exprcompiler.Compile(&parser.Tree{Node: n}, c.foldConfig)
	if err != nil {
		return Const{}, false
	}
	f := &folded{prog: prog}
	if readsNow {
		return Const{fold: f}, true
	}
	v, ok := f.run(time.Time{})
	if !ok {
		return Const{}, false
	}
	return Const{Value: v}, true
}

// compileTimeString is the string constant n, when it is known without the
// pass time.
func (c *compiler) compileTimeString(n ast.Node) (string, bool) {
	k, ok := c.constant(n)
	if !ok || k.fold != nil {
		return "", false
	}
	s, ok := k.Value.(string)
	return s, ok
}

// messageFree reports whether n reads nothing of the message: its only
// reference to $env is as the argument of $now (the pass time, readsNow),
// and every other name is a function it calls.
func (c *compiler) messageFree(n ast.Node) (free, readsNow bool) {
	w := &freeWalker{callees: map[*ast.IdentifierNode]bool{}}
	ast.Walk(&n, w)
	if w.bound {
		return false, false
	}
	envs, nowEnvs := 0, 0
	for _, id := range w.idents {
		switch {
		case w.callees[id]:
		case id.Value == "$env":
			envs++
		default:
			return false, false
		}
	}
	for _, call := range w.nowCalls {
		if len(call.Arguments) == 1 {
			if id, ok := call.Arguments[0].(*ast.IdentifierNode); ok && id.Value == "$env" {
				nowEnvs++
			}
		}
	}
	return envs == nowEnvs, nowEnvs > 0
}

// freeWalker collects what messageFree looks at.
type freeWalker struct {
	idents   []*ast.IdentifierNode
	callees  map[*ast.IdentifierNode]bool
	nowCalls []*ast.CallNode
	bound    bool // a let or a predicate's #: names that only mean something inside
}

// Visit implements ast.Visitor.
func (w *freeWalker) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		w.idents = append(w.idents, n)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			w.callees[id] = true
			if id.Value == varFuncName("now") {
				w.nowCalls = append(w.nowCalls, n)
			}
		}
	case *ast.PointerNode, *ast.VariableDeclaratorNode:
		w.bound = true
	}
}
