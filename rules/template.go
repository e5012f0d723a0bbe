package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/mailrules/mailrules/message"
)

// template is a mailbox path with {expr} parts evaluated per message, such
// as "Lists/{listName}" or "Archive/{internalDate.Year()}". "{{" and "}}"
// stand for literal braces.
type template struct {
	parts []templatePart
}

type templatePart struct {
	literal string
	prog    *vm.Program // nil for a literal
}

// compileTemplate parses and compiles a mailbox template.
func (c *compiler) compileTemplate(sp *Spec, field string, index int, src string) *template {
	t := &template{}
	before := len(c.problems)
	var lit strings.Builder
	for i := 0; i < len(src); i++ {
		ch := src[i]
		switch {
		case ch == '{' && i+1 < len(src) && src[i+1] == '{':
			lit.WriteByte('{')
			i++
		case ch == '}' && i+1 < len(src) && src[i+1] == '}':
			lit.WriteByte('}')
			i++
		case ch == '}':
			c.problem(sp, locate(sp, field, index, i), "%s: unmatched } in %q (write }} for a literal brace)", field, src)
			return nil
		case ch == '{':
			end := matchBrace(src, i)
			if end < 0 {
				c.problem(sp, locate(sp, field, index, i), "%s: unclosed { in %q", field, src)
				return nil
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, templatePart{literal: lit.String()})
				lit.Reset()
			}
			code := src[i+1 : end]
			if strings.TrimSpace(code) == "" {
				c.problem(sp, locate(sp, field, index, i), "%s: empty {} in %q", field, src)
				return nil
			}
			if prog := c.compileExpr(sp, field, index, i+1, code, false); prog != nil {
				t.parts = append(t.parts, templatePart{prog: prog})
			}
			i = end
		default:
			lit.WriteByte(ch)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, templatePart{literal: lit.String()})
	}
	if len(c.problems) > before {
		return nil
	}
	// The literal skeleton must be a valid path whatever the parts expand to.
	var skeleton strings.Builder
	for _, p := range t.parts {
		if p.prog != nil {
			skeleton.WriteString("x")
		} else {
			skeleton.WriteString(p.literal)
		}
	}
	if err := checkMailboxPath(skeleton.String()); err != nil {
		c.problem(sp, locate(sp, field, index, 0), "%s %q: %v", field, src, err)
		return nil
	}
	return t
}

// matchBrace returns the index of the } closing the { at open, skipping
// quoted strings and nested braces inside the expression, or -1.
func matchBrace(s string, open int) int {
	depth := 0
	var quote byte
	for i := open; i < len(s); i++ {
		ch := s[i]
		if quote != 0 {
			switch ch {
			case '\\':
				i++
			case quote:
				quote = 0
			}
			continue
		}
		switch ch {
		case '"', '\'', '`':
			quote = ch
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// needs returns what the template's expressions read.
func (t *template) needs(c *compiler) Needs {
	var list []Needs
	for _, p := range t.parts {
		if p.prog != nil {
			list = append(list, c.programNeeds(p.prog))
		}
	}
	return mergeNeeds(list)
}

// expand evaluates the template for a message. Each expanded part has '/'
// replaced by '_' and control characters removed, so that message data can
// add neither hierarchy levels nor odd names; the result must be a valid
// path.
func (t *template) expand(m *vm.VM, env *evalEnv) (string, error) {
	if len(t.parts) == 1 && t.parts[0].prog == nil {
		return t.parts[0].literal, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.prog == nil {
			b.WriteString(p.literal)
			continue
		}
		out, err := m.Run(p.prog, env)
		if neededVerdict(err) != "" {
			return "", err
		}
		if err != nil {
			return "", runtimeError("{"+p.prog.Source().String()+"}", err)
		}
		s, err := templateString(out)
		if err != nil {
			return "", fmt.Errorf("{%s}: %w", p.prog.Source().String(), err)
		}
		b.WriteString(cleanSegment(s))
	}
	path := b.String()
	if err := checkMailboxPath(path); err != nil {
		return "", fmt.Errorf("mailbox %q: %w", path, err)
	}
	return path, nil
}

// templateString formats an expanded value.
func templateString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	case time.Time:
		return x.Format("2006-01-02"), nil
	case message.Address:
		return x.Addr, nil
	case int, int64, int32, uint32, uint64, float64, bool, time.Month, time.Weekday, time.Duration:
		return fmt.Sprint(x), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", fmt.Errorf("value of type %T cannot be part of a mailbox name", v)
}

// cleanSegment makes expanded text safe inside one path segment.
func cleanSegment(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '/':
			return '_'
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s))
}

// checkMailboxPath rejects empty paths and empty, "." or ".." segments.
func checkMailboxPath(p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("empty mailbox name")
	}
	for _, seg := range strings.Split(p, "/") {
		switch strings.TrimSpace(seg) {
		case "":
			return fmt.Errorf("empty path segment (leading, trailing or double /)")
		case ".", "..":
			return fmt.Errorf("path segment %q is not allowed", seg)
		}
	}
	return nil
}
