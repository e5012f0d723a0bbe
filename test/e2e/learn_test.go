package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/test/rspamdtest"
)

// rspamdSecret is the controller's password, as given.
type rspamdSecret string

func (s rspamdSecret) Resolve(context.Context) (string, error) { return string(s), nil }

// TestLearnCommand runs mailrules learn against a real rspamd: --dry-run
// counts and teaches nothing, the real run teaches each message once
// (rspamd's /stat learned count grows by exactly that many), and a second
// run finds every lesson given already.
func TestLearnCommand(t *testing.T) {
	rs := rspamdtest.New(t, nil)
	t.Setenv("MAILRULES_E2E_RSPAMD_PASSWORD", rspamdtest.Password)
	e := newEnv(t, srv, fmt.Sprintf(`
[[classifier]]
name           = "rspamd"
type           = "rspamd"
url            = %q
controller_url = %q
password       = { env = "MAILRULES_E2E_RSPAMD_PASSWORD" }

[[rule]]
name = "nothing"
when = 'false'
stop = true
`, rs.URL(), rs.ControllerURL()), `learn = { junk = "Junk", ham = ["INBOX"], classifiers = ["rspamd"] }`)
	c := e.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Create(ctx, "Junk"); err != nil {
		t.Fatal(err)
	}
	// Long enough for rspamd's Bayes, which learns only messages with at
	// least 11 tokens.
	for _, m := range []struct{ mailbox, id, subject, body string }{
		{"INBOX", "notes-1@x", "planning notes", "Hello team, the planning meeting notes are attached; please review the budget and the roadmap before Friday. Thanks, Alice"},
		{"Junk", "spam-1@x", "cheap watches", "Buy cheap replica watches and pills now, limited offer, click here for free money and act now before it ends"},
	} {
		raw := fmt.Sprintf("From: someone@example.net\r\nTo: user@example.org\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\n%s\r\n",
			m.subject, m.id, m.body)
		if _, err := c.Append(ctx, m.mailbox, nil, time.Now(), strings.NewReader(raw)); err != nil {
			t.Fatalf("Append(%s) = %v", m.id, err)
		}
	}

	r := classify.NewRspamd(classify.Config{Name: "rspamd", Type: classify.TypeRspamd, URL: rs.URL(),
		ControllerURL: rs.ControllerURL(), Password: rspamdSecret(rspamdtest.Password)})
	learned := func() int64 {
		st, err := r.Stat(ctx)
		if err != nil {
			t.Fatalf("Stat = %v", err)
		}
		return st.Learned
	}
	before := learned()

	out := e.mustRun("learn", "--dry-run").stdout
	if !strings.Contains(out, "WOULD LEARN") || !regexpTotal(out, 2, 0) {
		t.Fatalf("learn --dry-run printed:\n%s\nwant 2 lessons to give", out)
	}
	if got := learned(); got != before {
		t.Fatalf("learn --dry-run taught rspamd: learned %d -> %d", before, got)
	}
	res := e.mailrules("learn")
	if res.code != 0 {
		t.Fatalf("learn = %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if !regexpTotal(res.stdout, 2, 0) {
		t.Fatalf("learn printed:\n%s\nwant 2 learned", res.stdout)
	}
	if got := learned(); got != before+2 {
		t.Fatalf("rspamd learned %d -> %d, want +2", before, got)
	}
	out = e.mustRun("learn").stdout
	if !regexpTotal(out, 0, 2) {
		t.Fatalf("second learn printed:\n%s\nwant 0 learned, 2 already", out)
	}
	if got := learned(); got != before+2 {
		t.Fatalf("a second learn taught rspamd again: learned %d -> %d", before, got)
	}
}

// regexpTotal reports whether learn's table ends with a total line of
// learned and already.
func regexpTotal(out string, learned, already int) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && f[0] == "total" {
			return f[1] == fmt.Sprint(learned) && f[2] == fmt.Sprint(already)
		}
	}
	return false
}
