// Package systemd_test checks the example systemd units with
// systemd-analyze verify, with ExecStart pointed at a freshly built
// mailrules.
package systemd_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var units = []string{"mailrules-watch.service", "mailrules-run.service", "mailrules-run.timer"}

// installedPath is where the units expect the binary.
const installedPath = "/usr/local/bin/mailrules"

func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (no systemd here); the units are not verified")
	}
	if testing.Short() {
		t.Skip("builds mailrules; not in -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mailrules")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/mailrules/mailrules/cmd/mailrules").CombinedOutput(); err != nil {
		t.Fatalf("build mailrules: %v\n%s", err, out)
	}
	for _, u := range units {
		data, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		// verify checks that ExecStart's program exists.
		data = bytes.ReplaceAll(data, []byte(installedPath), []byte(bin))
		if err := os.WriteFile(filepath.Join(dir, u), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range units {
		t.Run(u, func(t *testing.T) {
			cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, u))
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			err := cmd.Run()
			// verify exits 0 on a unit with unknown keys or bad values
			// (it ignores them with a message naming the unit file) and
			// may warn about its surroundings in a container (no running
			// systemd, no /run/systemd): judge by the exit status and by
			// messages about this unit only.
			var problems []string
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if line == "" {
					continue
				}
				if strings.Contains(line, u) || strings.Contains(line, "mailrules") {
					problems = append(problems, line)
				} else {
					t.Logf("ignored (not about %s): %s", u, line)
				}
			}
			if err != nil || len(problems) > 0 {
				t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, strings.Join(problems, "\n"))
			}
		})
	}
}

// TestUnitsHardened checks the settings the README promises.
func TestUnitsHardened(t *testing.T) {
	want := map[string][]string{
		"mailrules-watch.service": {"Type=notify", "WatchdogSec=", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
			"PrivateTmp=yes", "StateDirectory=mailrules", "--state %S/mailrules/state.db", "LoadCredential=", "-c %d/config.toml", "ExecStart=" + installedPath + " watch"},
		"mailrules-run.service": {"Type=oneshot", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
			"PrivateTmp=yes", "StateDirectory=mailrules", "--state %S/mailrules/state.db", "LoadCredential=", "ExecStart=" + installedPath + " run"},
		"mailrules-run.timer": {"OnCalendar=", "Persistent=true", "WantedBy=timers.target"},
	}
	for u, settings := range want {
		data, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range settings {
			if !strings.Contains(string(data), s) {
				t.Errorf("%s lacks %q", u, s)
			}
		}
	}
}
