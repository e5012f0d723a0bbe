package classifye2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/rules"
)

// classifyRules call the classifier only for subjects marked [ext]; the
// second rule applies to every message, so a deferred message shows that
// no rule acted on it.
var classifyRules = []rules.Spec{
	{Name: "spam", When: `subject startsWith "[ext]" && classify("words").spam`, Move: "Junk"},
	{Name: "checked", When: `true`, Flag: []string{"$Checked"}},
}

// TestUnavailableClassifierDefers: with the classifier down, the messages
// whose rules reach it stay where they are, untouched by any rule, the
// run reports them, and the next pass, with the classifier back, files
// them; messages decided without it are handled once.
func TestUnavailableClassifierDefers(t *testing.T) {
	words := newWords("words", "viagra", "lottery")
	w := newWorld(t, classifyRules, nil, words)
	if err := w.run(nil); err != nil { // first pass: the baseline
		t.Fatalf("first run = %v", err)
	}
	w.appendTo("INBOX",
		mail{"ext-spam@x", "[ext] you won", "lottery viagra now"},
		mail{"ext-ham@x", "[ext] meeting", "see you at noon"},
		mail{"internal@x", "lottery pool at work", "viagra jokes aside"},
	)

	words.down.Store(true)
	metrics := engine.NewMetrics()
	err := w.run(metrics)
	if err == nil || !strings.Contains(err.Error(), "2 messages left untouched") {
		t.Fatalf("run with the classifier down = %v, want an error about 2 deferred messages", err)
	}
	want := "INBOX: ext-ham@x[] ext-spam@x[] internal@x[$Checked]"
	if got := w.snapshot(); got != want {
		t.Fatalf("after a run with the classifier down:\n%s\nwant:\n%s", got, want)
	}
	if n := words.calls.Load(); n != 2 {
		t.Fatalf("classifier calls = %d, want 2 (internal@x is decided without it)", n)
	}
	st, _, err := w.store.Get("test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Deferred.String(); got != "1:2" || st.HighestUID != 3 {
		t.Fatalf("state = highest %d, deferred %q; want 3 and 1:2", st.HighestUID, got)
	}
	var b bytes.Buffer
	metrics.WriteTo(&b)
	for _, line := range []string{
		`mailrules_classify_errors_total{account="test",classifier="words",mailbox="INBOX"} 2`,
		`mailrules_messages_deferred_total{account="test",mailbox="INBOX"} 2`,
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("metrics lack %s:\n%s", line, b.String())
		}
	}

	words.down.Store(false)
	words.calls.Store(0)
	if err := w.run(nil); err != nil {
		t.Fatalf("run with the classifier back = %v", err)
	}
	want = "INBOX: ext-ham@x[$Checked] internal@x[$Checked]\nJunk: ext-spam@x[]" // the move ends processing before "checked"
	if got := w.snapshot(); got != want {
		t.Fatalf("after the classifier came back:\n%s\nwant:\n%s", got, want)
	}
	if n := words.calls.Load(); n != 2 {
		t.Fatalf("classifier calls = %d, want 2 (the two deferred messages)", n)
	}
	if st, _, _ := w.store.Get("test", "INBOX"); len(st.Deferred) != 0 {
		t.Fatalf("deferred after success = %v, want none", st.Deferred)
	}

	words.calls.Store(0)
	if err := w.run(nil); err != nil {
		t.Fatalf("third run = %v", err)
	}
	if got := w.snapshot(); got != want {
		t.Fatalf("a third run changed something:\n%s\nwant:\n%s", got, want)
	}
	if n := words.calls.Load(); n != 0 {
		t.Fatalf("classifier calls in a pass with nothing new = %d, want 0", n)
	}
}

// TestClassifyManyBatches files more messages than one batch of the
// whole-message fetch holds, so that fetching and classifying overlap.
func TestClassifyManyBatches(t *testing.T) {
	words := newWords("words", "lottery")
	w := newWorld(t, []rules.Spec{{Name: "spam", When: `classify("words").spam`, Move: "Junk"}}, nil, words)
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	var msgs []mail
	wantInbox, wantJunk := 0, 0
	for i := 0; i < 75; i++ {
		m := mail{fmt.Sprintf("m%02d@x", i), "hello", "nothing to see"}
		if i%3 == 0 {
			m.body = "win the lottery"
			wantJunk++
		} else {
			wantInbox++
		}
		msgs = append(msgs, m)
	}
	w.appendTo("INBOX", msgs...)
	if err := w.run(nil); err != nil {
		t.Fatalf("run = %v", err)
	}
	got := w.snapshot()
	for _, line := range strings.Split(got, "\n") {
		name, ids, _ := strings.Cut(line, ": ")
		n := len(strings.Fields(ids))
		if (name == "INBOX" && n != wantInbox) || (name == "Junk" && n != wantJunk) {
			t.Fatalf("%s holds %d messages, want INBOX %d and Junk %d:\n%s", name, n, wantInbox, wantJunk, got)
		}
	}
	if n := words.calls.Load(); n != 75 {
		t.Fatalf("classifier calls = %d, want 75", n)
	}
}

// TestDeferredSweepStaysOld: an old message a scope = "all" rule could not
// decide for want of a verdict is evaluated again as old mail, so rules
// for new mail still leave it alone.
func TestDeferredSweepStaysOld(t *testing.T) {
	words := newWords("words", "lottery")
	specs := []rules.Spec{
		{Name: "old spam", Scope: rules.ScopeAll, When: `subject startsWith "[old]" && classify("words").spam`, Move: "Junk"},
		{Name: "new mail", When: `true`, Flag: []string{"$New"}},
	}
	w := newWorld(t, specs, nil, words)
	w.appendTo("INBOX", mail{"old-spam@x", "[old] you won", "lottery"}, mail{"old-ham@x", "[old] hello", "lunch?"})
	// The first pass makes both old mail; the sweep looks at them.
	words.down.Store(true)
	if err := w.run(nil); err == nil {
		t.Fatalf("run with the classifier down = nil, want the deferred messages reported")
	}
	if got, want := w.snapshot(), "INBOX: old-ham@x[] old-spam@x[]"; got != want {
		t.Fatalf("after a run with the classifier down:\n%s\nwant:\n%s", got, want)
	}
	words.down.Store(false)
	if err := w.run(nil); err != nil {
		t.Fatalf("run with the classifier back = %v", err)
	}
	if got, want := w.snapshot(), "INBOX: old-ham@x[]\nJunk: old-spam@x[]"; got != want {
		t.Fatalf("after the classifier came back:\n%s\nwant (no $New on old mail):\n%s", got, want)
	}
}
