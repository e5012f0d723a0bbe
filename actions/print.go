package actions

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"
)

// Print writes the plan in readable form, for dry runs: the steps, the
// number of messages per rule, and one line per message and action (UID,
// action, destination, rule, From, Subject). Header values are shortened and
// stripped of control characters so that a hostile message cannot drive the
// terminal. Print sends nothing to a server.
func (p *Plan) Print(w io.Writer) {
	if p.Empty() {
		fmt.Fprintf(w, "%s: nothing to do\n", p.Mailbox)
		return
	}
	fmt.Fprintf(w, "%s: %d messages, %d steps\n", p.Mailbox, len(p.Messages), len(p.Steps))

	fmt.Fprintln(w, "\nSteps:")
	for i := range p.Steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, p.Steps[i].String())
	}

	// Messages per rule, and per message its actions in step order.
	perRule := make(map[string]map[uint32]bool)
	type row struct{ action, dest, rules string }
	rows := make(map[uint32][]row)
	for i := range p.Steps {
		st := &p.Steps[i]
		action, dest := printAction(st)
		byUID := make(map[uint32][]string)
		for _, c := range st.Causes {
			if perRule[c.Rule] == nil {
				perRule[c.Rule] = make(map[uint32]bool)
			}
			for _, uid := range c.UIDs.Nums() {
				perRule[c.Rule][uid] = true
				byUID[uid] = append(byUID[uid], c.Rule)
			}
		}
		for _, uid := range st.UIDs.Nums() {
			rows[uid] = append(rows[uid], row{action, dest, strings.Join(byUID[uid], ", ")})
		}
	}

	fmt.Fprintln(w, "\nRules:")
	names := make([]string, 0, len(perRule))
	for r := range perRule {
		names = append(names, r)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, r := range names {
		n := len(perRule[r])
		unit := "messages"
		if n == 1 {
			unit = "message"
		}
		fmt.Fprintf(tw, "  %s\t%d %s\n", printable(r, 60), n, unit)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nMessages:")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  UID\tACTION\tDESTINATION\tRULE\tFROM\tSUBJECT")
	for _, m := range p.Messages {
		for _, r := range rows[m.UID] {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", m.UID, r.action, printable(r.dest, 60),
				printable(r.rules, 40), printable(m.From(), 40), printable(m.Subject(), 60))
		}
	}
	tw.Flush()
}

// printAction names a step's action and destination for Print.
func printAction(st *Step) (action, dest string) {
	switch st.Kind {
	case StepAddFlags:
		return "+flags " + strings.Join(st.Flags, " "), ""
	case StepRemoveFlags:
		return "-flags " + strings.Join(st.Flags, " "), ""
	case StepDelete:
		return "delete", "(Trash)"
	case StepExpunge:
		return "expunge", ""
	}
	return string(st.Kind), st.Mailbox
}

// printable replaces control characters (and tabs, which would break the
// columns) with spaces and shortens s to at most limit runes.
func printable(s string, limit int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == limit {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}
