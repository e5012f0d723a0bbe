package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is stamped at build time by make release and make install:
//
//	go build -ldflags "-X main.version=$(git describe --tags --always --dirty)"
//
// Left empty, versionString falls back to the build information.
var version string

// buildVersion says which version this is: the stamped version; else the
// module version (go install ...@v1.2.3); else the VCS revision the binary
// was built from, with "-dirty" when the tree had changes; else "devel".
func buildVersion(stamped string, info *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if info == nil {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}

// versionString describes this build: version, Go version and platform.
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return fmt.Sprintf("mailrules %s %s %s/%s", buildVersion(version, info), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// cmdVersion prints the version.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stderr)
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mailrules version: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	fmt.Fprintln(stdout, versionString())
	return exitOK
}
