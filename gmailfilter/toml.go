package gmailfilter

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// WriteTOML writes the rules as [[rule]] tables for a mailrules
// configuration, each after comments that give the Gmail filter it comes
// from and what of it was not translated. Rules that cannot stand for
// their filter are written commented out.
func (res *Result) WriteTOML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	disabled := 0
	for _, r := range res.Rules {
		if len(r.Disabled) > 0 {
			disabled++
		}
	}
	fmt.Fprintf(bw, "# Rules made by mailrules import gmail from %s:\n", commentText(res.File))
	fmt.Fprintf(bw, "# %d Gmail %s, %d %s", len(res.Feed.Filters), plural(len(res.Feed.Filters), "filter", "filters"),
		len(res.Rules)-disabled, plural(len(res.Rules)-disabled, "rule", "rules"))
	if disabled > 0 {
		fmt.Fprintf(bw, ", %d commented out (they could not be translated)", disabled)
	}
	fmt.Fprint(bw, ".\n")
	fmt.Fprint(bw, `#
# Add them to your configuration, after its [[account]] tables, and run
# mailrules check. Rules that only label (copy), star or mark read come
# first, so that, as in Gmail, every matching filter takes effect; rules
# that archive (move) or delete follow.
#
# Plain words are looked for, ignoring case, as parts of the sender's name
# and address, and as whole words, as Gmail does, in the Subject`)
	if !res.opts.NoBody {
		fmt.Fprint(bw, " and the text\n# of the message (which makes mailrules fetch whole messages)")
	}
	fmt.Fprint(bw, `:
# subject matches "(?i)(^|[^\\pL\\pN\\pM])word([^\\pL\\pN\\pM]|$)" finds "word" in the
# Subject with no letter, digit or mark right before or after it.
`)
	for i := range res.Rules {
		bw.WriteByte('\n')
		writeRule(bw, &res.Rules[i], res.File)
	}
	return bw.Flush()
}

// writeRule writes one rule with its comments.
func writeRule(w *bufio.Writer, r *Rule, file string) {
	f := r.Filter
	fmt.Fprintf(w, "# Gmail filter %d (%s", f.Index, commentText(f.Pos.String()))
	if f.ID != "" {
		fmt.Fprintf(w, ", %s", commentText(f.ID))
	}
	fmt.Fprint(w, "):\n")
	_, hasSize := f.Get("size")
	for _, p := range f.Props {
		if !hasSize && (p.Name == "sizeOperator" || p.Name == "sizeUnit") {
			continue
		}
		fmt.Fprintf(w, "#   %s = %s\n", commentText(p.Name), commentText(tomlString(p.Value)))
	}
	for _, d := range r.Disabled {
		fmt.Fprintf(w, "# Not translated: %s\n", commentText(d.Msg))
	}
	prefix := ""
	if len(r.Disabled) > 0 {
		prefix = "# "
	}
	line := func(format string, args ...any) {
		fmt.Fprintf(w, "%s"+format+"\n", append([]any{prefix}, args...)...)
	}
	line("[[rule]]")
	line("name = %s", tomlString(r.Name))
	line("when = %s", tomlString(r.When))
	if len(r.Copy) > 0 {
		line("copy = %s", tomlArray(r.Copy))
	}
	if r.Move != "" {
		line("move = %s", tomlString(r.Move))
	}
	if len(r.Flag) > 0 {
		line("flag = %s", tomlArray(r.Flag))
	}
	if r.Seen {
		line("seen = true")
	}
	if r.Delete {
		line("delete = true")
	}
	for _, o := range r.Omitted {
		fmt.Fprintf(w, "# Not translated: %s\n", commentText(o.Msg))
	}
}

// tomlArray writes strings as a TOML array.
func tomlArray(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = tomlString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// tomlString writes s as a TOML string: a 'literal string' when s has
// backslashes or double quotes and can be one (no single quote, no
// control character), else a "basic string" with escapes.
func tomlString(s string) string {
	if strings.ContainsAny(s, `\"`) && !strings.ContainsRune(s, '\'') && strings.IndexFunc(s, isTOMLControl) < 0 {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case isTOMLControl(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// isTOMLControl reports whether r may not appear as it is in a TOML
// string (control characters other than tab).
func isTOMLControl(r rune) bool { return r != '\t' && unicode.IsControl(r) }

// commentText makes s safe inside a TOML comment: no line breaks or other
// control characters, which would end the comment or be invalid.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
