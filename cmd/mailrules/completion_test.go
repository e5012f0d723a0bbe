package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionScripts checks that each shell's script parses (where the
// shell is installed) and offers every command and flag.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range completionShells {
		t.Run(shell, func(t *testing.T) {
			code, script, stderr := run(t, "", "completion", shell)
			if code != exitOK {
				t.Fatalf("completion %s = %d, %s", shell, code, stderr)
			}
			for _, c := range visibleCommands() {
				if !strings.Contains(script, c.name) {
					t.Errorf("completion %s lacks command %s", shell, c.name)
				}
				for _, f := range flagInfos(c.flagSet()) {
					want := f.spelled()
					if shell == "fish" {
						want = "-l " + f.name
						if len(f.name) == 1 {
							want = "-s " + f.name
						}
					}
					if !strings.Contains(script, want) {
						t.Errorf("completion %s lacks %s of %s", shell, want, c.name)
					}
				}
			}
			if strings.Contains(script, "'man'") || strings.Contains(script, " man)") {
				t.Errorf("completion %s offers the hidden man command", shell)
			}
			path, err := exec.LookPath(shell)
			if err != nil {
				t.Skipf("%s is not installed; syntax not checked", shell)
			}
			file := filepath.Join(t.TempDir(), "mailrules."+shell)
			if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", file).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// TestBashCompletionWorks loads the bash script and asks it to complete.
func TestBashCompletionWorks(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	_, script, _ := run(t, "", "completion", "bash")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ line, want string }{
		{"mailrules wa", "watch"},
		{"mailrules run --dr", "--dry-run"},
		{"mailrules check -c rul", "rules.toml"},
		{"mailrules completion fi", "fish"},
	} {
		words := strings.Fields(tc.line)
		prog := script + "\nCOMP_WORDS=(" + strings.Join(words, " ") + ")\nCOMP_CWORD=" +
			string(rune('0'+len(words)-1)) + "\n_mailrules\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command("bash", "-c", prog)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tc.want {
			t.Errorf("completing %q = %q, %v; want %q", tc.line, out, err, tc.want)
		}
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		if code, _, _ := run(t, "", args...); code != exitConfig {
			t.Errorf("%q = %d, want %d", args, code, exitConfig)
		}
	}
}
