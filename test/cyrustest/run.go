package cyrustest

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
// Under -short, or when Available reports an error, no server is started
// and *srv stays nil; tests call Require to skip with the reason. When
// Cyrus is available but fails to start, Run prints the error and exits 1.
//
//	var srv *cyrustest.Server
//
//	func TestMain(m *testing.M) { cyrustest.Run(m, nil, &srv) }
func Run(m *testing.M, opts *Options, srv **Server) {
	if !flag.Parsed() {
		flag.Parse()
	}
	*srv = nil
	if testing.Short() || Available() != nil {
		os.Exit(m.Run())
	}
	begin := time.Now()
	s, err := Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cyrustest: cannot start Cyrus: %v\n", err)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "cyrustest: Cyrus on %s started in %v; directory %s\n",
			s.Addr(), time.Since(begin).Round(time.Millisecond), s.Dir())
	}
	*srv = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "cyrustest: stop: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Require skips the test when srv is nil because of -short or because
// Cyrus is not available (with Available's reason), and fails it when srv
// is nil otherwise (TestMain did not call Run).
func Require(t testing.TB, srv *Server) {
	t.Helper()
	if srv != nil {
		return
	}
	if testing.Short() {
		t.Skip("cyrustest: needs Cyrus; skipped under -short")
	}
	if err := Available(); err != nil {
		t.Skipf("cyrustest: %v", err)
	}
	t.Fatal("cyrustest: no server (call cyrustest.Run from TestMain)")
}
