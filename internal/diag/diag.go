// Package diag holds what the configuration loader and the rule compiler
// report: a [Position] in a source file (FILE:LINE:COL), a [Problem] found
// there, error or warning, and [Problems], a sorted list of them that is an
// error.
//
// The loader (package config) and the compiler (package rules) produce
// these; the command (cmd/mailrules) prints them one a line.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Position is a place in a configuration file. Line and Col start at 1;
// zero means unknown. Col counts characters, not bytes.
type Position struct {
	File      string
	Line, Col int
}

// String formats the position as FILE:LINE:COL, leaving out unknown parts.
func (p Position) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d", p.Line)
		if p.Col > 0 {
			fmt.Fprintf(&b, ":%d", p.Col)
		}
	}
	return b.String()
}

// Severity says whether a problem stops the configuration from loading.
type Severity int

const (
	// Error is a problem that stops the configuration from loading (the
	// zero value).
	Error Severity = iota
	// Warning is something that loads but deserves attention, such as a
	// plaintext password in the file.
	Warning
)

// Problem is one thing wrong with a configuration or a rule.
type Problem struct {
	Pos      Position
	Rule     string // rule name; may be empty
	Msg      string
	Severity Severity
}

// String formats the problem as FILE:LINE:COL: rule "NAME": message, with
// "warning: " before the message of a warning.
func (p Problem) String() string {
	var b strings.Builder
	if s := p.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if p.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", p.Rule)
	}
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of problems; it implements error.
type Problems []Problem

// Error joins the problems, one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by line and column, keeping the order of
// problems at the same place. Problems are sorted within one file: the
// file name does not take part.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Pos, ps[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
