package config

import (
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/internal/diag"
)

// ClassifierNames returns the names of the configured classifiers, in file
// order: those rules may call with classify(name) and learn tables name.
func (c *Config) ClassifierNames() []string {
	var out []string
	for _, cl := range c.Classifiers {
		if cl.Name != "" {
			out = append(out, cl.Name)
		}
	}
	return out
}

// classifierProblem reports a problem with a [[classifier]], naming it.
func (l *loader) classifierProblem(i int, name, key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if name != "" {
		msg = fmt.Sprintf("classifier %q: %s", name, msg)
	} else {
		msg = fmt.Sprintf("classifier #%d: %s", i+1, msg)
	}
	l.problems = append(l.problems, diag.Problem{Pos: l.ix.KeyPos(owner{"classifier", i, ""}.label(key)), Msg: msg})
}

// classifiers validates the [[classifier]] tables and fills in their
// defaults (package classify's). Problems that classify.Config.Check finds
// are reported at the key they are about.
func (l *loader) classifiers(fcs []fileClassifier) []Classifier {
	var out []Classifier
	first := map[string]diag.Position{}
	for i := range fcs {
		label := fmt.Sprintf("classifier[%d]", i)
		if l.bad[label] {
			continue // not a table
		}
		fc := &fcs[i]
		o := owner{"classifier", i, fc.Name}
		c := classify.Config{
			Name: fc.Name, Type: strings.ToLower(strings.TrimSpace(fc.Type)),
			URL: fc.URL, ControllerURL: fc.ControllerURL, SettingsID: fc.SettingsID,
			Address: fc.Address, User: fc.User,
			Command: fc.Command, LearnCommand: fc.LearnCommand, Output: strings.ToLower(fc.Output),
			MaxSize: int64(fc.MaxSize),
		}
		if pw := l.secret(o, "password", fc.Password, true); pw != nil {
			c.Password = pw
		}
		if fc.Timeout != "" {
			d, err := parseDuration(fc.Timeout, 0)
			switch {
			case err != nil:
				l.classifierProblem(i, fc.Name, "timeout", "timeout: %v", err)
			case d <= 0 || d > MaxTimeout:
				l.classifierProblem(i, fc.Name, "timeout", "timeout %s: want more than 0s and at most 1h", d)
			default:
				c.Timeout = d
			}
		}
		if fc.Concurrency != nil {
			if *fc.Concurrency < 1 {
				l.classifierProblem(i, fc.Name, "concurrency", "concurrency %d: want at least 1", *fc.Concurrency)
			} else {
				c.Concurrency = *fc.Concurrency
			}
		}
		c = c.WithDefaults()
		for _, p := range c.Check() {
			if p.Key != "" && l.hasTypeError(label+"."+p.Key) {
				continue // its type error says it
			}
			l.classifierProblem(i, fc.Name, p.Key, "%s", p.Msg)
		}
		pos := l.ix.KeyPos(label)
		if c.Name != "" {
			if at, dup := first[c.Name]; dup {
				l.classifierProblem(i, fc.Name, "name", "duplicate classifier name (first at %s)", at)
			} else {
				first[c.Name] = pos
			}
		}
		out = append(out, Classifier{Config: c, Pos: pos})
	}
	return out
}

// NewClassifiers makes the clients of the configuration's classifiers,
// by name. A loaded Config has been checked, so only a Config built by
// hand can fail here.
func (c *Config) NewClassifiers() (*classify.Set, error) {
	cfgs := make([]classify.Config, len(c.Classifiers))
	for i, cl := range c.Classifiers {
		cfgs[i] = cl.Config
	}
	return classify.NewSet(cfgs)
}
