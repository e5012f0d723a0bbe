package gmailfilter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Node is one part of a parsed Gmail search: a [Term], or an [And],
// [Or] or [Not] of other nodes.
type Node interface {
	node()
	// String writes the node back in Gmail search syntax.
	String() string
}

// Term is one search term: a word, a "quoted phrase" or an operator with
// its value (from:alice, larger:10M, has:attachment).
type Term struct {
	// Op is the operator in lower case ("from", "has", "larger"...), or ""
	// for a plain word or phrase.
	Op string
	// Value is the word, the phrase without its quotes, or the operator's
	// value.
	Value string
	// Quoted reports whether Value was written in double quotes.
	Quoted bool
	// Col is where the term starts in the search text, in characters
	// from 1.
	Col int
}

// And matches when every one of its nodes does (terms side by side, or
// joined by AND).
type And []Node

// Or matches when any one of its nodes does (OR, |, or {braces}).
type Or []Node

// Not matches when its node does not (a leading -).
type Not struct{ X Node }

func (Term) node() {}
func (And) node()  {}
func (Or) node()   {}
func (Not) node()  {}

// String writes the term in Gmail syntax.
func (t Term) String() string {
	v := t.Value
	if t.Quoted {
		v = `"` + v + `"`
	}
	if t.Op == "" {
		return v
	}
	return t.Op + ":" + v
}

// String writes the nodes in parentheses, side by side.
func (a And) String() string { return "(" + joinNodes(a, " ") + ")" }

// String writes the nodes in braces, which Gmail reads as OR.
func (o Or) String() string { return "{" + joinNodes(o, " ") + "}" }

// String writes the node after a minus sign.
func (n Not) String() string { return "-" + n.X.String() }

func joinNodes(ns []Node, sep string) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.String()
	}
	return strings.Join(parts, sep)
}

// SyntaxError is a search text Parse cannot read.
type SyntaxError struct {
	Col int // where, in characters from 1
	Msg string
}

// Error returns "column N: message".
func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// tokenKind says what a token is.
type tokenKind int

const (
	tokWord   tokenKind = iota // a run of characters up to a space, bracket or quote
	tokPhrase                  // "a quoted phrase", without its quotes
	tokLParen                  // (
	tokRParen                  // )
	tokLBrace                  // {
	tokRBrace                  // }
	tokMinus                   // - right before a term: negation
	tokOr                      // OR or |
	tokAnd                     // AND
	tokEOF
)

// token is one lexical unit of a search text.
type token struct {
	kind tokenKind
	text string
	col  int  // in characters from 1
	glue bool // no space between this token and the one before
}

// tokenize splits a Gmail search into tokens. Double quotes have no
// escapes in Gmail's syntax: a phrase ends at the next double quote.
func tokenize(s string) ([]token, error) {
	var toks []token
	col := 0 // characters before i
	glue := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		start := col + 1
		switch {
		case unicode.IsSpace(r):
			i += size
			col++
			glue = false
			continue
		case r == '(' || r == ')' || r == '{' || r == '}' || r == '|':
			kind := tokOr
			switch r {
			case '(':
				kind = tokLParen
			case ')':
				kind = tokRParen
			case '{':
				kind = tokLBrace
			case '}':
				kind = tokRBrace
			}
			toks = append(toks, token{kind: kind, text: string(r), col: start, glue: glue})
			i += size
			col++
		case r == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, &SyntaxError{Col: start, Msg: "unterminated quoted phrase"}
			}
			text := s[i+1 : i+1+end]
			toks = append(toks, token{kind: tokPhrase, text: text, col: start, glue: glue})
			i += end + 2
			col += utf8.RuneCountInString(text) + 2
		case r == '-' && i+1 < len(s) && !isTermEnd(s[i+1:]):
			toks = append(toks, token{kind: tokMinus, text: "-", col: start, glue: glue})
			i += size
			col++
		default:
			j := i
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if unicode.IsSpace(r2) || strings.ContainsRune(`(){}|"`, r2) {
					break
				}
				j += n
			}
			text := s[i:j]
			kind := tokWord
			switch text {
			case "OR":
				kind = tokOr
			case "AND":
				kind = tokAnd
			}
			toks = append(toks, token{kind: kind, text: text, col: start, glue: glue})
			col += utf8.RuneCountInString(text)
			i = j
		}
		glue = true
	}
	toks = append(toks, token{kind: tokEOF, col: col + 1})
	return toks, nil
}

// isTermEnd reports whether s starts with something that cannot follow a
// negating minus: a space, a closing bracket or nothing.
func isTermEnd(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s == "" || unicode.IsSpace(r) || r == ')' || r == '}' || r == '|'
}

// maxDepth bounds the nesting of brackets and negations, so that hostile
// input cannot exhaust the stack.
const maxDepth = 100

// parser reads tokens into nodes.
type parser struct {
	toks  []token
	pos   int
	depth int
}

// Parse reads a Gmail search text (the syntax of the search box and of a
// filter's "Has the words"): words and "quoted phrases" side by side (all
// must match), OR or | between terms (either; it binds tighter than the
// space, as in Gmail), AND, a leading - (not), (parentheses) to group,
// {braces} for any of the terms inside, and operator:value terms whose
// value may itself be a group, as in from:(alice OR bob). Operator names
// are not checked here; an unknown one is the translator's concern.
//
// An empty or blank search is a nil Node and no error.
func Parse(s string) (Node, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.sequence(tokEOF)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, &SyntaxError{Col: t.col, Msg: fmt.Sprintf("unexpected %q", t.text)}
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

// sequence reads terms up to the closing token end: terms side by side
// (and AND) are an And, each possibly an OR chain.
func (p *parser) sequence(end tokenKind) (Node, error) {
	var items []Node
	for {
		t := p.peek()
		if t.kind == end || t.kind == tokEOF || t.kind == tokRParen || t.kind == tokRBrace {
			break
		}
		if t.kind == tokAnd {
			p.next()
			if len(items) == 0 {
				return nil, &SyntaxError{Col: t.col, Msg: "AND with nothing before it"}
			}
			if k := p.peek().kind; k == end || k == tokEOF || k == tokRParen || k == tokRBrace {
				return nil, &SyntaxError{Col: t.col, Msg: "AND with nothing after it"}
			}
			continue
		}
		n, err := p.orChain()
		if err != nil {
			return nil, err
		}
		items = append(items, n)
	}
	switch len(items) {
	case 0:
		return nil, nil
	case 1:
		return items[0], nil
	}
	return And(items), nil
}

// orChain reads unary terms joined by OR or |.
func (p *parser) orChain() (Node, error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	items := []Node{first}
	for p.peek().kind == tokOr {
		op := p.next()
		switch p.peek().kind {
		case tokEOF, tokRParen, tokRBrace, tokOr, tokAnd:
			return nil, &SyntaxError{Col: op.col, Msg: op.text + " with nothing after it"}
		}
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		items = append(items, n)
	}
	if len(items) == 1 {
		return first, nil
	}
	return Or(items), nil
}

// unary reads an optional minus and one primary term.
func (p *parser) unary() (Node, error) {
	t := p.peek()
	if t.kind == tokOr {
		return nil, &SyntaxError{Col: t.col, Msg: t.text + " with nothing before it"}
	}
	if t.kind != tokMinus {
		return p.primary()
	}
	p.next()
	if err := p.enter(t.col); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return Not{X: x}, nil
}

func (p *parser) enter(col int) error {
	p.depth++
	if p.depth > maxDepth {
		return &SyntaxError{Col: col, Msg: fmt.Sprintf("nested more than %d deep", maxDepth)}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// primary reads a word, a phrase, a group or an operator term.
func (p *parser) primary() (Node, error) {
	t := p.next()
	switch t.kind {
	case tokPhrase:
		return Term{Value: t.text, Quoted: true, Col: t.col}, nil
	case tokLParen, tokLBrace:
		return p.group(t)
	case tokWord:
		return p.word(t)
	case tokAnd:
		return nil, &SyntaxError{Col: t.col, Msg: "AND with nothing before it"}
	case tokEOF:
		return nil, &SyntaxError{Col: t.col, Msg: "a term is missing at the end"}
	}
	return nil, &SyntaxError{Col: t.col, Msg: fmt.Sprintf("unexpected %q", t.text)}
}

// group reads the rest of (...) or {...} after the opening token open.
func (p *parser) group(open token) (Node, error) {
	if err := p.enter(open.col); err != nil {
		return nil, err
	}
	defer p.leave()
	closing, want := tokRParen, ")"
	if open.kind == tokLBrace {
		closing, want = tokRBrace, "}"
	}
	n, err := p.sequence(closing)
	if err != nil {
		return nil, err
	}
	end := p.next()
	if end.kind != closing {
		if end.kind == tokEOF {
			return nil, &SyntaxError{Col: open.col, Msg: fmt.Sprintf("%s is never closed", open.text)}
		}
		return nil, &SyntaxError{Col: end.col, Msg: fmt.Sprintf("%q closes %q at column %d; want %s", end.text, open.text, open.col, want)}
	}
	if n == nil {
		return nil, &SyntaxError{Col: open.col, Msg: "empty " + open.text + want}
	}
	if open.kind == tokLBrace {
		// {a b} is any of a and b; {a OR b} the same.
		if and, ok := n.(And); ok {
			return Or(and), nil
		}
	}
	return n, nil
}

// word reads a bare word, which may be operator:value. The value may be
// the rest of the word, or a phrase or group right after the colon
// (subject:"a b", from:(a OR b)), or, after "from: " with a space, the next
// word or phrase.
func (p *parser) word(t token) (Node, error) {
	op, value, ok := strings.Cut(t.text, ":")
	op = strings.ToLower(op)
	if !ok || !isOperator(op) {
		return Term{Value: t.text, Col: t.col}, nil
	}
	if value != "" {
		return Term{Op: op, Value: value, Col: t.col}, nil
	}
	next := p.peek()
	switch next.kind {
	case tokPhrase:
		p.next()
		return Term{Op: op, Value: next.text, Quoted: true, Col: t.col}, nil
	case tokWord:
		if !next.glue {
			p.next()
			return Term{Op: op, Value: next.text, Col: t.col}, nil
		}
	case tokLParen, tokLBrace:
		p.next()
		g, err := p.group(next)
		if err != nil {
			return nil, err
		}
		return scope(g, op), nil
	}
	return nil, &SyntaxError{Col: t.col, Msg: fmt.Sprintf("%s: has no value", op)}
}

// isOperator reports whether Parse takes op before a colon as an
// operator name (see https://support.google.com/mail/answer/7190). Any
// other word:word, such as a URL or a time of day, is a plain word. Which
// operators mailrules can express is the translator's concern.
func isOperator(op string) bool {
	switch op {
	case "from", "to", "cc", "bcc", "subject", "list",
		"has", "is", "in", "label", "category", "filename",
		"larger", "smaller", "size",
		"older_than", "newer_than", "after", "before", "older", "newer",
		"deliveredto", "rfc822msgid":
		return true
	}
	return false
}

// scope gives op to every plain word and phrase in n: from:(a OR b) is
// from:a OR from:b. Terms with an operator of their own keep it.
func scope(n Node, op string) Node {
	switch n := n.(type) {
	case Term:
		if n.Op == "" {
			n.Op = op
		}
		return n
	case And:
		out := make(And, len(n))
		for i, x := range n {
			out[i] = scope(x, op)
		}
		return out
	case Or:
		out := make(Or, len(n))
		for i, x := range n {
			out[i] = scope(x, op)
		}
		return out
	case Not:
		return Not{X: scope(n.X, op)}
	}
	return n
}
