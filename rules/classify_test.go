package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/internal/diag"
)

var classifierOpts = &Options{Classifiers: []string{"rspamd", "spamd"}}

func compileClassify(t *testing.T, specs []Spec) *Set {
	t.Helper()
	set, err := CompileWith(specs, classifierOpts)
	if err != nil {
		t.Fatalf("CompileWith: %v", err)
	}
	return set
}

func TestClassifyCompileErrors(t *testing.T) {
	tests := []struct {
		when string
		opts *Options
		want string
	}{
		{`classify("rspamdd").spam`, classifierOpts, `classify("rspamdd"): unknown classifier; did you mean "rspamd"?`},
		{`classify("bogo").spam`, classifierOpts, `classify("bogo"): unknown classifier (configured: "rspamd", "spamd")`},
		{`classify("rspamd").spam`, nil, `no classifier is configured`},
		{`classify(subject).spam`, classifierOpts, `must be a constant string`},
		{`classify("rspamd").scor > 5`, classifierOpts, `scor`},
		{`classify("rspamd") > 5`, classifierOpts, `invalid operation`},
	}
	for _, tc := range tests {
		sp := Spec{Name: "r", When: tc.when, Move: "Junk", Pos: diag.Position{File: "c.toml", Line: 3, Col: 1}}
		_, err := CompileWith([]Spec{sp}, tc.opts)
		var ps diag.Problems
		if !errors.As(err, &ps) || len(ps) != 1 {
			t.Errorf("CompileWith(%q) = %v, want one problem", tc.when, err)
			continue
		}
		if !strings.Contains(ps[0].Msg, tc.want) {
			t.Errorf("CompileWith(%q) problem = %q, want it to contain %q", tc.when, ps[0].Msg, tc.want)
		}
		if strings.Contains(ps[0].Msg, "rules.verdict") || strings.Contains(ps[0].Msg, "$") {
			t.Errorf("CompileWith(%q) problem %q leaks internal names", tc.when, ps[0].Msg)
		}
	}
}

// TestClassifyNeedsNoBody is the promise that a classify() call alone
// does not make the first fetch of every message a whole-message fetch.
func TestClassifyNeedsNoBody(t *testing.T) {
	set := compileClassify(t, []Spec{{Name: "spam", When: `subject != "" && classify("rspamd").score > 6`, Move: "Junk"}})
	want := Needs{Headers: []string{"SUBJECT"}}
	if got := set.Needs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Needs() = %+v, want %+v", got, want)
	}
	if got := set.Classifiers(); !reflect.DeepEqual(got, []string{"rspamd"}) {
		t.Fatalf("Classifiers() = %v, want [rspamd]", got)
	}
	uses := set.ClassifierUses()
	if len(uses) != 1 || uses[0].Rule != "spam" || !reflect.DeepEqual(uses[0].Classifiers, []string{"rspamd"}) {
		t.Fatalf("ClassifierUses() = %+v", uses)
	}
}

func TestClassifyLazy(t *testing.T) {
	set := compileClassify(t, []Spec{
		{Name: "lists", When: `listId != ""`, Move: "Lists"},
		{Name: "spam", When: `subject contains "offer" && classify("rspamd").spam`, Move: "Junk"},
		{Name: "flag", When: `true`, Flag: []string{"$Seen-By-Rules"}},
	})
	list := &Message{Mailbox: "INBOX", New: true, Header: []byte("Subject: offer\r\nList-Id: <go.example.org>\r\n\r\n")}
	if res := set.Evaluate(list, testNow); res.Need != "" || res.Final == nil || res.Final.Mailbox != "Lists" {
		t.Errorf("Evaluate(list) = %+v, want a move to Lists without a classifier", res)
	}
	plain := &Message{Mailbox: "INBOX", New: true, Header: []byte("Subject: hello\r\n\r\n")}
	if res := set.Evaluate(plain, testNow); res.Need != "" || len(res.AddFlags) != 1 {
		t.Errorf("Evaluate(plain) = %+v, want only the flag, no classifier (&& short-circuits)", res)
	}
	offer := &Message{Mailbox: "INBOX", New: true, Header: []byte("Subject: special offer\r\n\r\n")}
	res := set.Evaluate(offer, testNow)
	if want := (Result{Need: "rspamd"}); !reflect.DeepEqual(res, want) {
		t.Fatalf("Evaluate(offer) = %+v, want %+v", res, want)
	}
	offer.Verdicts = VerdictsFor(&classify.Verdict{Classifier: "rspamd", Score: 15, Required: 15, Action: "reject", Spam: true})
	res = set.Evaluate(offer, testNow)
	if res.Need != "" || res.Final == nil || res.Final.Mailbox != "Junk" || res.Final.Rule != "spam" {
		t.Fatalf("Evaluate(offer with verdict) = %+v, want a move to Junk", res)
	}
	offer.Verdicts = VerdictsFor(&classify.Verdict{Classifier: "rspamd", Score: 1, Required: 15, Action: "no action"})
	res = set.Evaluate(offer, testNow)
	if res.Need != "" || res.Final != nil || len(res.AddFlags) != 1 {
		t.Fatalf("Evaluate(offer, ham verdict) = %+v, want only the flag", res)
	}
}

func TestClassifyFields(t *testing.T) {
	v := &classify.Verdict{Classifier: "rspamd", Score: 7.5, Required: 6, Action: "add header", Spam: true,
		Symbols: []string{"BAYES_SPAM", "GTUBE"}}
	sv := &classify.Verdict{Classifier: "spamd", Skipped: true}
	tests := []struct {
		when string
		want bool
	}{
		{`classify("rspamd").score > 6`, true},
		{`classify("rspamd").score > classify("rspamd").required + 2`, false},
		{`classify("rspamd").action == "add header"`, true},
		{`classify("rspamd").action == "reject"`, false},
		{`"BAYES_SPAM" in classify("rspamd").symbols`, true},
		{`"BAYES_HAM" in classify("rspamd").symbols`, false},
		{`classify("rspamd").spam && !classify("rspamd").skipped`, true},
		{`classify("spamd").skipped`, true},
		{`len(classify("spamd").symbols) == 0`, true},
	}
	for _, tc := range tests {
		set := compileClassify(t, []Spec{{Name: "r", When: tc.when, Flag: []string{"$X"}}})
		msg := &Message{New: true, Verdicts: VerdictsFor(v, sv)}
		res := set.Evaluate(msg, testNow)
		if res.Need != "" || len(res.Errors) > 0 {
			t.Errorf("Evaluate(%q) = %+v", tc.when, res)
			continue
		}
		if got := len(res.Matched) == 1; got != tc.want {
			t.Errorf("Evaluate(%q) matched = %v, want %v", tc.when, got, tc.want)
		}
	}
}

// TestClassifyNeedStopsEverything: a rule that needs a verdict leaves the
// whole message undecided, including what earlier rules decided, so that
// no action is taken on half an evaluation.
func TestClassifyNeedStopsEverything(t *testing.T) {
	set := compileClassify(t, []Spec{
		{Name: "flag", When: `true`, Flag: []string{"$A"}},
		{Name: "copy", When: `true`, Copy: []string{"Backup"}},
		{Name: "spam", When: `classify("spamd").spam`, Move: "Junk"},
		{Name: "rspamd", When: `classify("rspamd").spam`, Move: "Junk2"},
	})
	msg := &Message{Mailbox: "INBOX", New: true}
	if res := set.Evaluate(msg, testNow); !reflect.DeepEqual(res, Result{Need: "spamd"}) {
		t.Fatalf("Evaluate = %+v, want Need spamd only", res)
	}
	msg.Verdicts = VerdictsFor(&classify.Verdict{Classifier: "spamd"})
	if res := set.Evaluate(msg, testNow); !reflect.DeepEqual(res, Result{Need: "rspamd"}) {
		t.Fatalf("Evaluate with spamd = %+v, want Need rspamd", res)
	}
	msg.Verdicts["rspamd"] = &classify.Verdict{Classifier: "rspamd", Spam: true}
	res := set.Evaluate(msg, testNow)
	if res.Need != "" || res.Final == nil || res.Final.Mailbox != "Junk2" || len(res.Copies) != 1 || len(res.AddFlags) != 1 {
		t.Fatalf("Evaluate with both = %+v", res)
	}
}

func TestClassifyInTemplate(t *testing.T) {
	set := compileClassify(t, []Spec{{Name: "by action", When: `true`, Move: `Spam/{classify("rspamd").action}`}})
	msg := &Message{Mailbox: "INBOX", New: true}
	if res := set.Evaluate(msg, testNow); res.Need != "rspamd" {
		t.Fatalf("Evaluate = %+v, want Need rspamd", res)
	}
	msg.Verdicts = VerdictsFor(&classify.Verdict{Classifier: "rspamd", Action: "reject"})
	if res := set.Evaluate(msg, testNow); res.Final == nil || res.Final.Mailbox != "Spam/reject" {
		t.Fatalf("Evaluate with verdict = %+v, want a move to Spam/reject", res)
	}
}
