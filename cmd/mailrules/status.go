package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailrules/mailrules/engine"
)

// statusLockWait is how long status waits for the state database before
// taking it as held by a running mailrules and reading the status that one
// published.
const statusLockWait = 300 * time.Millisecond

// statusFlags registers status's flags on fs.
func statusFlags(fs *flag.FlagSet) (configPath, state *string, asJSON *bool) {
	configPath = configFlag(fs)
	state = fs.String("state", "", "state database `file` (default: the config's state, else $XDG_STATE_HOME/mailrules/state.db)")
	asJSON = fs.Bool("json", false, "print JSON instead of a table")
	return configPath, state, asJSON
}

// cmdStatus is `mailrules status`: what the last passes did and what is
// pending, per account and mailbox, also while watch runs.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", stderr)
	configPath, state, asJSON := statusFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mailrules: unexpected arguments %q\n", fs.Args())
		return exitConfig
	}
	cfg, ok := loadConfig(*configPath, stderr)
	if !ok {
		return exitConfig
	}
	statePath := *state
	if statePath == "" {
		statePath = cfg.StatePath
	}
	if statePath == "" {
		statePath = engine.DefaultStatePath()
	}
	st, err := engine.ReadStatus(statePath, cfg, statusLockWait)
	if err != nil {
		if errors.Is(err, engine.ErrNoState) {
			fmt.Fprintf(stderr, "mailrules: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stderr, "mailrules: status: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			fmt.Fprintf(stderr, "mailrules: status: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	printStatus(stdout, st, time.Now())
	return exitOK
}

// printStatus writes st for people: where it came from, a table with one
// row per mailbox, then a line for each failure, batch in flight and
// retry.
func printStatus(w io.Writer, st *engine.Status, now time.Time) {
	switch st.Source {
	case engine.SourcePublished:
		fmt.Fprintf(w, "source: %s, published by the running mailrules (pid %d) at %s (%s ago)\n",
			st.Path, st.PID, st.Published.Local().Format(time.DateTime), age(now, st.Published))
	default:
		fmt.Fprintf(w, "source: %s, read directly (no mailrules holds it)\n", st.Path)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tMAILBOX\tLAST PASS\tRESULT\tEXAMINED\tACTIONS\tFAILED\tUIDVALIDITY\tHIGHEST UID\tIN FLIGHT\tRETRY")
	var notes []string
	for _, m := range st.Mailboxes {
		name := m.Account + "/" + m.Mailbox
		when, result, examined, acted, failed := "never", "-", "-", "-", "-"
		if lp := m.LastPass; lp != nil {
			when = lp.Time.Local().Format(time.DateTime) + " (" + age(now, lp.Time) + " ago)"
			result, examined, acted, failed = lp.Result, strconv.Itoa(lp.Examined), strconv.Itoa(lp.Actions), strconv.Itoa(lp.Failed)
			if lp.Error != "" {
				notes = append(notes, fmt.Sprintf("%s: last pass failed: %s", name, oneLine(lp.Error)))
			}
		}
		uidValidity, highest := "-", "-"
		if m.Known {
			uidValidity, highest = strconv.FormatUint(uint64(m.UIDValidity), 10), strconv.FormatUint(uint64(m.HighestUID), 10)
		}
		inFlight := "-"
		if p := m.Pending; p != nil {
			inFlight = fmt.Sprintf("%d:%d", p.From, p.HighestUID)
			note := fmt.Sprintf("%s: batch in flight over UIDs %d:%d", name, p.From, p.HighestUID)
			if len(p.Destinations) > 0 {
				note += ", copying into " + strings.Join(p.Destinations, ", ")
			}
			notes = append(notes, fmt.Sprintf("%s (resumed %d %s so far); the next pass completes it", note, p.Attempts, plural(p.Attempts, "time", "times")))
		}
		retry := "-"
		if len(m.Retry) > 0 {
			var sets []string
			for _, r := range m.Retry {
				sets = append(sets, r.UIDs)
				notes = append(notes, fmt.Sprintf("%s: UIDs %s refused %d %s: %s", name, r.UIDs, r.Attempts, plural(r.Attempts, "time", "times"), oneLine(r.Error)))
			}
			retry = strings.Join(sets, ",")
		}
		if m.FullPass {
			notes = append(notes, name+": a pass over every message (run --all) is not complete yet")
		}
		if m.Deferred != "" {
			notes = append(notes, fmt.Sprintf("%s: UIDs %s wait for a classifier's verdict, untouched; every pass tries again", name, m.Deferred))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			m.Account, m.Mailbox, when, result, examined, acted, failed, uidValidity, highest, inFlight, retry)
	}
	tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}

// age renders how long before now t was, to the second.
func age(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String()
}
