package config

import (
	"errors"
	"fmt"

	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/rules"
	"github.com/mailrules/mailrules/sieve"
)

// SieveRulePrefix starts the name of the rule a Sieve script becomes:
// "sieve:" and the path as the config file writes it.
const SieveRulePrefix = "sieve:"

// sieveSpecs compiles the Sieve scripts the file names (sieve at the top
// level and in accounts) into script rules, appended after the [[rule]]
// tables: expr rules run first, then the script. An account's own script
// takes the place of the top-level one for that account. Problems in a
// script are reported at their place in the script.
func (l *loader) sieveSpecs(fc *fileConfig, cfg *Config) []rules.Spec {
	opts := &sieve.Options{}
	if fc.SieveGlobalDir != "" {
		opts.GlobalDir = l.resolvePath(fc.SieveGlobalDir)
	}
	var specs []rules.Spec
	byPath := map[string]int{} // script path -> index in specs (-1: failed): accounts sharing a script share its rule
	var others []string        // accounts without a script of their own
	for i := range fc.Account {
		fa := &fc.Account[i]
		if fa.Sieve == "" {
			if fa.Name != "" {
				others = append(others, fa.Name)
			}
			continue
		}
		if j, ok := byPath[fa.Sieve]; ok {
			if j >= 0 {
				specs[j].Accounts = append(specs[j].Accounts, fa.Name)
			}
			continue
		}
		label := fmt.Sprintf("account[%d].sieve", i)
		byPath[fa.Sieve] = -1 // its problems are reported once
		if sp, ok := l.sieveSpec(fa.Sieve, label, opts); ok {
			sp.Accounts = []string{fa.Name}
			byPath[fa.Sieve] = len(specs)
			specs = append(specs, sp)
		}
	}
	if j, ok := byPath[fc.Sieve]; ok && fc.Sieve != "" {
		// The top-level script is also some account's own: one rule.
		if j >= 0 {
			specs[j].Accounts = append(specs[j].Accounts, others...)
		}
	} else if fc.Sieve != "" {
		sp, ok := l.sieveSpec(fc.Sieve, "sieve", opts)
		switch {
		case !ok:
		case len(others) == 0 && len(fc.Account) > 0:
			l.warnings = append(l.warnings, diag.Problem{Pos: sp.Pos, Severity: diag.Warning,
				Msg: "every account has a sieve script of its own, so the top-level sieve script runs nowhere"})
		default:
			if len(others) < len(fc.Account) {
				sp.Accounts = others
			}
			specs = append(specs, sp)
		}
	}
	return specs
}

// sieveSpec compiles one script named by the key with the label.
func (l *loader) sieveSpec(path, label string, opts *sieve.Options) (rules.Spec, bool) {
	pos := l.ix.KeyPos(label)
	script, err := sieve.CompileFile(l.resolvePath(path), opts)
	if err != nil {
		var ps diag.Problems
		if errors.As(err, &ps) {
			l.problems = append(l.problems, ps...)
		} else {
			l.problem(pos, "", "sieve: %v", err)
		}
		return rules.Spec{}, false
	}
	l.warnings = append(l.warnings, script.Warnings()...)
	return rules.Spec{Name: SieveRulePrefix + path, Script: script, Pos: pos}, true
}

// hasSieve reports whether the file names a Sieve script anywhere.
func hasSieve(fc *fileConfig) bool {
	if fc.Sieve != "" {
		return true
	}
	for _, a := range fc.Account {
		if a.Sieve != "" {
			return true
		}
	}
	return false
}
