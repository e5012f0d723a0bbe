package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/internal/golden"
)

// hostileMessage has terminal escapes in its Subject (ESC ] 0 ; title BEL
// retitles the window, ESC [ 2 J clears the screen), a bidi override and a
// C1 CSI in an encoded word, and a List-Id that the "mailing lists" rule
// turns into a mailbox name.
const hostileMessage = "From: \"Evil\x1b[31m\" <evil@example.net>\r\n" +
	"Subject: \x1b]0;title\x07\x1b[2Jinvoice =?utf-8?q?=E2=80=AEfdp.exe_=C2=9B2J?=\r\n" +
	"List-Id: <x\x1b[8m.example.net>\r\n" +
	"Message-ID: <h1@example.net>\r\n" +
	"\r\n" +
	"hello\r\n"

// TestTestEscapesControls checks that test shows what a message says
// without letting it command the terminal: control characters and bidi
// overrides become visible escapes in the table, and stay plain data,
// escaped by JSON, with --json.
func TestTestEscapesControls(t *testing.T) {
	cfg, err := filepath.Abs(filepath.Join("testdata", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	goldenPath, err := filepath.Abs(filepath.Join("testdata", "test-escape.golden"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The file name comes from whoever delivered the mail, too.
	name := filepath.Join("new", "1718000003.M4P4.host\x1b[2J")
	if err := os.MkdirAll(filepath.Join(dir, "maildir", "new"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "maildir", name), []byte(hostileMessage), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // so that the output shows short, stable paths
	code, stdout, stderr := run(t, "", "test", "-c", cfg, "-now", "2024-06-15T12:00:00Z", "maildir")
	if code != exitOK || stderr != "" {
		t.Errorf("test = %d, stderr %q; want %d", code, stderr, exitOK)
	}
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u009b"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("test output has %q:\n%s", bad, stdout)
		}
	}
	code, jsonOut, stderr := run(t, "", "test", "-c", cfg, "-now", "2024-06-15T12:00:00Z", "--json", "maildir")
	if code != exitOK || stderr != "" {
		t.Errorf("test --json = %d, stderr %q; want %d", code, stderr, exitOK)
	}
	var reports []testReport
	if err := json.Unmarshal([]byte(jsonOut), &reports); err != nil {
		t.Fatalf("test --json output is not JSON: %v\n%s", err, jsonOut)
	}
	wantSubject := "\x1b]0;title\x07\x1b[2Jinvoice \u202efdp.exe \u009b2J"
	if len(reports) != 1 || reports[0].Subject != wantSubject {
		t.Errorf("test --json reports %+v, want one with Subject %q", reports, wantSubject)
	}
	golden.Check(t, goldenPath, stdout)
}
