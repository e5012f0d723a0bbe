package classifye2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/test/rspamdtest"
)

// gtube is SpamAssassin's test pattern, which rspamd (enable_test_patterns)
// and spamd call spam whatever else the message says.
const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

// hamText is ordinary mail, long enough for rspamd's Bayes (11 tokens).
const hamText = "Hi Bob,\r\n\r\nhere are the notes from the planning meeting: we agreed to move the release\r\n" +
	"to the second week of January, Carol updates the roadmap document and\r\n" +
	"sends it around before Friday. Please review the budget figures.\r\n\r\nThanks, Alice"

// rspamdWorld is a world whose config is loaded from TOML, as a user's
// is, with a [[classifier]] for rspamd at url.
func rspamdWorld(t *testing.T, url, controller, rules, accountExtra string) *world {
	t.Helper()
	w := newWorld(t, nil, nil)
	w.loadConfig(fmt.Sprintf(`
[[classifier]]
name           = "rspamd"
type           = "rspamd"
url            = %q
controller_url = %q
password       = { env = "MAILRULES_RSPAMD_PASSWORD" }
timeout        = "10s"
`, url, controller), rules, accountExtra)
	return w
}

// loadConfig replaces the world's config with one loaded from TOML: the
// world's account with accountExtra, then extra tables and rules.
func (w *world) loadConfig(extra, rules, accountExtra string) {
	w.t.Helper()
	w.t.Setenv("MAILRULES_RSPAMD_PASSWORD", rspamdtest.Password)
	a := w.cfg.Accounts[0]
	src := fmt.Sprintf(`[[account]]
name      = "test"
host      = %q
port      = %d
tls       = "none"
username  = %q
password  = { env = %q }
mailboxes = ["INBOX"]
%s
%s
%s`, a.Host, a.Port, a.Username, a.Password.Env, accountExtra, extra, rules)
	path := filepath.Join(w.t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		w.t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		w.t.Fatalf("config.Load:\n%v\n%s", err, src)
	}
	w.cfg = cfg
	w.opts.Classifiers = nil // the engine makes them from the config
}

const scoreRule = `
[[rule]]
name = "spam by score"
when = '!hasFlag("$NotJunk") && classify("rspamd").score > 6'
move = "Junk"
`

// TestRspamdScoreRule: GTUBE is moved to Junk by a score rule, ham stays.
func TestRspamdScoreRule(t *testing.T) {
	srv := rspamdtest.New(t, nil)
	w := rspamdWorld(t, srv.URL(), srv.ControllerURL(), scoreRule, "")
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	w.appendTo("INBOX", mail{"gtube@x", "test", gtube}, mail{"ham@x", "planning notes", hamText})
	metrics := engine.NewMetrics()
	if err := w.run(metrics); err != nil {
		t.Fatalf("run = %v", err)
	}
	if got, want := w.snapshot(), "INBOX: ham@x[]\nJunk: gtube@x[]"; got != want {
		t.Fatalf("after a run:\n%s\nwant:\n%s", got, want)
	}
	var b strings.Builder
	metrics.WriteTo(&b)
	if line := `mailrules_classify_total{account="test",classifier="rspamd",mailbox="INBOX"} 2`; !strings.Contains(b.String(), line) {
		t.Fatalf("metrics lack %s:\n%s", line, b.String())
	}
}

// TestRspamdUnreachableThenFiles: with rspamd unreachable every message
// stays where it is; a later pass with rspamd reachable files them.
func TestRspamdUnreachableThenFiles(t *testing.T) {
	srv := rspamdtest.New(t, nil)
	closed := "http://127.0.0.1:1"
	w := rspamdWorld(t, closed, closed, scoreRule+`
[[rule]]
name = "seen by rules"
when = 'true'
flag = ["$Checked"]
`, "")
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	w.appendTo("INBOX", mail{"gtube@x", "test", gtube}, mail{"ham@x", "planning notes", hamText})
	err := w.run(nil)
	if err == nil || !strings.Contains(err.Error(), "2 messages left untouched") {
		t.Fatalf("run with rspamd unreachable = %v, want 2 messages left untouched", err)
	}
	if got, want := w.snapshot(), "INBOX: gtube@x[] ham@x[]"; got != want {
		t.Fatalf("after a run with rspamd unreachable:\n%s\nwant every message in place and untouched:\n%s", got, want)
	}
	// The same state, rspamd reachable now.
	w.loadConfig(fmt.Sprintf(`
[[classifier]]
name           = "rspamd"
type           = "rspamd"
url            = %q
controller_url = %q
password       = { env = "MAILRULES_RSPAMD_PASSWORD" }
`, srv.URL(), srv.ControllerURL()), scoreRule+`
[[rule]]
name = "seen by rules"
when = 'true'
flag = ["$Checked"]
`, "")
	if err := w.run(nil); err != nil {
		t.Fatalf("run with rspamd back = %v", err)
	}
	if got, want := w.snapshot(), "INBOX: ham@x[$Checked]\nJunk: gtube@x[]"; got != want {
		t.Fatalf("after rspamd came back:\n%s\nwant:\n%s", got, want)
	}
}

// TestRspamdLearnFromMove: a message the user moves into Junk increases
// the count of messages rspamd's controller learned (/stat) by exactly
// one, and reruns do not change it; one moved out again is learned as ham.
func TestRspamdLearnFromMove(t *testing.T) {
	srv := rspamdtest.New(t, nil)
	w := rspamdWorld(t, srv.URL(), srv.ControllerURL(), scoreRule,
		`learn = { junk = "Junk", ham = ["INBOX"], classifiers = ["rspamd"] }`)
	stat := func() int64 {
		t.Helper()
		r := classify.NewRspamd(classify.Config{Name: "rspamd", Type: classify.TypeRspamd, URL: srv.URL(),
			ControllerURL: srv.ControllerURL(), Password: staticSecret(rspamdtest.Password)})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := r.Stat(ctx)
		if err != nil {
			t.Fatalf("Stat = %v", err)
		}
		return st.Learned
	}
	w.create("Junk")
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	w.appendTo("INBOX", mail{"notes@x", "planning notes", hamText}, mail{"gtube@x", "test", gtube})
	if err := w.run(nil); err != nil {
		t.Fatalf("run = %v", err)
	}
	before := stat()
	if got, want := w.snapshot(), "INBOX: notes@x[]\nJunk: gtube@x[]"; got != want {
		t.Fatalf("after filing:\n%s\nwant:\n%s", got, want)
	}

	w.moveByID("INBOX", "Junk", "notes@x")
	for i := 0; i < 3; i++ {
		if err := w.run(nil); err != nil {
			t.Fatalf("run %d after the user's move = %v", i, err)
		}
		if got := stat(); got != before+1 {
			t.Fatalf("run %d: rspamd learned %d -> %d, want exactly +1 (mailrules' own GTUBE filing is not a lesson)", i, before, got)
		}
	}

	w.moveByID("Junk", "INBOX", "notes@x")
	if err := w.run(nil); err != nil {
		t.Fatalf("run after taking it out of Junk = %v", err)
	}
	if got := stat(); got != before+2 {
		t.Fatalf("rspamd learned %d -> %d after the message was taken out of Junk, want +2 in all", before, got)
	}
	if got, want := w.snapshot(), "INBOX: notes@x[$NotJunk]\nJunk: gtube@x[]"; got != want {
		t.Fatalf("after taking it out of Junk:\n%s\nwant:\n%s", got, want)
	}
}

// staticSecret is a password given as is.
type staticSecret string

func (s staticSecret) Resolve(context.Context) (string, error) { return string(s), nil }

// TestRspamdLearnAfterCrash: a crash between rspamd taking a lesson and
// mailrules recording it gives the lesson once more; rspamd answers that
// it knows the message, which mailrules records as given, and rspamd's
// learned count does not move.
func TestRspamdLearnAfterCrash(t *testing.T) {
	srv := rspamdtest.New(t, nil)
	w := rspamdWorld(t, srv.URL(), srv.ControllerURL(), `
[[rule]]
name = "nothing"
when = 'false'
stop = true
`, `learn = { junk = "Junk", classifiers = ["rspamd"] }`)
	r := classify.NewRspamd(classify.Config{Name: "rspamd", Type: classify.TypeRspamd, URL: srv.URL(),
		ControllerURL: srv.ControllerURL(), Password: staticSecret(rspamdtest.Password)})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.create("Junk")
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	m := mail{"crash@x", "planning notes", hamText}
	w.appendTo("INBOX", m)
	w.moveByID("INBOX", "Junk", "crash@x")
	// The lesson reached rspamd, and then mailrules died.
	if err := r.Learn(ctx, m.bytes(), classify.Spam); err != nil {
		t.Fatalf("Learn = %v", err)
	}
	before, err := r.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	metrics := engine.NewMetrics()
	for i := 0; i < 2; i++ {
		if err := w.run(metrics); err != nil {
			t.Fatalf("run %d = %v", i, err)
		}
	}
	after, err := r.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Learned != before.Learned {
		t.Fatalf("rspamd learned %d -> %d, want no change (it knew the message)", before.Learned, after.Learned)
	}
	var b strings.Builder
	metrics.WriteTo(&b)
	if strings.Contains(b.String(), "mailrules_learn_errors_total{account=\"test\",mailbox=\"Junk\"} 1") {
		t.Fatalf("an already learned message counted as a failure:\n%s", b.String())
	}
}
