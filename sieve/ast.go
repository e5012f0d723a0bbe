package sieve

import "github.com/mailrules/mailrules/internal/diag"

// Node kinds of the syntax tree (RFC 5228 section 8.2).

// Command is one command of a script: an identifier, its arguments, its
// tests and, for control commands such as if, a block.
type Command struct {
	Name  string
	Pos   diag.Position
	Args  []Arg
	Tests []*Test
	// Block is the command's block; nil when it has none.
	Block []*Command
	// HasBlock is true when the command was written with a block, even an
	// empty one.
	HasBlock bool
}

// Test is one test: an identifier, its arguments and its nested tests
// (allof, anyof, not).
type Test struct {
	Name  string
	Pos   diag.Position
	Args  []Arg
	Tests []*Test
}

// ArgKind says what an argument is.
type ArgKind int

const (
	// ArgTag is a tagged argument such as :is or :comparator.
	ArgTag ArgKind = iota
	// ArgNumber is a number, with its K, M or G quantifier applied.
	ArgNumber
	// ArgStrings is a string or a string list.
	ArgStrings
)

// Arg is one argument.
type Arg struct {
	Kind ArgKind
	Pos  diag.Position
	Tag  string   // ArgTag: the name without the colon, lower-case
	Num  int64    // ArgNumber
	Strs []String // ArgStrings
	// List is true when the strings were written as a bracketed list.
	List bool

	// values are the strings' values, set by the checker when none holds a
	// variable reference, so that a run need not copy them.
	values []string
}

// String is one string literal with where it starts.
type String struct {
	Value string
	Pos   diag.Position
}

func (a Arg) describe() string {
	switch a.Kind {
	case ArgTag:
		return ":" + a.Tag
	case ArgNumber:
		return "a number"
	}
	if a.List {
		return "a string list"
	}
	return "a string"
}
