package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sampleExport is the realistic Gmail export the gmailfilter tests use.
var sampleExport = filepath.Join("..", "..", "gmailfilter", "testdata", "mailFilters.xml")

// runImport calls import with stdin and returns the exit code and outputs.
func runImport(stdin string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := cmdImport(args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestImportRoundTripsThroughCheck imports the sample export into a file
// (-o), puts it after an account in a configuration, and runs mailrules
// check on it: the "Gmail import round-trips through check".
func TestImportRoundTripsThroughCheck(t *testing.T) {
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "gmail.toml")
	code, stdout, stderr := runImport("", "gmail", sampleExport, "-o", rulesPath, "--archive", "[Gmail]/All Mail")
	if code != exitOK || stdout != "" {
		t.Fatalf("import gmail -o = %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "warning: Gmail filter 14: not translated: forwardTo") ||
		!strings.HasSuffix(stderr, ": 22 filters: 18 rules, 4 commented out; 10 warnings\n") {
		t.Errorf("import stderr lacks the warnings or the summary:\n%s", stderr)
	}
	imported, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	account := "[[account]]\nname = \"gmail\"\nhost = \"imap.gmail.com\"\nusername = \"alice.example@gmail.com\"\n" +
		"password = { env = \"GMAIL_PASSWORD\" }\n\n"
	if err := os.WriteFile(cfg, append([]byte(account), imported...), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run(t, "", "check", "-c", cfg)
	if code != exitOK || stderr != "" || !strings.Contains(stdout, ": ok: 1 account, 18 rules") {
		t.Errorf("check of the imported rules = %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(string(imported), `move = "[Gmail]/All Mail"`) {
		t.Errorf("--archive was not used:\n%s", imported)
	}
}

// TestImportStdin reads the export from standard input and writes the
// rules to standard output; flags may come first.
func TestImportStdin(t *testing.T) {
	data, err := os.ReadFile(sampleExport)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runImport(string(data), "--no-body", "gmail", "-")
	if code != exitOK || !strings.HasPrefix(stdout, "# Rules made by mailrules import gmail from <stdin>:") {
		t.Fatalf("import gmail - = %d\nstdout: %.300s\nstderr: %s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "body") || !regexp.MustCompile(`(?m)^<stdin>:\d+:\d+: rule "`).MatchString(stderr) {
		t.Errorf("--no-body or the stdin positions did not apply:\nstdout: %s\nstderr: %s", stdout, stderr)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	notXML := filepath.Join(dir, "filters.txt")
	if err := os.WriteFile(notXML, []byte("from: alice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, exitConfig, "Usage: mailrules import"},
		{[]string{"gmail"}, exitConfig, "Usage: mailrules import"},
		{[]string{"gmail", "a.xml", "b.xml"}, exitConfig, "Usage: mailrules import"},
		{[]string{"sieve", "x.sieve"}, exitConfig, `unknown format "sieve"; want one of gmail`},
		{[]string{"gmail", filepath.Join(dir, "nope.xml")}, exitFailure, "no such file"},
		{[]string{"gmail", notXML}, exitConfig, notXML + ": not a Gmail filter export: no XML element in it"},
		{[]string{"gmail", sampleExport, "-o", filepath.Join(dir, "no", "such", "dir.toml")}, exitFailure, "no such file"},
		{[]string{"-h"}, exitOK, "Usage: mailrules import"},
	}
	for _, tc := range tests {
		code, stdout, stderr := runImport("", tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("import %q = %d, stdout %q, stderr %q; want %d and %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
}
