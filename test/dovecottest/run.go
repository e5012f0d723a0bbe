package dovecottest

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

// Run is for TestMain: it starts a server with opts, stores it in *srv,
// runs the tests, stops the server and exits with the tests' status.
//
// Under -short no server is started and *srv stays nil; tests call Require
// to skip. Otherwise a failure to start is fatal: Run prints the error with
// the tail of Dovecot's log and exits 1, so tests never pass by skipping.
//
//	var srv *dovecottest.Server
//
//	func TestMain(m *testing.M) { dovecottest.Run(m, nil, &srv) }
func Run(m *testing.M, opts *Options, srv **Server) {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		*srv = nil
		os.Exit(m.Run())
	}
	begin := time.Now()
	s, err := Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dovecottest: cannot start Dovecot (use -short to run only tests that need no server): %v\n", err)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "dovecottest: Dovecot on %s (TLS %s) started in %v; log %s\n",
			s.Addr(), s.TLSAddr(), time.Since(begin).Round(time.Millisecond), s.LogPath())
	}
	*srv = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "dovecottest: stop: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Require skips the test under -short when srv is nil and fails it when srv
// is nil otherwise (TestMain did not call Run).
func Require(t testing.TB, srv *Server) {
	t.Helper()
	if srv != nil {
		return
	}
	if testing.Short() {
		t.Skip("dovecottest: needs Dovecot; skipped under -short")
	}
	t.Fatal("dovecottest: no server (call dovecottest.Run from TestMain)")
}
