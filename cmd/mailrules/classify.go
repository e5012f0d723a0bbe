package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/internal/termtext"
	"github.com/mailrules/mailrules/rules"
)

// newClassifiers makes the clients of the configuration's classifiers.
func newClassifiers(cfg *config.Config) ([]classify.Classifier, error) {
	return engine.Classifiers(cfg)
}

// testClassifyTimeout bounds the classifier calls of mailrules test.
const testClassifyTimeout = time.Minute

// evaluateClassified evaluates msg like a pass does: when a rule reaches
// classify(), the classifier is asked and the rules are evaluated again
// with its verdict. err is the classifier error that left the message
// undecided (res then has Need set); the verdicts got are returned either way.
func evaluateClassified(set *rules.Set, msg *rules.Message, now time.Time, classifiers []classify.Classifier) (res rules.Result, verdicts []*classify.Verdict, err error) {
	for range len(classifiers) + 1 {
		res = set.Evaluate(msg, now)
		if res.Need == "" {
			return res, verdicts, nil
		}
		var c classify.Classifier
		for _, cl := range classifiers {
			if cl.Name() == res.Need {
				c = cl
			}
		}
		if c == nil {
			return res, verdicts, fmt.Errorf("classifier %q is not configured: %w", res.Need, classify.ErrUnavailable)
		}
		var v *classify.Verdict
		if msg.Size > c.MaxSize() {
			v = &classify.Verdict{Classifier: c.Name(), Skipped: true, Symbols: []string{}}
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), testClassifyTimeout)
			v, err = c.Classify(ctx, msg.Raw)
			cancel()
			if err != nil {
				return res, verdicts, fmt.Errorf("classify with %q: %w", c.Name(), err)
			}
			if v.Classifier == "" {
				v.Classifier = c.Name()
			}
		}
		verdicts = append(verdicts, v)
		if msg.Verdicts == nil {
			msg.Verdicts = map[string]*classify.Verdict{}
		}
		msg.Verdicts[v.Classifier] = v
	}
	return res, verdicts, fmt.Errorf("rules kept asking for verdicts")
}

// verdictReport is a classifier's verdict as test prints it.
type verdictReport struct {
	Classifier string   `json:"classifier"`
	Score      float64  `json:"score"`
	Required   float64  `json:"required"`
	Action     string   `json:"action"`
	Spam       bool     `json:"spam"`
	Skipped    bool     `json:"skipped,omitempty"`
	Symbols    []string `json:"symbols"`
}

func makeVerdictReport(v *classify.Verdict) verdictReport {
	syms := v.Symbols
	if syms == nil {
		syms = []string{}
	}
	return verdictReport{Classifier: v.Classifier, Score: v.Score, Required: v.Required, Action: v.Action,
		Spam: v.Spam, Skipped: v.Skipped, Symbols: syms}
}

// String formats the verdict on one line.
func (v verdictReport) String() string {
	if v.Skipped {
		return fmt.Sprintf("classify(%s): skipped (larger than its max_size)", v.Classifier)
	}
	spam := "ham"
	if v.Spam {
		spam = "spam"
	}
	return fmt.Sprintf("classify(%s): %s, score %.2f / %.2f, action %q, symbols %s", v.Classifier, spam, v.Score, v.Required,
		v.Action, strings.Join(v.Symbols, " "))
}

// describeClassifiers says, for `mailrules check`, which rules of set call
// which classifier and what that costs: the whole message is fetched and
// sent only for the messages whose other conditions leave the rule open.
func describeClassifiers(w io.Writer, set *rules.Set) {
	esc := termtext.Escape
	for _, u := range set.ClassifierUses() {
		which := "new messages"
		if u.ScopeAll {
			which = "messages the sweep finds (every pass)"
		}
		fmt.Fprintf(w, "    rule %q: classify(%s) -> fetches the whole message (BODY.PEEK[]) and asks the classifier, only for %s whose other conditions leave the rule open: when = %s\n",
			esc(u.Rule), esc(strings.Join(u.Classifiers, ", ")), which, esc(strings.Join(strings.Fields(u.When), " ")))
	}
}

// describeLearn says what learning an account does, for check.
func describeLearn(w io.Writer, a *config.Account) {
	if a.Learn == nil {
		return
	}
	esc := termtext.Escape
	ham := "none"
	if len(a.Learn.Ham) > 0 {
		ham = strings.Join(a.Learn.Ham, ", ")
	}
	fmt.Fprintf(w, "  %s: learns with %s: moved into %s by the user -> spam; moved out of it into %s -> ham\n",
		esc(a.Name), esc(strings.Join(a.Learn.Classifiers, ", ")), esc(a.Learn.Junk), esc(ham))
}
