package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSieveCheckAndTest runs check and test on a config with a Sieve
// script: check lists the script and warns about redirect at its
// position; test shows the Sieve actions beside mailrules' own.
func TestSieveCheckAndTest(t *testing.T) {
	conf := filepath.Join("testdata", "sieve", "sieve.toml")
	code, stdout, stderr := run(t, "", "check", "-c", conf)
	if code != exitOK {
		t.Fatalf("check = %d\n%s", code, stderr)
	}
	checkGolden(t, "sieve/check.golden", stdout+"--- stderr\n"+stderr)

	msgs := []string{"list.eml", "invoice.eml", "spam.eml"}
	args := []string{"test", "-c", conf, "-now", "2026-12-02T15:00:00Z"}
	for _, m := range msgs {
		args = append(args, filepath.Join("testdata", "sieve", m))
	}
	code, stdout, stderr = run(t, "", args...)
	if code != exitOK {
		t.Fatalf("test = %d\n%s", code, stderr)
	}
	checkGolden(t, "sieve/test.golden", stdout)
	if !strings.Contains(stdout, `fileinto :copy "Invoices" flags \Seen`) {
		t.Errorf("test output lacks the Sieve actions:\n%s", stdout)
	}
	// The copy's own flags, in JSON.
	_, stdout, _ = run(t, "", "test", "-c", conf, "-json", filepath.Join("testdata", "sieve", "invoice.eml"))
	if want := `"copyFlags": {
      "Invoices": [
        "\\Seen"
      ]
    }`; !strings.Contains(stdout, want) {
		t.Errorf("test -json output lacks %s:\n%s", want, stdout)
	}
}

// TestSieveTestMailboxExists: test, which does not connect, answers
// mailboxexists from the configuration (INBOX, the account's mailboxes,
// its Trash) and says so.
func TestSieveTestMailboxExists(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "c.toml")
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("m.sieve", `require ["fileinto", "mailbox"];
if mailboxexists "Lists/go" { fileinto "Lists/go"; }
elsif mailboxexists ["inbox", "Bin"] { fileinto "Both"; }
`)
	write("m.eml", "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n")
	tests := []struct{ mailboxes, want string }{
		{`mailboxes = ["INBOX", "Lists/go"]`, `move Lists/go`},
		{`trash = "Bin"`, `move Both`},
		{``, `sieve:m.sieve: implicit keep`},
	}
	for _, tt := range tests {
		write("c.toml", "sieve = \"m.sieve\"\n[[account]]\nname = \"a\"\nhost = \"imap.example.org\"\nusername = \"u\"\npassword = \"p\"\n"+tt.mailboxes+"\n")
		code, stdout, stderr := run(t, "", "test", "-c", conf, filepath.Join(dir, "m.eml"))
		if code != exitOK {
			t.Fatalf("test with %s = %d\n%s", tt.mailboxes, code, stderr)
		}
		if !strings.Contains(stdout, tt.want) || !strings.Contains(stdout, "mailboxexists: test does not connect") {
			t.Errorf("test with %s: output lacks %q or the note:\n%s", tt.mailboxes, tt.want, stdout)
		}
	}
}
