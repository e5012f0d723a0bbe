package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/rules"
	"github.com/mailrules/mailrules/sieve"
)

// sieveReport is what one Sieve script did to a message.
type sieveReport struct {
	Script  string   `json:"script"`
	Actions []string `json:"actions"`
}

// sieveReports runs the Sieve scripts that apply to the account over msg
// and lists their actions, so that `mailrules test` shows what the script
// said as well as what mailrules does with it.
func sieveReports(cfg *config.Config, account string, msg *rules.Message, now time.Time) []sieveReport {
	var out []sieveReport
	for _, sp := range cfg.Specs {
		script, ok := sp.Script.(*sieve.Script)
		if !ok || (len(sp.Accounts) > 0 && !slices.Contains(sp.Accounts, account)) {
			continue
		}
		rep := sieveReport{Script: sp.Name}
		outcome, err := script.Run(&sieve.Env{Header: msg.Header, Raw: msg.Raw, Size: msg.Size, Flags: msg.Flags, Now: now,
			MailboxExists: msg.MailboxExists})
		if err != nil {
			rep.Actions = []string{"error: " + err.Error()}
		} else {
			for _, a := range outcome.Actions {
				rep.Actions = append(rep.Actions, a.String())
			}
		}
		out = append(out, rep)
	}
	return out
}

// describeSieve lists, for check, each Sieve script: where it runs, the
// extensions it uses and the scripts it includes.
func describeSieve(w io.Writer, cfg *config.Config) {
	for _, sp := range cfg.Specs {
		script, ok := sp.Script.(*sieve.Script)
		if !ok {
			continue
		}
		where := "every account"
		if len(sp.Accounts) > 0 {
			where = "accounts " + strings.Join(sp.Accounts, ", ")
		}
		fmt.Fprintf(w, "  %s: runs on %s after the [[rule]] tables", sp.Name, where)
		if exts := script.Extensions(); len(exts) > 0 {
			fmt.Fprintf(w, "; requires %s", strings.Join(exts, ", "))
		}
		if inc := script.Includes(); len(inc) > 0 {
			fmt.Fprintf(w, "; includes %s", strings.Join(inc, ", "))
		}
		fmt.Fprintln(w, "; no SEARCH prefilter")
	}
}
