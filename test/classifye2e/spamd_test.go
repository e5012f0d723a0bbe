package classifye2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/test/spamdtest"
)

// TestSpamdRuleAndLearn: with SpamAssassin's spamd, a rule on its spam
// decision files GTUBE into Junk and leaves ham; a message the user moves
// into Junk is taught to spamd (TELL) once.
func TestSpamdRuleAndLearn(t *testing.T) {
	sa := spamdtest.New(t, nil)
	w := newWorld(t, nil, nil)
	w.loadConfig(fmt.Sprintf(`
[[classifier]]
name    = "sa"
type    = "spamd"
address = %q
timeout = "60s"
`, sa.Addr()), `
[[rule]]
name = "spamd says spam"
when = 'classify("sa").spam && "GTUBE" in classify("sa").symbols'
move = "Junk"
`, `learn = { junk = "Junk", ham = ["INBOX"], classifiers = ["sa"] }`)
	if err := w.run(nil); err != nil {
		t.Fatalf("first run = %v", err)
	}
	w.appendTo("INBOX", mail{"gtube@x", "test", gtube}, mail{"notes@x", "planning notes", hamText})
	if err := w.run(nil); err != nil {
		t.Fatalf("run = %v", err)
	}
	if got, want := w.snapshot(), "INBOX: notes@x[]\nJunk: gtube@x[]"; got != want {
		t.Fatalf("after a run:\n%s\nwant:\n%s", got, want)
	}
	w.moveByID("INBOX", "Junk", "notes@x")
	metrics := engine.NewMetrics()
	for i := 0; i < 2; i++ {
		if err := w.run(metrics); err != nil {
			t.Fatalf("run %d after the user's move = %v", i, err)
		}
	}
	var b strings.Builder
	metrics.WriteTo(&b)
	if line := `mailrules_learned_total{account="test",class="spam",mailbox="Junk"} 1`; !strings.Contains(b.String(), line) {
		t.Fatalf("metrics lack %s (one lesson over two runs):\n%s", line, b.String())
	}
	if strings.Contains(b.String(), `mailrules_learn_errors_total{account="test",mailbox="Junk"} 1`) {
		t.Fatalf("spamd refused the lesson:\n%s", b.String())
	}
}
