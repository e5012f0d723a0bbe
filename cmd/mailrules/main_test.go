package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/internal/golden"
)

// run calls dispatch with args and returns the exit code and outputs.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var code int
	if len(args) > 0 && args[0] == "test" {
		code = cmdTest(args[1:], strings.NewReader(stdin), &stdout, &stderr)
	} else {
		code = dispatch(args, &stdout, &stderr)
	}
	return code, stdout.String(), stderr.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

// TestCheckExamples runs check on every shipped configuration.
func TestCheckExamples(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.toml"))
	paths = append(paths, filepath.Join("..", "..", "rules.example.toml"))
	for _, want := range []string{"spam-quarantine", "auto-archive", "mailing-lists", "multi-account", "local-maildir", "oauth2", "sieve", "rules.example"} {
		found := false
		for _, p := range paths {
			found = found || strings.HasSuffix(p, want+".toml")
		}
		if !found {
			t.Errorf("no %s.toml among %q", want, paths)
		}
	}
	for _, p := range paths {
		code, stdout, stderr := run(t, "", "check", "-c", p)
		if code != exitOK || !strings.Contains(stdout, ": ok: ") {
			t.Errorf("check -c %s = %d\nstdout: %s\nstderr: %s", p, code, stdout, stderr)
		}
	}
}

func TestCheckGolden(t *testing.T) {
	code, stdout, stderr := run(t, "", "check", "-c", filepath.Join("testdata", "bad.toml"))
	if code != exitConfig || stdout != "" {
		t.Errorf("check bad.toml = %d, stdout %q; want %d and nothing", code, stdout, exitConfig)
	}
	checkGolden(t, "check-bad.golden", stderr)

	code, stdout, stderr = run(t, "", "check", "-c", filepath.Join("testdata", "config.toml"))
	if code != exitOK || stderr != "" {
		t.Errorf("check config.toml = %d, stderr %q; want %d and nothing", code, stderr, exitOK)
	}
	checkGolden(t, "check-ok.golden", stdout)

	code, _, stderr = run(t, "", "check", "-c", filepath.Join("testdata", "missing.toml"))
	if code != exitConfig || !strings.Contains(stderr, "no such file") {
		t.Errorf("check missing.toml = %d, %q; want %d and no such file", code, stderr, exitConfig)
	}
}

// makeMaildir builds a small Maildir; it is made at run time because a
// Maildir name's ":2,S" is not allowed in a Go module's files.
func makeMaildir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "maildir")
	files := map[string]string{
		"cur/1718000000.M1P1.host:2,S": "From: Boss <boss@example.org>\r\nSubject: URGENT: numbers\r\nDate: Mon, 10 Jun 2024 09:00:00 +0000\r\nMessage-ID: <b1@example.org>\r\n\r\nplease\r\n",
		"new/1718000001.M2P2.host":     "From: spam@example.net\r\nSubject: You won\r\nX-Spam-Flag: YES\r\n\r\nmoney\r\n",
		"tmp/1718000002.M3P3.host":     "Subject: half delivered\r\n\r\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTestGolden(t *testing.T) {
	maildir := makeMaildir(t)
	cfg, err := filepath.Abs(filepath.Join("testdata", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := filepath.Join(filepath.Dir(maildir), "msgs")
	if err := os.CopyFS(msgs, os.DirFS(filepath.Join("testdata", "msgs"))); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	t.Chdir(filepath.Dir(maildir)) // so that the output shows short, stable paths
	code, stdout, stderr := run(t, "", "test", "-c", cfg, "-now", "2024-06-15T12:00:00Z", "msgs", "maildir")
	if code != exitOK || stderr != "" {
		t.Errorf("test = %d, stderr %q; want %d", code, stderr, exitOK)
	}
	if err := os.Chdir(wd); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "test.golden", stdout)

	// Flags after the messages, another account and mailbox, JSON.
	args := []string{"test", "-c", filepath.Join("testdata", "config.toml"), filepath.Join("testdata", "msgs", "list.eml"),
		"--json", "--account", "work", "--mailbox", "Lists", "-now", "2024-06-15T12:00:00Z"}
	code, stdout, stderr = run(t, "", args...)
	if code != exitOK || stderr != "" {
		t.Errorf("test --json = %d, stderr %q; want %d", code, stderr, exitOK)
	}
	var reports []testReport
	if err := json.Unmarshal([]byte(stdout), &reports); err != nil {
		t.Fatalf("test --json output is not JSON: %v\n%s", err, stdout)
	}
	checkGolden(t, "test-json.golden", stdout)
}

func TestTestStdinAndErrors(t *testing.T) {
	cfg := filepath.Join("testdata", "config.toml")
	msg := "Subject: important stuff\r\nFrom: a@example.com\r\n\r\nbody\r\n"
	code, stdout, _ := run(t, msg, "test", "-c", cfg, "-")
	if code != exitOK || !strings.Contains(stdout, `flag \Flagged`) {
		t.Errorf("test - = %d\n%s", code, stdout)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"test", "-c", cfg}, exitConfig, "Usage: mailrules test"},
		{[]string{"test", "-c", cfg, "--account", "nope", "-"}, exitConfig, `--account "nope": no such account`},
		{[]string{"test", "-c", cfg, filepath.Join("testdata", "nope.eml")}, exitFailure, "no such file"},
		{[]string{"test", "-c", filepath.Join("testdata", "bad.toml"), "-"}, exitConfig, "3 problems"},
		{[]string{"test", "-c", cfg, "-now", "yesterday", "-"}, exitConfig, "-now"},
	}
	for _, tc := range tests {
		code, _, stderr := run(t, msg, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q = %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, exitConfig, ""},
		{[]string{"frobnicate"}, exitConfig, ""},
		{[]string{"help"}, exitOK, "Usage:"},
		{[]string{"version"}, exitOK, "mailrules "},
	}
	for _, tc := range tests {
		code, stdout, _ := run(t, "", tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.out) {
			t.Errorf("dispatch(%q) = %d, %q; want %d and %q", tc.args, code, stdout, tc.code, tc.out)
		}
	}
}

func TestMaildirFlags(t *testing.T) {
	got := maildirFlags("1718000000.M1P1.host:2,FRS")
	want := []string{`\Flagged`, `\Answered`, `\Seen`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("maildirFlags = %q, want %q", got, want)
	}
}
