package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFlagRules: check says what a flag pass fetches, and reports a
// bad on with its position.
func TestCheckFlagRules(t *testing.T) {
	dir := t.TempDir()
	account := "[[account]]\nname = \"a\"\nhost = \"localhost\"\nusername = \"u\"\npassword = { env = \"X\" }\n\n"
	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte(account+"[[rule]]\nname = \"todo\"\non = [\"flags\"]\nwhen = 'flagged && header(\"List-Id\") == \"\"'\ncopy = \"Todo\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "", "check", "-c", good)
	want := "on flag changes fetches UID FLAGS BODY.PEEK[HEADER.FIELDS (LIST-ID MESSAGE-ID)] of the changed messages"
	if code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("check good.toml = %d\nstdout: %s\nstderr: %s\nwant stdout with %q", code, stdout, stderr, want)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte(account+"[[rule]]\nname = \"todo\"\non = [\"arrival\", \"flagged\"]\nwhen = 'flagged'\ncopy = \"Todo\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "", "check", "-c", bad)
	if want := bad + ":9:19: rule \"todo\": on: unknown event \"flagged\""; code != exitConfig || !strings.Contains(stderr, want) {
		t.Errorf("check bad.toml = %d, stderr %q; want %d and %q", code, stderr, exitConfig, want)
	}
}

// TestTestOnFlags: mailrules test evaluates the flag rules with -on flags,
// the arrival rules otherwise.
func TestTestOnFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	rulesText := "[[account]]\nname = \"a\"\nhost = \"localhost\"\nusername = \"u\"\npassword = { env = \"X\" }\n\n" +
		"[[rule]]\nname = \"on flags\"\non = [\"flags\"]\nwhen = 'subject == \"x\"'\nflag = \"$F\"\n\n" +
		"[[rule]]\nname = \"on arrival\"\nwhen = 'subject == \"x\"'\nflag = \"$A\"\n"
	if err := os.WriteFile(cfg, []byte(rulesText), 0o600); err != nil {
		t.Fatal(err)
	}
	msg := "Subject: x\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n"
	for _, tt := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"test", "-c", cfg, "-"}, "on arrival", "on flags"},
		{[]string{"test", "-c", cfg, "-on", "flags", "-"}, "on flags", "on arrival"},
	} {
		code, stdout, stderr := run(t, msg, tt.args...)
		if code != exitOK || !strings.Contains(stdout, tt.want) || strings.Contains(stdout, tt.not) {
			t.Errorf("mailrules %q = %d\nstdout: %s\nstderr: %s\nwant %q matched, not %q", tt.args, code, stdout, stderr, tt.want, tt.not)
		}
	}
	if code, _, stderr := run(t, msg, "test", "-c", cfg, "-on", "flag", "-"); code != exitConfig || !strings.Contains(stderr, "want arrival or flags") {
		t.Errorf("mailrules test -on flag = %d, %q; want %d and an error", code, stderr, exitConfig)
	}
}
