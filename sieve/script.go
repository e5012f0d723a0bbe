package sieve

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/message"
	"github.com/mailrules/mailrules/rules"
)

// Options says where included scripts are found. A nil *Options is
// equivalent to a zero Options.
type Options struct {
	// PersonalDir is where include :personal (the default) looks; ""
	// means the directory of the script that includes.
	PersonalDir string
	// GlobalDir is where include :global looks; "" means include :global
	// is an error.
	GlobalDir string
}

// Script is a compiled Sieve script. It is immutable and safe for
// concurrent use.
type Script struct {
	file     string
	name     string // the base name without .sieve, for include :once and logs
	caps     map[string]bool
	cmds     []*node
	warnings diag.Problems
	needs    rules.Needs
	dec      *message.Decoder
}

// compilation is what compiling a script and everything it includes shares.
type compilation struct {
	opts     Options
	scripts  map[string]*Script // by absolute path
	active   map[string]bool    // being compiled: an include cycle
	problems diag.Problems
	warnings diag.Problems
	dec      *message.Decoder
}

// CompileFile reads and compiles the script at path and the scripts it
// includes. Errors are diag.Problems with every problem found, in every
// file; warnings (unsupported actions that need mail to be sent, flags
// that are ignored) are in Script.Warnings.
func CompileFile(path string, opts *Options) (*Script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sieve script: %w", err)
	}
	return Compile(path, src, opts)
}

// Compile compiles a script read from file (used to find includes and in
// problem positions).
func Compile(file string, src []byte, opts *Options) (*Script, error) {
	comp := &compilation{scripts: map[string]*Script{}, active: map[string]bool{}, dec: message.NewDecoder()}
	if opts != nil {
		comp.opts = *opts
	}
	s := comp.compile(file, src)
	if len(comp.problems) > 0 {
		comp.problems.Sort()
		return nil, comp.problems
	}
	s.warnings = comp.warnings
	s.needs = scriptNeeds(s)
	return s, nil
}

func (comp *compilation) compile(file string, src []byte) *Script {
	s := &Script{file: file, caps: map[string]bool{}, dec: comp.dec,
		name: strings.TrimSuffix(filepath.Base(file), ".sieve")}
	if abs, err := filepath.Abs(file); err == nil {
		comp.active[abs] = true
		defer delete(comp.active, abs)
		comp.scripts[abs] = s
	}
	cmds, err := Parse(file, src)
	if ps, ok := err.(diag.Problems); ok {
		comp.problems = append(comp.problems, ps...)
	}
	c := &checker{file: file, caps: s.caps, comp: comp, script: s}
	rest := c.requires(cmds)
	s.cmds = c.block(rest)
	comp.problems = append(comp.problems, c.problems...)
	comp.warnings = append(comp.warnings, c.warnings...)
	return s
}

// includeScript resolves and compiles the script an include names
// (RFC 6609 section 3.2).
func (c *checker) includeScript(n *node) {
	arg := n.args[0].Strs[0]
	if !c.constant(arg) {
		c.errorf(arg.Pos, "include: the script name must be a constant")
		return
	}
	name := arg.Value
	if name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		c.errorf(arg.Pos, "include: %q is not a script name (no paths)", name)
		return
	}
	dir := c.comp.opts.PersonalDir
	if _, global := n.tags["global"]; global {
		dir = c.comp.opts.GlobalDir
		if dir == "" {
			c.errorf(arg.Pos, "include :global %q: no global script directory is configured (sieve_global_dir)", name)
			return
		}
	} else if dir == "" {
		dir = filepath.Dir(c.file)
	}
	path := filepath.Join(dir, name)
	if !strings.HasSuffix(path, ".sieve") {
		path += ".sieve"
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		c.errorf(arg.Pos, "include %q: %v", name, err)
		return
	}
	if c.comp.active[abs] {
		c.errorf(arg.Pos, "include %q: the script includes itself (RFC 6609 section 3.2)", name)
		return
	}
	if s, ok := c.comp.scripts[abs]; ok {
		n.include = s
		return
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		if _, optional := n.tags["optional"]; optional && os.IsNotExist(err) {
			return
		}
		c.errorf(arg.Pos, "include %q: %v", name, err)
		return
	}
	n.include = c.comp.compile(path, src)
}

// File returns the path the script was compiled from.
func (s *Script) File() string { return s.file }

// Warnings returns what compiles but deserves attention: actions that need
// mail to be sent (not carried out) and flags that are ignored.
func (s *Script) Warnings() diag.Problems { return s.warnings }

// Needs returns what must be fetched to run the script: the header fields
// its tests read (every field when a name is computed from variables), the
// size for size tests, the flags when it uses imap4flags, the whole message
// for body tests.
func (s *Script) Needs() rules.Needs { return s.needs }

// Requires reports whether the script requires the capability.
func (s *Script) Requires(capability string) bool { return s.caps[capability] }

// Extensions returns the capabilities the script requires, sorted.
func (s *Script) Extensions() []string {
	out := make([]string, 0, len(s.caps))
	for c := range s.caps {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Includes returns the paths of the scripts the script includes, directly
// or through others, in the order first met.
func (s *Script) Includes() []string {
	var out []string
	seen := map[*Script]bool{s: true}
	var walk func(list []*node)
	walk = func(list []*node) {
		for _, n := range list {
			for _, b := range n.branches {
				walk(b.block)
			}
			if n.include != nil && !seen[n.include] {
				seen[n.include] = true
				out = append(out, n.include.file)
				walk(n.include.cmds)
			}
		}
	}
	walk(s.cmds)
	return out
}
