package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listsRule files mailing lists into nested folders it creates.
const listsRule = `
[[rule]]
name = "lists"
when = 'listId != ""'
move = "Lists/{listName}"
`

// filingRules covers every action: move (flat and into created nested
// folders), flags, copy, delete to Trash, and a scope = "all" archive rule.
const filingRules = spamRule + listsRule + `
[[rule]]
name = "urgent"
when = 'subject matches "(?i)\\burgent\\b"'
flag = ['\Flagged', "$Urgent"]

[[rule]]
name = "friends"
when = 'any(from, .domain == "friends.example")'
copy = ["Friends"]
seen = true

[[rule]]
name   = "robots"
when   = 'header("Auto-Submitted") startsWith "auto-"'
delete = true

[[rule]]
name  = "archive"
scope = "all"
when  = 'internalDate.Year() < 2025 && !flagged'
move  = "Archive/{internalDate.Year()}"
`

var filingMessages = []message{
	{id: "spam-1@x", headers: "X-Spam-Flag: YES"},
	{id: "list-go@x", headers: "List-Id: Go Nuts <golang-nuts.googlegroups.com>"},
	{id: "list-deb@x", headers: "List-Id: <debian-devel.lists.debian.org>"},
	{id: "urgent@x", headers: "Subject: URGENT: call me"},
	{id: "old@x", date: time.Date(2023, 5, 1, 12, 0, 0, 0, time.UTC)},
	{id: "old-flagged@x", date: time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC), flags: []string{`\Flagged`}},
	{id: "friend@x", headers: "From: Dan <dan@friends.example>"},
	{id: "robot@x", headers: "Auto-Submitted: auto-generated"},
	{id: "plain@x"},
}

// wantFiled is where filingMessages end up.
var wantFiled = snapshot{
	"INBOX": {
		"urgent@x":      `$Urgent \Flagged`,
		"old-flagged@x": `\Flagged`,
		"friend@x":      `\Seen`,
		"plain@x":       ``,
	},
	"Junk":               {"spam-1@x": ``},
	"Lists.golang-nuts":  {"list-go@x": ``},
	"Lists.debian-devel": {"list-deb@x": ``},
	"Archive.2023":       {"old@x": ``},
	"Friends":            {"friend@x": `\Seen`}, // flags are set before copies, so the copy has them
	"Trash":              {"robot@x": ``},
}

func TestRunFilesEveryAction(t *testing.T) {
	e := newEnv(t, srv, filingRules, "")
	e.appendMessages("INBOX", filingMessages...)

	e.mustRun("run", "--all")
	got := e.snapshot()
	if got.String() != wantFiled.String() {
		t.Fatalf("after run --all:\n%s\nwant:\n%s", got, wantFiled)
	}
	// Nothing lost: every message is somewhere, and only the copy added one.
	if got.count() != len(filingMessages)+1 {
		t.Fatalf("after run --all: %d messages, want %d", got.count(), len(filingMessages)+1)
	}

	// A second pass changes nothing.
	r := e.mustRun("run")
	if after := e.snapshot(); after.String() != got.String() {
		t.Fatalf("second run changed mailboxes:\n%s\nwant:\n%s", after, got)
	}
	if strings.Contains(r.stderr, `"action"`) {
		t.Fatalf("second run logged actions:\n%s", r.stderr)
	}

	// New mail after it is processed, and only the new mail.
	e.appendMessages("INBOX",
		message{id: "spam-2@x", headers: "X-Spam-Flag: YES"},
		message{id: "list-go-2@x", headers: "List-Id: <golang-nuts.googlegroups.com>"})
	e.mustRun("run")
	got = e.snapshot()
	if _, ok := got["Junk"]["spam-2@x"]; !ok {
		t.Fatalf("new spam not in Junk:\n%s", got)
	}
	if _, ok := got["Lists.golang-nuts"]["list-go-2@x"]; !ok {
		t.Fatalf("new list mail not filed:\n%s", got)
	}
	if got.count() != len(filingMessages)+1+2 {
		t.Fatalf("after new mail: %d messages, want %d:\n%s", got.count(), len(filingMessages)+3, got)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t, srv, filingRules, "")
	e.appendMessages("INBOX", filingMessages...)
	before := e.snapshot()

	r := e.mustRun("run", "--all", "--dry-run")
	if after := e.snapshot(); after.String() != before.String() {
		t.Fatalf("dry run changed mailboxes:\n%s\nwant:\n%s", after, before)
	}
	for _, want := range []string{"dry run", "spam", "Junk", "Lists/golang-nuts", "Trash", "message spam-1@x"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The dry run recorded nothing: a real run afterwards still files all.
	e.mustRun("run", "--all")
	if got := e.snapshot(); got.String() != wantFiled.String() {
		t.Fatalf("run after dry run:\n%s\nwant:\n%s", got, wantFiled)
	}
}

func TestFirstRunLeavesExistingMailAlone(t *testing.T) {
	e := newEnv(t, srv, filingRules, "")
	e.appendMessages("INBOX", message{id: "old-spam@x", headers: "X-Spam-Flag: YES"})

	r := e.mustRun("run")
	if !strings.Contains(r.stderr, "--all") {
		t.Errorf("first run does not tell how to include existing mail:\n%s", r.stderr)
	}
	got := e.snapshot()
	if _, ok := got["INBOX"]["old-spam@x"]; !ok {
		t.Fatalf("first run moved existing mail:\n%s", got)
	}

	e.appendMessages("INBOX", message{id: "new-spam@x", headers: "X-Spam-Flag: YES"})
	e.mustRun("run")
	got = e.snapshot()
	if _, ok := got["Junk"]["new-spam@x"]; !ok {
		t.Fatalf("mail arriving after the first run was not filed:\n%s", got)
	}
	if _, ok := got["INBOX"]["old-spam@x"]; !ok {
		t.Fatalf("existing mail moved by the second run:\n%s", got)
	}
}

func TestConfigErrorExitCode(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name = "typo"
when = 'subjet == "x"'
move = "Junk"
`, "")
	r := e.mailrules("run")
	if r.code != 2 {
		t.Fatalf("run with a bad rule exited %d, want 2\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `rule "typo"`) || !strings.Contains(r.stderr, "subject") {
		t.Fatalf("run with a bad rule: stderr lacks the rule and a suggestion:\n%s", r.stderr)
	}
}

func TestWrongPasswordExitCode(t *testing.T) {
	e := newEnv(t, srv, filingRules, "")
	e.user.Password = "wrong"
	r := e.mailrules("run")
	if r.code != 1 {
		t.Fatalf("run with a wrong password exited %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "wrong") {
		t.Fatalf("the password reached the log:\n%s", r.stderr)
	}
}

func TestFailingMailboxDoesNotStopOthers(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	// Replace the account's mailboxes: one that does not exist, then INBOX.
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), `mailboxes = ["INBOX"]`, `mailboxes = ["Missing", "INBOX"]`, 1))
	if err := os.WriteFile(e.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	e.appendMessages("INBOX", message{id: "spam@x", headers: "X-Spam-Flag: YES"})

	r := e.mailrules("run", "--all")
	if r.code != 1 {
		t.Fatalf("run with a missing mailbox exited %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Missing") {
		t.Errorf("the error does not name the failing mailbox:\n%s", r.stderr)
	}
	if got := e.snapshot(); len(got["Junk"]) != 1 || !hasMessage(got["Junk"], "spam@x") {
		t.Fatalf("INBOX was not processed after the failing mailbox:\n%s", got)
	}
}

func hasMessage(mailbox map[string]string, id string) bool {
	_, ok := mailbox[id]
	return ok
}

// TestIdleRunSendsStatusNotSelect checks that a run finding no new mail in
// a mailbox asks with one STATUS instead of selecting it, and that new mail
// is still seen.
func TestIdleRunSendsStatusNotSelect(t *testing.T) {
	e := newEnv(t, srv, spamRule, "")
	e.appendMessages("INBOX", message{id: "old@x"})
	e.mustRun("run")

	trace := filepath.Join(e.dir, "trace")
	e.mustRun("run", "--trace", trace)
	c := traceCommands(t, trace)
	if c["STATUS"] != 1 || c["SELECT"] != 0 || c["UID FETCH"] != 0 {
		t.Fatalf("a run with no new mail sent %v, want one STATUS and no SELECT or FETCH", c)
	}

	e.appendMessages("INBOX", message{id: "spam@x", headers: "X-Spam-Flag: YES"})
	e.mustRun("run")
	if got := e.snapshot(); !hasMessage(got["Junk"], "spam@x") || !hasMessage(got["INBOX"], "old@x") {
		t.Fatalf("after new mail:\n%s", got)
	}
}

// TestBodyRule runs a rule that reads the body, so the whole message is
// fetched and the header is taken from it.
func TestBodyRule(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name = "hello"
when = 'body contains "Hello" && subject contains "with body"'
move = "Greetings"
`, "")
	e.appendMessages("INBOX", message{id: "greeting@x", headers: "Subject: with body"}, message{id: "other@x"})
	r := e.mustRun("run", "--all")
	got := e.snapshot()
	if !hasMessage(got["Greetings"], "greeting@x") || !hasMessage(got["INBOX"], "other@x") {
		t.Fatalf("after a body rule:\n%s", got)
	}
	if !strings.Contains(r.stderr, `"message_id":"greeting@x"`) {
		t.Fatalf("the action log lacks the Message-ID taken from the whole message:\n%s", r.stderr)
	}
}
