package main

import (
	"slices"
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
		outcome, err := script.Run(&sieve.Env{Header: msg.Header, Raw: msg.Raw, Size: msg.Size, Flags: msg.Flags, Now: now})
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
