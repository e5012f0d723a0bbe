package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the result table.
type row struct {
	workload  string
	mailrules string // measured figure, or "not available"
	floor     string // floor or peer figure
	ratio     string
	target    string
	verdict   string // pass, FAIL, n/a, info
}

func (b *runner) add(r row) { b.rows = append(b.rows, r) }

func (b *runner) printTable(w io.Writer) {
	header := row{"workload", "mailrules", "floor / peer", "ratio", "target", "result"}
	if b.cfg.markdown {
		line := func(r row) {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.workload, r.mailrules, r.floor, r.ratio, r.target, r.verdict)
		}
		line(header)
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, r := range b.rows {
			line(r)
		}
	} else {
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		line := func(r row) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.workload, r.mailrules, r.floor, r.ratio, r.target, r.verdict)
		}
		line(header)
		for _, r := range b.rows {
			line(r)
		}
		tw.Flush()
	}
	if len(b.facts) > 0 {
		fmt.Fprintln(w)
		for _, f := range b.facts {
			fmt.Fprintf(w, "- %s\n", f)
		}
	}
}

const notAvailable = "not available"

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile returns the p-th percentile (0..100), nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	rank = max(0, min(rank, len(s)-1))
	return s[rank]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
func msec(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(parts, " ")
}

func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}

func scaleName(n int, count int) string {
	if count >= 1000 {
		return fmt.Sprintf("%dk", (count+500)/1000)
	}
	return fmt.Sprint(count)
}
