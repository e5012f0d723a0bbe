package classifye2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// moveByID moves the message with Message-ID id from one mailbox to
// another, as the user's mail client would.
func (w *world) moveByID(from, to, id string) {
	w.t.Helper()
	c := w.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Select(ctx, from, nil); err != nil {
		w.t.Fatalf("Select(%q) = %v", from, err)
	}
	crit := imap.Header("Message-ID", id)
	uids, err := c.UIDSearch(ctx, &crit)
	if err != nil || len(uids) != 1 {
		w.t.Fatalf("UIDSearch(Message-ID %s) in %q = %v, %v; want one", id, from, uids, err)
	}
	if _, err := c.UIDMove(ctx, imap.SeqSetFromNums(uids...), to); err != nil {
		w.t.Fatalf("UIDMove(%s, %q) = %v", id, to, err)
	}
	c.Logout(ctx)
}

func (w *world) learned(words *wordsClassifier) [2]int {
	return [2]int{words.learnedCount(classify.Spam), words.learnedCount(classify.Ham)}
}

// TestLearnFromUserMoves: what the user moves into Junk is learned as
// spam, what the user takes out of it into a ham folder as ham, each once;
// what mailrules filed into Junk itself is not learned; a rescued message
// is flagged $NotJunk so the spam rule leaves it alone.
func TestLearnFromUserMoves(t *testing.T) {
	words := newWords("words", "viagra", "lottery")
	specs := []rules.Spec{{Name: "spam", When: `!hasFlag("$NotJunk") && classify("words").spam`, Move: "Junk"}}
	w := newWorld(t, specs, nil, words)
	w.cfg.Accounts[0].Learn = &config.Learn{Junk: "Junk", Ham: []string{"INBOX", "Archive"}, Classifiers: []string{"words"}}
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	w.appendTo("INBOX",
		mail{"spam1@x", "you won", "lottery viagra"},
		mail{"ham1@x", "hello", "lunch?"},
		mail{"ham2@x", "quarterly figures", "attached"},
	)
	if err := w.run(nil); err != nil {
		t.Fatalf("second run = %v", err)
	}
	if got, want := w.snapshot(), "INBOX: ham1@x[] ham2@x[]\nJunk: spam1@x[]"; got != want {
		t.Fatalf("after filing:\n%s\nwant:\n%s", got, want)
	}
	if got := w.learned(words); got != [2]int{0, 0} {
		t.Fatalf("learned (spam, ham) = %v after mailrules' own filing, want none", got)
	}

	// The user disagrees twice.
	w.moveByID("INBOX", "Junk", "ham2@x")
	w.moveByID("Junk", "INBOX", "spam1@x")
	if err := w.run(nil); err != nil {
		t.Fatalf("run after the user's moves = %v", err)
	}
	if got := w.learned(words); got != [2]int{1, 1} {
		t.Fatalf("learned (spam, ham) = %v, want (1, 1)", got)
	}
	if got, want := w.snapshot(), "INBOX: ham1@x[] spam1@x[$NotJunk]\nJunk: ham2@x[]"; got != want {
		t.Fatalf("after the user's moves:\n%s\nwant:\n%s", got, want)
	}

	// Reruns teach nothing twice.
	for i := 0; i < 2; i++ {
		if err := w.run(nil); err != nil {
			t.Fatalf("rerun = %v", err)
		}
	}
	if got := w.learned(words); got != [2]int{1, 1} {
		t.Fatalf("learned (spam, ham) after reruns = %v, want still (1, 1)", got)
	}

	// mailrules learn: a dry run counts, then the real one teaches what
	// was never taught (ham1), and nothing else.
	dry := w.opts
	dry.DryRun = true
	sums, err := engine.New(w.cfg, w.store, nopLogger(), &dry).Learn(context.Background())
	if err != nil {
		t.Fatalf("Learn (dry run) = %v", err)
	}
	if got := total(sums); got != [3]int{1, 2, 0} {
		t.Fatalf("Learn (dry run) learned, already, failed = %v, want 1, 2, 0", got)
	}
	if got := w.learned(words); got != [2]int{1, 1} {
		t.Fatalf("a dry run taught: learned = %v", got)
	}
	sums, err = engine.New(w.cfg, w.store, nopLogger(), &w.opts).Learn(context.Background())
	if err != nil || total(sums) != [3]int{1, 2, 0} {
		t.Fatalf("Learn = %v, %v; want 1 learned, 2 already", total(sums), err)
	}
	if got := w.learned(words); got != [2]int{1, 2} {
		t.Fatalf("learned (spam, ham) after mailrules learn = %v, want (1, 2)", got)
	}
	sums, err = engine.New(w.cfg, w.store, nopLogger(), &w.opts).Learn(context.Background())
	if err != nil || total(sums) != [3]int{0, 3, 0} {
		t.Fatalf("second Learn = %v, %v; want 0 learned, 3 already", total(sums), err)
	}
}

// TestLearnUnavailableRetries: a lesson the classifier cannot take is
// given on a later pass, once.
func TestLearnUnavailableRetries(t *testing.T) {
	words := newWords("words")
	w := newWorld(t, []rules.Spec{{Name: "nothing", When: `false`, Stop: true}}, nil, words)
	w.cfg.Accounts[0].Learn = &config.Learn{Junk: "Junk", Classifiers: []string{"words"}}
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	w.create("Junk")
	w.appendTo("INBOX", mail{"s@x", "buy", "now"})
	w.moveByID("INBOX", "Junk", "s@x")
	words.down.Store(true)
	if err := w.run(nil); err == nil {
		t.Fatalf("run with the classifier down = nil, want an error about the failed lesson")
	}
	words.down.Store(false)
	for i := 0; i < 2; i++ {
		if err := w.run(nil); err != nil {
			t.Fatalf("run %d with the classifier back = %v", i, err)
		}
	}
	if got := w.learned(words); got != [2]int{1, 0} {
		t.Fatalf("learned (spam, ham) = %v, want (1, 0)", got)
	}
}

func total(sums []*engine.LearnSummary) [3]int {
	var t [3]int
	for _, s := range sums {
		t[0] += s.Learned
		t[1] += s.Already
		t[2] += s.Failed
	}
	return t
}

// TestLearnHoldsBackPendingBatch: while a batch of ours that moves into
// Junk has not finished (its journal is in the state, as after a crash or
// while another watcher is at work), what arrived in Junk since it began
// is not learned; once it is done, what it did not put there is.
func TestLearnHoldsBackPendingBatch(t *testing.T) {
	words := newWords("words")
	w := newWorld(t, []rules.Spec{{Name: "nothing", When: `false`, Stop: true}}, nil, words)
	w.cfg.Accounts[0].Learn = &config.Learn{Junk: "Junk", Classifiers: []string{"words"}}
	w.create("Junk")
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	st, _, err := w.store.Get("test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	st.Pending = &engine.Journal{UIDValidity: st.UIDValidity, From: st.HighestUID + 1, HighestUID: st.HighestUID + 1,
		Copies: map[string]actions.DestMark{"Junk": {UIDNext: 1}}}
	if err := w.store.Put("test", "INBOX", st); err != nil {
		t.Fatal(err)
	}
	w.appendTo("Junk", mail{"s@x", "buy", "now"})
	// Only Junk is looked at (INBOX's pass would finish the batch).
	w.cfg.Accounts[0].Mailboxes = []string{"Junk"}
	if err := w.run(nil); err != nil {
		t.Fatalf("run with a batch in flight = %v", err)
	}
	if got := w.learned(words); got != [2]int{0, 0} {
		t.Fatalf("learned (spam, ham) = %v while a batch into Junk was in flight, want none yet", got)
	}
	st.Pending = nil
	if err := w.store.Put("test", "INBOX", st); err != nil {
		t.Fatal(err)
	}
	if err := w.run(nil); err != nil {
		t.Fatalf("run after the batch = %v", err)
	}
	if got := w.learned(words); got != [2]int{1, 0} {
		t.Fatalf("learned (spam, ham) = %v after the batch finished without putting it there, want (1, 0)", got)
	}
}

// TestWatchLearnsFromMove: watch watches the junk folder although no rule
// applies to it, and learns a message the user moves there.
func TestWatchLearnsFromMove(t *testing.T) {
	words := newWords("words")
	w := newWorld(t, []rules.Spec{{Name: "nothing", When: `false`, Stop: true, Mailboxes: []string{"INBOX"}}}, nil, words)
	w.cfg.Accounts[0].Learn = &config.Learn{Junk: "Junk", Classifiers: []string{"words"}}
	w.create("Junk")
	w.appendTo("INBOX", mail{"w@x", "offer", "buy now"})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	opts := w.opts
	opts.Metrics = engine.NewMetrics()
	go func() { done <- engine.New(w.cfg, w.store, nopLogger(), &opts).Watch(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v", err)
		}
	}()
	// Until the watcher of Junk has had its first look (the baseline):
	// its first pass comes right after.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var b strings.Builder
		opts.Metrics.WriteTo(&b)
		if strings.Contains(b.String(), `mailrules_passes_total{account="test",mailbox="Junk",result="ok"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch made no first pass over Junk within 30s:\n%s", b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.moveByID("INBOX", "Junk", "w@x")
	for words.learnedCount(classify.Spam) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("watch did not learn the message moved into Junk within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
