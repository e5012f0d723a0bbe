package main

import (
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
}
