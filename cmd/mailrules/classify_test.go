package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/test/rspamdtest"
)

// classifyConfig is a configuration with an rspamd classifier at url, a
// rule that asks it and learning.
func classifyConfig(t *testing.T, url, when string) string {
	t.Helper()
	src := fmt.Sprintf(`[[account]]
name     = "mail"
host     = "imap.example.org"
username = "alice"
password = { env = "MAILRULES_TEST_UNSET" }
learn    = { junk = "Junk", ham = ["INBOX"], classifiers = ["rspamd"] }

[[classifier]]
name = "rspamd"
type = "rspamd"
url  = %q
timeout = "5s"

[[rule]]
name = "lists"
when = 'listId != ""'
move = "Lists"

[[rule]]
name = "spam by rspamd"
when = %s
move = "Junk"
`, url, "'"+when+"'")
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckShowsClassifiers(t *testing.T) {
	cfg := classifyConfig(t, "http://127.0.0.1:11333", `subject != "" && classify("rspamd").score > 6`)
	code, stdout, stderr := run(t, "", "check", "-c", cfg)
	if code != exitOK {
		t.Fatalf("check = %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`rule "spam by rspamd": classify(rspamd) -> fetches the whole message (BODY.PEEK[]) and asks the classifier, only for new messages whose other conditions leave the rule open`,
		`mail: learns with rspamd: moved into Junk by the user -> spam; moved out of it into INBOX -> ham`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout)
		}
	}
	// The first fetch stays the header fields: no BODY.PEEK[] there.
	if line := strings.Split(stdout, "\n")[1]; strings.Contains(line, "BODY.PEEK[]") || !strings.Contains(line, "HEADER.FIELDS") {
		t.Errorf("check says the pass fetches %q, want header fields only", line)
	}

	bad := classifyConfig(t, "http://127.0.0.1:11333", `classify("rspamdd").spam`)
	code, stdout, stderr = run(t, "", "check", "-c", bad)
	if code != exitConfig || !strings.Contains(stderr, bad+":21:18:") || !strings.Contains(stderr, `classify("rspamdd"): unknown classifier; did you mean "rspamd"?`) {
		t.Fatalf("check with an unknown classifier = %d\n%s%s\nwant exit 2 and the problem at its line", code, stdout, stderr)
	}
}

const gtubeMessage = "From: a@example.net\r\nSubject: test\r\nMessage-ID: <gtube@x>\r\n\r\n" +
	"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"

const listMessage = "From: b@example.net\r\nSubject: list mail\r\nList-Id: <go.example.org>\r\nMessage-ID: <list@x>\r\n\r\nhello\r\n"

// TestTestAsksClassifier: test asks the classifier that a rule reaches and
// shows its verdict; when it cannot be reached, that message is undecided
// and the others are shown as usual.
func TestTestAsksClassifier(t *testing.T) {
	dir := t.TempDir()
	gtube, list := filepath.Join(dir, "gtube.eml"), filepath.Join(dir, "list.eml")
	os.WriteFile(gtube, []byte(gtubeMessage), 0o644)
	os.WriteFile(list, []byte(listMessage), 0o644)

	down := classifyConfig(t, "http://127.0.0.1:1", `classify("rspamd").score > 6`)
	code, stdout, stderr := run(t, "", "test", "-c", down, gtube, list)
	if code != exitFailure {
		t.Errorf("test with rspamd unreachable = %d, want %d", code, exitFailure)
	}
	for _, want := range []string{"undecided: left where it is", "no verdict, so no rule acts on it", "rspamd unavailable", "move Lists"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("test output lacks %q:\n%s%s", want, stdout, stderr)
		}
	}

	srv := rspamdtest.New(t, nil)
	up := classifyConfig(t, srv.URL(), `classify("rspamd").score > 6`)
	code, stdout, stderr = run(t, "", "test", "-c", up, gtube, list)
	if code != exitOK {
		t.Errorf("test with rspamd = %d, want 0\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"move Junk", "move Lists", "classify(rspamd): spam, score", `action "reject"`, "GTUBE"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("test output lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
	if strings.Count(stdout, "classify(rspamd)") != 1 {
		t.Errorf("test asked rspamd about the list message too (a move to Lists ends it first):\n%s", stdout)
	}
}
