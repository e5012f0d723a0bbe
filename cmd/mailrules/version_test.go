package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionStamped builds the command as make release does and checks
// that mailrules version prints the stamped version.
func TestVersionStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "mailrules")
	const stamp = "v9.8.7-3-gabcdef0-dirty"
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+stamp, "-o", bin, ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("mailrules version: %v", err)
	}
	if !strings.HasPrefix(string(out), "mailrules "+stamp+" go") {
		t.Errorf("mailrules version = %q, want it to start with %q", out, "mailrules "+stamp+" go")
	}
}

func TestBuildVersion(t *testing.T) {
	rev := func(r, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: r}, {Key: "vcs.modified", Value: modified},
		}}
	}
	tests := []struct {
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"v1.2.3", rev("0123456789abcdef", "true"), "v1.2.3"},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "v1.0.0"}}, "v1.0.0"},
		{"", rev("0123456789abcdef", "false"), "0123456789ab"},
		{"", rev("0123456789abcdef", "true"), "0123456789ab-dirty"},
		{"", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"", nil, "devel"},
	}
	for _, tc := range tests {
		if got := buildVersion(tc.stamped, tc.info); got != tc.want {
			t.Errorf("buildVersion(%q, %v) = %q, want %q", tc.stamped, tc.info, got, tc.want)
		}
	}
}
