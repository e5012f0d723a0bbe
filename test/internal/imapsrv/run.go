package imapsrv

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

// Harness names a server kind for RunMain and Require: pkg is the harness
// package ("cyrustest"), server the server's name ("Cyrus"), available
// says whether it can run here.
type Harness struct {
	Pkg, Server string
	Available   func() error
}

// Server is what RunMain needs of a started server.
type Server interface {
	Addr() string
	Dir() string
	Close() error
}

// RunMain is a harness's Run for TestMain: it starts a server with start,
// stores it in *srv, runs the tests, stops the server and exits with the
// tests' status. Under -short, or when the server is not available, no
// server is started and *srv stays nil (the zero value); tests call Require
// to skip with the reason. A server that is available but fails to start
// is an error: RunMain prints it and exits 1.
func RunMain[S Server](m *testing.M, h Harness, start func() (S, error), srv *S) {
	if !flag.Parsed() {
		flag.Parse()
	}
	var zero S
	*srv = zero
	if testing.Short() || h.Available() != nil {
		os.Exit(m.Run())
	}
	begin := time.Now()
	s, err := start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: cannot start %s: %v\n", h.Pkg, h.Server, err)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "%s: %s on %s started in %v; directory %s\n",
			h.Pkg, h.Server, s.Addr(), time.Since(begin).Round(time.Millisecond), s.Dir())
	}
	*srv = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: stop: %v\n", h.Pkg, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Require skips the test when there is no server (missing is true)
// because of -short or because the server is not available (with the
// reason), and fails it otherwise: TestMain did not call Run.
func Require(t testing.TB, h Harness, missing bool) {
	t.Helper()
	if !missing {
		return
	}
	if testing.Short() {
		t.Skipf("%s: needs %s; skipped under -short", h.Pkg, h.Server)
	}
	if err := h.Available(); err != nil {
		t.Skipf("%s: %v", h.Pkg, err)
	}
	t.Fatalf("%s: no server (call %s.Run from TestMain)", h.Pkg, h.Pkg)
}
