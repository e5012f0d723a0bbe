// classify(name) in rules: a classifier's verdict, asked for lazily.
//
// Evaluating a rule set never calls a classifier (Evaluate does no I/O).
// When a condition reaches classify("x") and the message carries no
// verdict from x, the evaluation stops there and the Result says which
// classifier it needs (Result.Need) instead of deciding anything. The
// caller then fetches the whole message, asks that classifier, and
// evaluates again with the verdict in Message.Verdicts. Conditions that
// expr short-circuits (x && classify("r").spam with x false) never reach
// the call, so such messages are neither fetched whole nor classified.

package rules

import (
	"fmt"
	"slices"

	"github.com/expr-lang/expr/ast"

	"github.com/mailrules/mailrules/classify"
)

// Options changes how rules are compiled. A nil *Options is the zero value.
type Options struct {
	// Classifiers are the names of the configured classifiers, which
	// classify(name) may name. A rule naming another one is a compile
	// error.
	Classifiers []string
}

// verdict is what classify(name) returns to a condition: the fields of a
// classify.Verdict under the names rules use.
type verdict struct {
	Score    float64  `expr:"score"`
	Required float64  `expr:"required"`
	Action   string   `expr:"action"`
	Spam     bool     `expr:"spam"`
	Symbols  []string `expr:"symbols"`
	Skipped  bool     `expr:"skipped"`
}

// verdictFields are the names a rule may read from classify(name), for
// messages about a misspelt one.
var verdictFields = []string{"score", "required", "action", "spam", "symbols", "skipped"}

// NeedVerdictError is how the classify function stops an evaluation that
// reached it without a verdict from the classifier. Evaluate turns it into
// Result.Need; it never reaches a Result's Errors.
type NeedVerdictError struct {
	Classifier string
}

// Error implements error.
func (e *NeedVerdictError) Error() string {
	return fmt.Sprintf("needs the verdict of classifier %q", e.Classifier)
}

// classifyFunction is the classify(name) helper.
func classifyFunction() function {
	return function{
		name: "classify", withEnv: true, classifierArg: true,
		types: []any{new(func(any, string) verdict)},
		fn: func(e *evalEnv, a []any) (any, error) {
			name, _ := a[0].(string)
			v := e.msg.Verdicts[name]
			if v == nil {
				return nil, &NeedVerdictError{Classifier: name}
			}
			return verdict{Score: v.Score, Required: v.Required, Action: v.Action, Spam: v.Spam,
				Symbols: nonNil(v.Symbols), Skipped: v.Skipped}, nil
		},
		doc: `classify("rspamd"): the classifier's verdict (.score .required .action .spam .symbols .skipped); the message is fetched whole and classified only when a rule gets that far`,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkClassifier checks the argument of a classify call: a constant name
// of a configured classifier.
func (st *patchState) checkClassifier(n *ast.CallNode) {
	if len(n.Arguments) != 1 {
		return // expr reports the count
	}
	name, ok := constString(n.Arguments[0])
	if !ok {
		st.problems = append(st.problems, exprProblem{n.Arguments[0].Location().From,
			`classify: the classifier's name must be a constant string, e.g. classify("rspamd")`})
		return
	}
	known := st.c.opts.Classifiers
	switch {
	case slices.Contains(known, name):
		st.classifiers = appendUnique(st.classifiers, name)
	case len(known) == 0:
		st.problems = append(st.problems, exprProblem{n.Arguments[0].Location().From,
			fmt.Sprintf("classify(%q): no classifier is configured; add a [[classifier]] table named %q", name, name)})
	default:
		msg := fmt.Sprintf("classify(%q): unknown classifier (configured: %s)", name, quoteList(known))
		if s := Closest(name, known); s != "" {
			msg = fmt.Sprintf("classify(%q): unknown classifier; did you mean %q?", name, s)
		}
		st.problems = append(st.problems, exprProblem{n.Arguments[0].Location().From, msg})
	}
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func quoteList(list []string) string {
	s := ""
	for i, v := range list {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", v)
	}
	return s
}

// ClassifierUse is a rule that calls classifiers, for `mailrules check`.
type ClassifierUse struct {
	Rule        string
	Classifiers []string // in the order the rule first names them
	When        string   // the condition as written
	ScopeAll    bool     // the rule sweeps old mail too
}

// ClassifierUses returns the rules of the set that call classify(), in
// order.
func (s *Set) ClassifierUses() []ClassifierUse {
	var out []ClassifierUse
	for _, r := range s.rules {
		if len(r.classifiers) > 0 {
			out = append(out, ClassifierUse{Rule: r.name, Classifiers: r.classifiers, When: r.whenSrc, ScopeAll: r.scopeAll})
		}
	}
	return out
}

// Classifiers returns the names of the classifiers some rule of the set
// calls, sorted.
func (s *Set) Classifiers() []string {
	var out []string
	for _, r := range s.rules {
		for _, c := range r.classifiers {
			out = appendUnique(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// VerdictsFor is a convenience for callers that hold verdicts in a slice:
// it returns them keyed by classifier name.
func VerdictsFor(vs ...*classify.Verdict) map[string]*classify.Verdict {
	m := make(map[string]*classify.Verdict, len(vs))
	for _, v := range vs {
		if v != nil {
			m[v.Classifier] = v
		}
	}
	return m
}
