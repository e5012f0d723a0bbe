package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/internal/termtext"
)

// learnFlags registers learn's flags on fs: those of run, whose state and
// logging it shares.
func learnFlags(fs *flag.FlagSet) *engineFlags {
	f := new(engineFlags)
	f.register(fs)
	return f
}

// cmdLearn is `mailrules learn`: teach every account's classifiers from
// what its junk folder (spam) and ham folders (ham) hold now.
func cmdLearn(args []string) int {
	fs := newFlagSet("learn", nil)
	f := learnFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	return runEngine(f, fs.Args(), func(ctx context.Context, e *engine.Engine) error {
		sums, err := e.Learn(ctx)
		printLearnSummary(os.Stdout, sums, f.dryRun)
		return err
	}, false)
}

// printLearnSummary writes one line per account and mailbox and a total:
// lessons taken (or, in a dry run, to be given), given before, failed and
// skipped for size, each counted per message and classifier.
func printLearnSummary(w io.Writer, sums []*engine.LearnSummary, dryRun bool) {
	learned := "LEARNED"
	if dryRun {
		learned = "WOULD LEARN"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "MAILBOX\tAS\t%s\tALREADY\tFAILED\tSKIPPED\t\n", learned)
	var total engine.LearnSummary
	for _, s := range sums {
		fmt.Fprintf(tw, "%s/%s\t%s\t%d\t%d\t%d\t%d\t\n", termtext.Escape(s.Account), termtext.Escape(s.Mailbox), s.Class,
			s.Learned, s.Already, s.Failed, s.Skipped)
		total.Learned += s.Learned
		total.Already += s.Already
		total.Failed += s.Failed
		total.Skipped += s.Skipped
	}
	fmt.Fprintf(tw, "total\t\t%d\t%d\t%d\t%d\t\n", total.Learned, total.Already, total.Failed, total.Skipped)
	tw.Flush()
	if len(sums) == 0 {
		fmt.Fprintln(w, "no account has a learn table ([account.learn] or learn = { junk = ..., ham = [...], classifiers = [...] })")
	}
}
