package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/rules"
)

// configFlag adds the -c flag to fs.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("c", config.DefaultConfigPath(), "configuration `file`")
}

// loadConfig loads path and prints its problems to stderr. ok is false
// when the configuration cannot be used.
func loadConfig(path string, stderr io.Writer) (*config.Config, bool) {
	cfg, err := config.Load(path)
	if err != nil {
		var ps diag.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintln(stderr, p)
			}
			fmt.Fprintf(stderr, "%s: %d %s\n", path, len(ps), plural(len(ps), "problem", "problems"))
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
		}
		return nil, false
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, w)
	}
	return cfg, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cmdCheck loads and compiles the configuration, reports every problem and,
// when it is clean, what each watched mailbox will fetch.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mailrules check: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	fmt.Fprintf(stdout, "%s: ok: %d %s, %d %s\n", *path,
		len(cfg.Accounts), plural(len(cfg.Accounts), "account", "accounts"),
		cfg.Rules.Len(), plural(cfg.Rules.Len(), "rule", "rules"))
	for _, a := range cfg.Accounts {
		for _, mb := range a.Mailboxes {
			set := cfg.Rules.For(a.Name, mb)
			fmt.Fprintf(stdout, "  %s/%s: %d %s", a.Name, mb, set.Len(), plural(set.Len(), "rule", "rules"))
			if set.Len() > 0 {
				fmt.Fprintf(stdout, "; fetches %s", describeFetch(set))
				if set.HasScopeAll() {
					fmt.Fprintf(stdout, "; %s", describeSweep(set.SweepFilter(time.Now())))
				}
				if set.HasFlagRules() {
					fmt.Fprintf(stdout, "; on flag changes fetches %s of the changed messages", describeFetchItems(engine.FetchItems(set.FlagNeeds(), true)))
				}
			}
			fmt.Fprintln(stdout)
			describeClassifiers(stdout, set)
		}
	}
	describeSieve(stdout, cfg)
	for _, a := range cfg.Accounts {
		describeLearn(stdout, a)
	}
	return exitOK
}

// describeFetch renders the FETCH items a pass over the set sends.
func describeFetch(set *rules.Set) string {
	return describeFetchItems(engine.FetchItems(engine.PassNeeds(set), set.HasScopeAll()))
}

// describeFetchItems renders FETCH items as the command line has them.
func describeFetchItems(items []imap.FetchItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = string(it)
	}
	return strings.Join(parts, " ")
}

// describeSweep says how a pass finds the old messages scope = "all" rules
// look at.
func describeSweep(f *rules.Filter) string {
	if f == nil || f.Op == rules.FilterAll {
		return "sweeps the whole mailbox each pass (no condition could be turned into a SEARCH)"
	}
	if f.Op == rules.FilterNone {
		return "sweeps no old mail (its scope = \"all\" rules can never match an old message)"
	}
	return "sweeps old mail matching UID SEARCH " + f.String()
}
