package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// filterSieve exercises every action of the table in README.md, "Sieve",
// against a real Dovecot: fileinto as a move (into created nested
// folders, with :flags), fileinto with keep as a copy, fileinto :copy,
// flags on the kept message, discard to Trash, and an explicit keep that
// outlives a discard.
const filterSieve = `require ["fileinto", "copy", "mailbox", "imap4flags", "variables", "spamtest",
         "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "8" {
  fileinto :create :flags "\\Seen $Junk" "Junk";
  stop;
}
if header :matches "List-Id" "*<*.*>*" {
  set :lower "list" "${2}";
  fileinto :create "Lists/${list}";
  stop;
}
if header :contains "subject" "urgent" {
  addflag ["\\Flagged", "$Urgent"];
}
if address :domain :is "from" "friends.example" {
  addflag "\\Seen";
  fileinto "Friends";
  keep;
}
if header :contains "subject" "invoice" {
  fileinto :copy "Invoices";
}
if header :is "Auto-Submitted" "auto-generated" {
  discard;
}
if header :contains "subject" "keep me" {
  discard;
  keep;
}
`

var sieveMessages = []message{
	{id: "spam@x", headers: "X-Spam-Score: 9.5"},
	{id: "list@x", headers: "List-Id: Go Nuts <Golang-Nuts.googlegroups.com>"},
	{id: "urgent@x", headers: "Subject: urgent: call me"},
	{id: "friend@x", headers: "From: Dan <dan@friends.example>"},
	{id: "invoice@x", headers: "Subject: Invoice 42"},
	{id: "robot@x", headers: "Auto-Submitted: auto-generated"},
	{id: "keepme@x", headers: "Subject: please keep me"},
	{id: "plain@x"},
}

var wantSieve = snapshot{
	"INBOX": {
		"urgent@x":  `$Urgent \Flagged`,
		"friend@x":  `\Seen`,
		"invoice@x": ``,
		"keepme@x":  ``,
		"plain@x":   ``,
	},
	"Junk":              {"spam@x": `$Junk \Seen`},
	"Lists.golang-nuts": {"list@x": ``},
	"Friends":           {"friend@x": `\Seen`},
	"Invoices":          {"invoice@x": ``},
	"Trash":             {"robot@x": ``},
}

// newSieveEnv makes an env whose account runs filterSieve.
func newSieveEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, srv, "", `sieve = "filter.sieve"`)
	if err := os.WriteFile(filepath.Join(e.dir, "filter.sieve"), []byte(filterSieve), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSieveRun(t *testing.T) {
	e := newSieveEnv(t)
	e.appendMessages("INBOX", sieveMessages...)

	r := e.check()
	if r.code != 0 || !strings.Contains(r.stdout, "test/INBOX: 1 rule; fetches UID FLAGS BODY.PEEK[HEADER.FIELDS (") {
		t.Errorf("check output:\n%s", r.stdout)
	}

	e.mustRun("run", "--all")
	got := e.snapshot()
	if got.String() != wantSieve.String() {
		t.Fatalf("after run --all:\n%s\nwant:\n%s", got, wantSieve)
	}
	// Nothing lost: the copies are the only extra messages.
	if got.count() != len(sieveMessages)+2 {
		t.Fatalf("%d messages, want %d", got.count(), len(sieveMessages)+2)
	}
	// A second pass changes nothing; new mail is filed by the script.
	e.mustRun("run")
	if after := e.snapshot(); after.String() != got.String() {
		t.Fatalf("second run changed mailboxes:\n%s\nwant:\n%s", after, got)
	}
	e.appendMessages("INBOX", message{id: "spam-2@x", headers: "X-Spam-Status: Yes, score=12.0 required=5.0"})
	e.mustRun("run")
	if got := e.snapshot(); got["Junk"]["spam-2@x"] != `$Junk \Seen` {
		t.Fatalf("new spam not filed by the script:\n%s", got)
	}
}

func TestSieveDryRun(t *testing.T) {
	e := newSieveEnv(t)
	e.appendMessages("INBOX", sieveMessages...)
	before := e.snapshot()
	r := e.mustRun("run", "--all", "--dry-run")
	if after := e.snapshot(); after.String() != before.String() {
		t.Fatalf("dry run changed mailboxes:\n%s\nwant:\n%s", after, before)
	}
	for _, want := range []string{"sieve:filter.sieve", "Junk", "Lists/golang-nuts", "Friends", "Invoices", "Trash"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, r.stdout)
		}
	}
	e.mustRun("run", "--all")
	if got := e.snapshot(); got.String() != wantSieve.String() {
		t.Fatalf("run after dry run:\n%s\nwant:\n%s", got, wantSieve)
	}
}

func TestSieveWatch(t *testing.T) {
	e := newSieveEnv(t)
	stop, log := e.startWatch(t)
	observer := e.client()
	e.appendMessages("INBOX", message{id: "live-list@x", headers: "List-Id: <debian-devel.lists.debian.org>"})
	if !waitFor(10*time.Second, func() bool { return e.where(observer, "live-list@x", "Lists.debian-devel") == "Lists.debian-devel" }) {
		t.Fatalf("message not filed by the script within 10s; log:\n%s", log)
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d; log:\n%s", code, log)
	}
}

func TestSieveCheckReportsProblems(t *testing.T) {
	e := newEnv(t, srv, "", `sieve = "bad.sieve"`)
	bad := "require \"fileinto\";\nredirect \"boss@example.org\";\nif headr \"x\" \"y\" { fileinto 1; }\n"
	if err := os.WriteFile(filepath.Join(e.dir, "bad.sieve"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.check()
	if r.code == 0 {
		t.Fatalf("check of a broken script exited 0:\n%s", r.stdout)
	}
	path := filepath.Join(e.dir, "bad.sieve")
	for _, want := range []string{
		path + `:3:4: unknown test "headr"; did you mean "header"?`,
		path + `:3:29: fileinto: argument 1 must be a string, not a number`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("check stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// Once the errors are fixed, redirect is still reported, as unsupported.
	if err := os.WriteFile(path, []byte("redirect \"boss@example.org\";\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.check()
	if r.code != 0 {
		t.Errorf("check exited %d:\n%s", r.code, r.stderr)
	}
	if want := path + `:1:1: warning: redirect is not supported`; !strings.Contains(r.stderr, want) {
		t.Errorf("check stderr lacks %q:\n%s", want, r.stderr)
	}
}

// TestSieveReload: an edited script takes effect on SIGHUP, and a script
// that no longer compiles is rejected while the old one keeps acting.
func TestSieveReload(t *testing.T) {
	e := newEnv(t, srv, "", `sieve = "r.sieve"`)
	script := filepath.Join(e.dir, "r.sieve")
	writeScript := func(src string) {
		t.Helper()
		if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeScript("require \"fileinto\";\nif header :contains \"subject\" \"alpha\" { fileinto \"Alpha\"; }\n")
	cmd, log := e.startWatchProcess(t, 1)
	c := e.client()
	filed := func(id, subject, where string) {
		t.Helper()
		e.appendMessages("INBOX", message{id: id, headers: "Subject: " + subject})
		if !waitFor(15*time.Second, func() bool { return e.where(c, id, where) == where }) {
			t.Fatalf("%s not in %s:\n%s", id, where, log)
		}
	}
	filed("a1@x", "alpha one", "Alpha")

	writeScript("require \"fileinto\";\nif header :contains \"subject\" \"beta\" { fileinto \"Beta\"; }\n")
	reload(t, cmd, log, `"config reloaded"`, 1)
	filed("b1@x", "beta one", "Beta")

	writeScript("require \"fileinto\";\nfileinto 1;\n")
	reload(t, cmd, log, `reload rejected`, 1)
	if !strings.Contains(log.String(), "r.sieve:2:10") {
		t.Errorf("rejected reload does not name the script's problem:\n%s", log)
	}
	filed("b2@x", "beta two", "Beta")
}

// TestSieveMailboxExists: mailboxexists (RFC 5490 section 3.1) asks the
// server, with the delimiter mapping of fileinto: the script files into
// Lists, and into Lists/go, only once they exist, and keeps otherwise.
func TestSieveMailboxExists(t *testing.T) {
	e := newEnv(t, srv, "", `sieve = "exists.sieve"`)
	script := `require ["fileinto", "mailbox"];
if mailboxexists "Lists/go" { fileinto "Lists/go"; }
elsif mailboxexists "Lists" { fileinto "Lists"; }
`
	if err := os.WriteFile(filepath.Join(e.dir, "exists.sieve"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.check()
	if r.code != 0 || strings.Contains(r.stderr, "mailboxexists") {
		t.Errorf("check exited %d or warned about mailboxexists:\n%s", r.code, r.stderr)
	}
	e.appendMessages("INBOX", message{id: "before@x"})
	e.mustRun("run", "--all")
	want := snapshot{"INBOX": {"before@x": ``}}
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("without Lists:\n%s\nwant:\n%s", got, want)
	}

	c := e.client()
	if err := c.Create(t.Context(), "Lists"); err != nil {
		t.Fatalf("Create(Lists) = %v", err)
	}
	e.appendMessages("INBOX", message{id: "lists@x"})
	e.mustRun("run")
	want = snapshot{"INBOX": {"before@x": ``}, "Lists": {"lists@x": ``}}
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("with Lists:\n%s\nwant:\n%s", got, want)
	}

	if err := c.Create(t.Context(), "Lists.go"); err != nil {
		t.Fatalf("Create(Lists.go) = %v", err)
	}
	c.Logout(t.Context())
	e.appendMessages("INBOX", message{id: "go@x"})
	e.mustRun("run")
	want = snapshot{"INBOX": {"before@x": ``}, "Lists": {"lists@x": ``}, "Lists.go": {"go@x": ``}}
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("with Lists.go:\n%s\nwant:\n%s", got, want)
	}
}

// TestSieveCopyFlags: a copy gets the flags its fileinto stores with
// (:flags, or the flag variable at that moment), as Pigeonhole stores it,
// and the message left in place keeps its own.
func TestSieveCopyFlags(t *testing.T) {
	e := newEnv(t, srv, "", `sieve = "flags.sieve"`)
	script := copyFlagsSieve
	if err := os.WriteFile(filepath.Join(e.dir, "flags.sieve"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	e.appendMessages("INBOX",
		message{id: "star@x", headers: "Subject: star me", flags: []string{`\Answered`}},
		message{id: "star2@x", headers: "Subject: star me too"},
		message{id: "both@x", headers: "Subject: both", flags: []string{`\Answered`}},
		message{id: "same@x", headers: "Subject: same", flags: []string{`\Seen`}},
	)
	e.mustRun("run", "--all")
	want := snapshot{
		"INBOX": {
			"star@x":  `\Answered`,
			"star2@x": ``,
			"both@x":  `$Kept \Answered`,
			"same@x":  `\Seen`,
		},
		"Starred": {"star@x": `\Flagged`, "star2@x": `\Flagged`},
		"Read":    {"both@x": `\Seen`},
		"Plain":   {"both@x": `$Kept \Answered`},
		"Same":    {"same@x": `\Seen`},
	}
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("after run --all:\n%s\nwant:\n%s", got, want)
	}
	// The source is selected again afterwards: new mail is still filed.
	e.appendMessages("INBOX", message{id: "star3@x", headers: "Subject: star again", flags: []string{`\Seen`}})
	e.mustRun("run")
	if got := e.snapshot(); got["Starred"]["star3@x"] != `\Flagged` || got["INBOX"]["star3@x"] != `\Seen` {
		t.Fatalf("after a second run:\n%s", got)
	}
}

// TestSieveCopyFlagsWatch: in watch, setting a copy's flags selects the
// destination and then the source again, and watching goes on.
func TestSieveCopyFlagsWatch(t *testing.T) {
	e := newEnv(t, srv, "", `sieve = "flags.sieve"`)
	if err := os.WriteFile(filepath.Join(e.dir, "flags.sieve"), []byte(copyFlagsSieve), 0o600); err != nil {
		t.Fatal(err)
	}
	stop, log := e.startWatch(t)
	observer := e.client()
	for _, id := range []string{"w1@x", "w2@x"} {
		e.appendMessages("INBOX", message{id: id, headers: "Subject: star " + id, flags: []string{`\Answered`}})
		if !waitFor(15*time.Second, func() bool { return e.where(observer, id, "Starred") == "Starred" }) {
			t.Fatalf("%s not copied by the script within 15s; log:\n%s", id, log)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("watch exited %d; log:\n%s", code, log)
	}
	got := e.snapshot()
	for _, id := range []string{"w1@x", "w2@x"} {
		if got["Starred"][id] != `\Flagged` || got["INBOX"][id] != `\Answered` {
			t.Errorf("%s: Starred %q, INBOX %q; want \\Flagged and \\Answered:\n%s", id, got["Starred"][id], got["INBOX"][id], got)
		}
	}
}

// copyFlagsSieve stores copies with other flags than the kept message's.
const copyFlagsSieve = `require ["fileinto", "copy", "imap4flags"];
if header :contains "subject" "star" {
  fileinto :copy :flags "\\Flagged" "Starred";
}
if header :contains "subject" "both" {
  addflag "$Kept";
  fileinto :flags "\\Seen" "Read";
  fileinto "Plain";
  keep;
}
if header :contains "subject" "same" {
  fileinto :copy "Same";
}
`
