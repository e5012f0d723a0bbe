package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSieveKeys checks the sieve keys: the top-level script runs on the
// accounts without their own, after the [[rule]] tables; problems in a
// script are reported at their place in it, a missing script at the key.
func TestSieveKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("all.sieve", "require \"fileinto\";\nfileinto \"A\";\n")
	write("own.sieve", "keep;\n")
	write("bad.sieve", "require \"fileinto\";\nfileinto 1;\nbogus;\n")
	account := func(name, extra string) string {
		return "[[account]]\nname = \"" + name + "\"\nhost = \"localhost\"\nusername = \"u\"\npassword = { env = \"X\" }\n" + extra + "\n"
	}

	src := "sieve = \"all.sieve\"\n" + account("a", "") + account("b", `sieve = "own.sieve"`) + account("c", "") +
		"[[rule]]\nname = \"r\"\nwhen = 'true'\nflag = \"x\"\n"
	path := filepath.Join(dir, "ok.toml")
	write("ok.toml", src)
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var got []string
	for _, sp := range cfg.Specs {
		got = append(got, sp.Name+"="+strings.Join(sp.Accounts, ","))
	}
	if want := "r=|sieve:own.sieve=b|sieve:all.sieve=a,c"; strings.Join(got, "|") != want {
		t.Errorf("Specs = %q, want %q", strings.Join(got, "|"), want)
	}
	if n := cfg.Rules.For("b", "INBOX").Len(); n != 2 {
		t.Errorf("rules for b = %d, want 2 (the rule and b's own script)", n)
	}

	// Accounts sharing a script share its rule (one name, no duplicate).
	write("shared.toml", "sieve = \"own.sieve\"\n"+account("a", `sieve = "all.sieve"`)+account("b", `sieve = "all.sieve"`)+account("c", ""))
	cfg, err = Load(filepath.Join(dir, "shared.toml"))
	if err != nil {
		t.Fatalf("Load(shared.toml): %v", err)
	}
	got = nil
	for _, sp := range cfg.Specs {
		got = append(got, sp.Name+"="+strings.Join(sp.Accounts, ","))
	}
	if want := "sieve:all.sieve=a,b|sieve:own.sieve=c"; strings.Join(got, "|") != want {
		t.Errorf("shared Specs = %q, want %q", strings.Join(got, "|"), want)
	}
	write("same.toml", "sieve = \"all.sieve\"\n"+account("a", `sieve = "all.sieve"`)+account("b", ""))
	if cfg, err = Load(filepath.Join(dir, "same.toml")); err != nil {
		t.Fatalf("Load(same.toml): %v", err)
	}
	if len(cfg.Specs) != 1 || strings.Join(cfg.Specs[0].Accounts, ",") != "a,b" {
		t.Errorf("same Specs = %+v, want one rule for a and b", cfg.Specs)
	}

	write("bad.toml", account("a", `sieve = "bad.sieve"`)+account("b", `sieve = "missing.sieve"`)+account("c", `sieve = "bad.sieve"`))
	_, err = Load(filepath.Join(dir, "bad.toml"))
	if err == nil {
		t.Fatal("Load(bad.toml): no error")
	}
	msg := err.Error()
	for _, want := range []string{
		filepath.Join(dir, "bad.sieve") + ":2:10: fileinto: argument 1 must be a string, not a number",
		filepath.Join(dir, "bad.sieve") + `:3:1: unknown command "bogus"`,
		"bad.toml:12:1: sieve: read sieve script: open " + filepath.Join(dir, "missing.sieve"),
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Load(bad.toml) error lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, `unknown command "bogus"`); n != 1 {
		t.Errorf("a script two accounts share is reported %d times, want once:\n%s", n, msg)
	}
	if strings.Contains(msg, "no [[rule]]") {
		t.Errorf("a config with only sieve scripts needs no [[rule]]:\n%s", msg)
	}
}
