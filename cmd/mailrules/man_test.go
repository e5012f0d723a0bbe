package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/config"
)

// TestManPagesUpToDate regenerates the manual pages and compares them with
// the committed ones, under an environment unlike the usual one, so that a
// default that depends on the machine shows up as a difference.
func TestManPagesUpToDate(t *testing.T) {
	t.Setenv("HOME", "/nonexistent/home")
	t.Setenv("XDG_CONFIG_HOME", "/nonexistent/config")
	t.Setenv("XDG_STATE_HOME", "/nonexistent/state")
	t.Setenv("MAILRULES_TRACE", "/nonexistent/trace")
	for _, tc := range []struct{ section, path string }{
		{"1", "mailrules.1"},
		{"5", "mailrules.toml.5"},
	} {
		code, got, stderr := run(t, "", "man", tc.section)
		if code != exitOK {
			t.Fatalf("man %s = %d, %s", tc.section, code, stderr)
		}
		path := filepath.Join("..", "..", "man", tc.path)
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v; run make man", err)
		}
		if got != string(want) {
			t.Errorf("%s is stale: run make man (or it depends on the environment: see docDefaults)\n--- generated\n%s", path, got)
		}
		if strings.Contains(got, "/nonexistent/") {
			t.Errorf("man %s mentions the environment it was made in", tc.section)
		}
	}
}

// TestManPage5HasEveryKey checks that mailrules.toml(5) documents every key
// the loader takes, with its type and default.
func TestManPage5HasEveryKey(t *testing.T) {
	page := manPage5(config.Keys())
	for _, k := range config.Keys() {
		entry := ".TP\n" + bold(k.Name) + " (" + italic(k.Type) + ")\n" + roff(k.Doc)
		if k.Default != "" {
			entry += ". Default: " + roff(k.Default)
		}
		if !strings.Contains(page, entry) {
			t.Errorf("mailrules.toml(5) lacks key %q of table %q as\n%s", k.Name, k.Table, entry)
		}
	}
}

// TestManPage1HasEveryCommandAndFlag checks mailrules(1) against the
// command table and that it has the sections a manual page needs.
func TestManPage1HasEveryCommandAndFlag(t *testing.T) {
	page := manPage1(visibleCommands())
	for _, sh := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "FILES", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"} {
		if !strings.Contains(page, `.SH "`+sh+`"`) {
			t.Errorf("mailrules(1) lacks section %s", sh)
		}
	}
	for _, c := range visibleCommands() {
		if !strings.Contains(page, ".TP\n"+bold(c.name)) {
			t.Errorf("mailrules(1) lacks command %s", c.name)
		}
		for _, f := range flagInfos(c.flagSet()) {
			if !strings.Contains(page, ".TP\n"+bold(f.spelled())) {
				t.Errorf("mailrules(1) lacks flag %s of %s", f.spelled(), c.name)
			}
		}
	}
	if strings.Contains(page, `.SH "`+"MAN") {
		t.Error("mailrules(1) shows the hidden man command")
	}
}

// TestManPagesRender formats both pages with man(1) where it is installed
// and fails on roff warnings.
func TestManPagesRender(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed")
	}
	for _, page := range []string{manPage1(visibleCommands()), manPage5(config.Keys())} {
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(page)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("groff: %v\n%s", err, stderr.String())
		}
	}
}

// TestCommandHelp checks that each command parses with the flags the
// table documents: its -h output, written by the flag set the command
// really uses, equals the help made from the table's flag set.
func TestCommandHelp(t *testing.T) {
	flagLine := regexp.MustCompile(`(?m)^  -(\S+)`)
	for _, c := range commandTable() {
		got := captureStderr(t, func(stderr *bytes.Buffer) int {
			return dispatch([]string{c.name, "-h"}, new(bytes.Buffer), stderr)
		})
		var want bytes.Buffer
		fs := c.flagSet()
		fs.SetOutput(&want)
		printCommandHelp(&want, c.name, fs)
		// Defaults such as -c's are computed when the flag is made and so
		// may differ; compare the flag names and the text around them.
		if g, w := flagLine.FindAllString(got, -1), flagLine.FindAllString(want.String(), -1); strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("%s -h shows flags %q; the command table has %q", c.name, g, w)
		}
		if !strings.HasPrefix(got, "Usage: "+synopsis(c.name, c.operands, fs)+"\n") {
			t.Errorf("%s -h = %q; want the synopsis %q", c.name, got, synopsis(c.name, c.operands, fs))
		}
	}
}

// captureStderr runs fn with a buffer for stderr and with os.Stderr
// redirected (run and watch write their -h there), and returns what
// either got.
func captureStderr(t *testing.T, fn func(stderr *bytes.Buffer) int) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = f
	var buf bytes.Buffer
	fn(&buf)
	os.Stderr = old
	f.Close()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return buf.String() + string(data)
}
