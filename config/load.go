package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/internal/tomlpos"
	"github.com/mailrules/mailrules/rules"
)

// Load reads, validates and compiles the configuration at path. Every
// problem found is returned at once as diag.Problems, each with its
// FILE:LINE:COL.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, diag.Problems{{Pos: diag.Position{File: path}, Msg: fmt.Sprintf("read config: %v", err)}}
	}
	var mode os.FileMode
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode()
	}
	return parse(path, string(data), mode)
}

// loader carries the state of one Load.
type loader struct {
	path     string
	dir      string
	ix       *tomlpos.Index
	md       toml.MetaData
	mode     os.FileMode
	problems diag.Problems
	warnings diag.Problems

	// Filled while decoding: values of the wrong type, in the order found,
	// their labels (see tomlpos) as a set, and the paths (toml.Key.String)
	// of keys no field takes.
	typeErrs []typeError
	bad      map[string]bool
	unknown  map[string]bool
	// Accounts whose mailboxes key had the wrong type: they watch INBOX for
	// now, and what a rule says about their mailboxes is not checked.
	badMailboxes map[*Account]bool
}

// typeError is a value of the wrong type, reported once the names of the
// accounts and rules are known.
type typeError struct {
	label string // "account[0].port", "rule[1].seen", "state"
	msg   string // "got a string, want an integer"
}

func (l *loader) problem(pos diag.Position, name, format string, args ...any) {
	l.problems = append(l.problems, diag.Problem{Pos: pos, Rule: name, Msg: fmt.Sprintf(format, args...)})
}

// accountProblem reports a problem with an account; Problem.Rule holds no
// rule then, so the account is named in the message.
func (l *loader) accountProblem(i int, name, key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if name != "" {
		msg = fmt.Sprintf("account %q: %s", name, msg)
	} else {
		msg = fmt.Sprintf("account #%d: %s", i+1, msg)
	}
	label := fmt.Sprintf("account[%d]", i)
	if key != "" {
		label += "." + key
	}
	l.problems = append(l.problems, diag.Problem{Pos: l.ix.KeyPos(label), Msg: msg})
}

func (l *loader) accountWarning(i int, name, key, format string, args ...any) {
	label := fmt.Sprintf("account[%d]", i)
	if key != "" {
		label += "." + key
	}
	l.warnings = append(l.warnings, diag.Problem{Pos: l.ix.KeyPos(label), Severity: diag.Warning,
		Msg: fmt.Sprintf("account %q: ", name) + fmt.Sprintf(format, args...)})
}

// parse does the work of Load on the file's contents.
func parse(path, src string, mode os.FileMode) (*Config, error) {
	l := &loader{path: path, dir: filepath.Dir(path), mode: mode,
		bad: map[string]bool{}, unknown: map[string]bool{}, badMailboxes: map[*Account]bool{}}
	// Only a syntax error stops here: the values stay undecoded, and
	// decodeFields decodes them one key at a time.
	var root map[string]toml.Primitive
	md, err := toml.Decode(src, &root)
	if err != nil {
		return nil, l.decodeError(err)
	}
	l.md = md
	l.ix = tomlpos.New(path, src)
	var fc fileConfig
	l.decodeFields(root, reflect.ValueOf(&fc).Elem(), nil, "")

	cfg := &Config{Path: path}
	if fc.State != "" {
		cfg.StatePath = l.resolvePath(fc.State)
	}
	names := map[string]int{}
	for i := range fc.Account {
		if l.bad[fmt.Sprintf("account[%d]", i)] {
			continue // not a table
		}
		a := l.account(i, &fc.Account[i])
		if a.Name != "" {
			if j, dup := names[a.Name]; dup {
				l.accountProblem(i, a.Name, "name", "duplicate account name (first at %s)", cfg.Accounts[j].Pos)
			} else {
				names[a.Name] = len(cfg.Accounts)
			}
		}
		cfg.Accounts = append(cfg.Accounts, a)
	}
	// An account or rule key of the wrong type has its own problem.
	if len(fc.Account) == 0 && !l.bad["account"] {
		l.problem(diag.Position{File: path}, "", "no [[account]]: nothing to run the rules on")
	}
	if len(fc.Rule) == 0 && !l.bad["rule"] && !hasSieve(&fc) {
		l.problem(diag.Position{File: path}, "", "no [[rule]] and no sieve script")
	}
	for i := range fc.Rule {
		if l.bad[fmt.Sprintf("rule[%d]", i)] {
			continue
		}
		cfg.Specs = append(cfg.Specs, l.spec(i, &fc.Rule[i]))
	}
	cfg.Classifiers = l.classifiers(fc.Classifier)
	// After the accounts: their secrets are decoded there, which finds the
	// unknown keys and the type errors inside them.
	l.reportTypeErrors(&fc)
	l.unknownKeys(&fc)
	l.crossCheck(cfg)
	cfg.Specs = append(cfg.Specs, l.sieveSpecs(&fc, cfg)...)
	classifierNames := cfg.ClassifierNames()
	l.checkLearnClassifiers(cfg, classifierNames)
	set, err := rules.CompileWith(cfg.Specs, &rules.Options{Classifiers: classifierNames})
	if err != nil {
		var ps diag.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				if !l.followsTypeError(p, cfg.Specs) {
					l.problems = append(l.problems, p)
				}
			}
		} else {
			l.problem(diag.Position{File: path}, "", "%v", err)
		}
	}
	cfg.Rules = set
	cfg.Warnings = l.warnings
	if len(l.problems) > 0 {
		l.problems.Sort()
		return nil, l.problems
	}
	return cfg, nil
}

// decodeError turns a toml syntax error into a located problem.
func (l *loader) decodeError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" && !strings.Contains(msg, pe.LastKey) {
			msg = fmt.Sprintf("%s: %s", pe.LastKey, msg)
		}
		return diag.Problems{{Pos: diag.Position{File: l.path, Line: pe.Position.Line, Col: pe.Position.Col}, Msg: "toml: " + msg}}
	}
	return diag.Problems{{Pos: diag.Position{File: l.path}, Msg: err.Error()}}
}

var labelRE = regexp.MustCompile(`^(account|rule|classifier)\[(\d+)\](?:\.(.+))?$`)

// reportTypeErrors turns the type errors into problems, naming the account
// or rule they are in.
func (l *loader) reportTypeErrors(fc *fileConfig) {
	for _, te := range l.typeErrs {
		m := labelRE.FindStringSubmatch(te.label)
		if m == nil {
			l.problem(l.ix.KeyPos(te.label), "", "%s: %s", te.label, te.msg)
			continue
		}
		n, _ := strconv.Atoi(m[2])
		key, msg := m[3], te.msg
		if key != "" {
			msg = key + ": " + msg
		}
		switch m[1] {
		case "account":
			name := ""
			if n < len(fc.Account) {
				name = fc.Account[n].Name
			}
			l.accountProblem(n, name, key, "%s", msg)
		case "classifier":
			name := ""
			if n < len(fc.Classifier) {
				name = fc.Classifier[n].Name
			}
			l.classifierProblem(n, name, key, "%s", msg)
		case "rule":
			name := ""
			if n < len(fc.Rule) {
				name = fc.Rule[n].Name
			}
			if name == "" {
				msg = fmt.Sprintf("rule #%d: %s", n+1, msg)
			}
			l.problem(l.ix.KeyPos(te.label), name, "%s", msg)
		}
	}
}

// followsTypeError reports whether a problem rules.Compile found in a rule
// only follows from a type error already reported: the key is left empty,
// so the rule seems to have no name, no condition or no action.
func (l *loader) followsTypeError(p diag.Problem, specs []rules.Spec) bool {
	for _, sp := range specs {
		loc, ok := sp.Loc.(ruleLocator)
		if !ok || sp.Pos != p.Pos {
			continue
		}
		switch {
		case strings.HasSuffix(p.Msg, "has no name"):
			return l.bad[loc.label+".name"]
		case strings.HasPrefix(p.Msg, "missing when"):
			return l.bad[loc.label+".when"]
		case strings.HasPrefix(p.Msg, "no action"):
			return l.hasTypeError(loc.label)
		}
	}
	return false
}

// unknownKeys reports every key decodeFields found no field for, with its
// position. The element number of each array of tables is counted along
// Keys(), which lists keys in document order.
func (l *loader) unknownKeys(fc *fileConfig) {
	if len(l.unknown) == 0 {
		return
	}
	counts := map[string]int{}
	reported := map[string]bool{} // labels whose parent was reported
	for _, k := range l.md.Keys() {
		if l.md.Type(k...) == "ArrayHash" && len(k) == 1 {
			counts[k[0]]++
		}
		if !l.unknown[k.String()] {
			continue
		}
		// Label with the element number of the top-level array of tables.
		label := k[0]
		if n, ok := counts[k[0]]; ok && len(k) > 1 {
			label = fmt.Sprintf("%s[%d]", k[0], n-1)
		}
		for _, part := range k[1:] {
			label += "." + part
		}
		parent := label[:max(0, strings.LastIndexByte(label, '.'))]
		if reported[parent] {
			reported[label] = true
			continue
		}
		reported[label] = true
		table := strings.Join(k[:len(k)-1], ".")
		name := k[len(k)-1]
		where := "at the top level"
		if table != "" {
			where = "in [" + table + "]"
			if table == "account" || table == "rule" || table == "classifier" {
				where = "in [[" + table + "]]"
			}
		}
		msg := fmt.Sprintf("unknown key %q %s", name, where)
		if s := rules.Closest(name, knownKeys(table)); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		ruleName := ""
		if len(k) > 1 && k[0] == "rule" {
			if n := counts["rule"] - 1; n >= 0 && n < len(fc.Rule) {
				ruleName = fc.Rule[n].Name
			}
		}
		if len(k) > 1 && k[0] == "account" {
			if n := counts["account"] - 1; n >= 0 && n < len(fc.Account) && fc.Account[n].Name != "" {
				msg = fmt.Sprintf("account %q: %s", fc.Account[n].Name, msg)
			}
		}
		if len(k) > 1 && k[0] == "classifier" {
			if n := counts["classifier"] - 1; n >= 0 && n < len(fc.Classifier) && fc.Classifier[n].Name != "" {
				msg = fmt.Sprintf("classifier %q: %s", fc.Classifier[n].Name, msg)
			}
		}
		l.problem(l.ix.KeyPos(label), ruleName, "%s", msg)
	}
}

// resolvePath expands ~ and makes a path relative to the config file's
// directory.
func (l *loader) resolvePath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	return p
}
