package sieve

import (
	"fmt"

	"github.com/mailrules/mailrules/internal/diag"
)

// maxDepth bounds the nesting of blocks and tests so that a hostile script
// cannot exhaust the stack.
const maxDepth = 64

// Parse reads a script (RFC 5228 section 8.2) into its commands. file names
// the script in problem positions. It reports every syntax problem it finds
// as diag.Problems, going on after each at the next ";" or "}".
func Parse(file string, src []byte) ([]*Command, error) {
	var problems diag.Problems
	p := &parser{lex: newLexer(file, string(src), &problems), problems: &problems}
	p.advance()
	cmds := p.commands(0, false)
	if len(problems) > 0 {
		problems.Sort()
		return cmds, problems
	}
	return cmds, nil
}

type parser struct {
	lex      *lexer
	tok      token
	problems *diag.Problems
}

func (p *parser) advance() { p.tok = p.lex.next() }

func (p *parser) errorf(pos diag.Position, format string, args ...any) {
	*p.problems = append(*p.problems, diag.Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tokPunct && p.tok.text == s }

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of script"
	case tokIdent:
		return fmt.Sprintf("identifier %q", t.text)
	case tokTag:
		return ":" + t.text
	case tokNumber:
		return "a number"
	case tokString:
		return "a string"
	}
	return fmt.Sprintf("%q", t.text)
}

// commands reads commands up to the end of the script or, inBlock, up to the
// closing "}" (which it does not consume).
func (p *parser) commands(depth int, inBlock bool) []*Command {
	var out []*Command
	for {
		switch {
		case p.tok.kind == tokEOF:
			return out
		case p.isPunct("}"):
			if inBlock {
				return out
			}
			p.errorf(p.tok.pos, "unexpected }")
			p.advance()
			continue
		}
		if c := p.command(depth); c != nil {
			out = append(out, c)
		}
	}
}

// recover skips to just after the next ";" or to the next "}" or "{" ...
// block so that one mistake yields one problem.
func (p *parser) recover() {
	for p.tok.kind != tokEOF {
		if p.isPunct(";") {
			p.advance()
			return
		}
		if p.isPunct("}") {
			return
		}
		p.advance()
	}
}

func (p *parser) command(depth int) *Command {
	if p.tok.kind != tokIdent {
		p.errorf(p.tok.pos, "expected a command, found %s", describe(p.tok))
		p.advance()
		p.recover()
		return nil
	}
	c := &Command{Name: p.tok.text, Pos: p.tok.pos}
	p.advance()
	ok := true
	c.Args, c.Tests, ok = p.arguments(depth)
	if !ok {
		p.recover()
		return nil
	}
	switch {
	case p.isPunct(";"):
		p.advance()
	case p.isPunct("{"):
		if depth >= maxDepth {
			p.errorf(p.tok.pos, "blocks nested too deeply")
			p.recover()
			return nil
		}
		open := p.tok.pos
		p.advance()
		c.HasBlock = true
		c.Block = p.commands(depth+1, true)
		if !p.isPunct("}") {
			p.errorf(open, "block has no closing }")
			return c
		}
		p.advance()
	default:
		p.errorf(p.tok.pos, "expected ; or { after %s, found %s", c.Name, describe(p.tok))
		p.recover()
		return nil
	}
	return c
}

// arguments reads arguments and then an optional test or test list.
func (p *parser) arguments(depth int) ([]Arg, []*Test, bool) {
	var args []Arg
	for {
		switch p.tok.kind {
		case tokTag:
			args = append(args, Arg{Kind: ArgTag, Tag: p.tok.text, Pos: p.tok.pos})
			p.advance()
			continue
		case tokNumber:
			args = append(args, Arg{Kind: ArgNumber, Num: p.tok.num, Pos: p.tok.pos})
			p.advance()
			continue
		case tokString:
			args = append(args, Arg{Kind: ArgStrings, Strs: []String{{Value: p.tok.text, Pos: p.tok.pos}}, Pos: p.tok.pos})
			p.advance()
			continue
		}
		if p.isPunct("[") {
			a, ok := p.stringList()
			if !ok {
				return nil, nil, false
			}
			args = append(args, a)
			continue
		}
		break
	}
	if depth >= maxDepth {
		p.errorf(p.tok.pos, "tests nested too deeply")
		return nil, nil, false
	}
	switch {
	case p.tok.kind == tokIdent:
		t := p.test(depth + 1)
		if t == nil {
			return nil, nil, false
		}
		return args, []*Test{t}, true
	case p.isPunct("("):
		tests, ok := p.testList(depth + 1)
		return args, tests, ok
	}
	return args, nil, true
}

func (p *parser) stringList() (Arg, bool) {
	a := Arg{Kind: ArgStrings, Pos: p.tok.pos, List: true}
	p.advance()
	for {
		if p.tok.kind != tokString {
			p.errorf(p.tok.pos, "expected a string in the string list, found %s", describe(p.tok))
			return a, false
		}
		a.Strs = append(a.Strs, String{Value: p.tok.text, Pos: p.tok.pos})
		p.advance()
		if p.isPunct("]") {
			p.advance()
			return a, true
		}
		if !p.isPunct(",") {
			p.errorf(p.tok.pos, "expected , or ] in the string list, found %s", describe(p.tok))
			return a, false
		}
		p.advance()
	}
}

func (p *parser) test(depth int) *Test {
	if p.tok.kind != tokIdent {
		p.errorf(p.tok.pos, "expected a test, found %s", describe(p.tok))
		return nil
	}
	t := &Test{Name: p.tok.text, Pos: p.tok.pos}
	p.advance()
	var ok bool
	t.Args, t.Tests, ok = p.arguments(depth)
	if !ok {
		return nil
	}
	return t
}

func (p *parser) testList(depth int) ([]*Test, bool) {
	p.advance() // (
	var tests []*Test
	for {
		t := p.test(depth)
		if t == nil {
			return nil, false
		}
		tests = append(tests, t)
		if p.isPunct(")") {
			p.advance()
			return tests, true
		}
		if !p.isPunct(",") {
			p.errorf(p.tok.pos, "expected , or ) in the test list, found %s", describe(p.tok))
			return nil, false
		}
		p.advance()
	}
}
