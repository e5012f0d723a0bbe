package couriertest

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
// Courier is available but fails to start, Run prints the error and exits 1.
//
//	var srv *couriertest.Server
//
//	func TestMain(m *testing.M) { couriertest.Run(m, nil, &srv) }
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
		fmt.Fprintf(os.Stderr, "couriertest: cannot start Courier: %v\n", err)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "couriertest: Courier on %s started in %v; directory %s\n",
			s.Addr(), time.Since(begin).Round(time.Millisecond), s.Dir())
	}
	*srv = s
	code := m.Run()
	if err := s.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "couriertest: stop: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Require skips the test when srv is nil because of -short or because
// Courier is not available (with Available's reason), and fails it when srv
// is nil otherwise (TestMain did not call Run).
func Require(t testing.TB, srv *Server) {
	t.Helper()
	if srv != nil {
		return
	}
	if testing.Short() {
		t.Skip("couriertest: needs Courier; skipped under -short")
	}
	if err := Available(); err != nil {
		t.Skipf("couriertest: %v", err)
	}
	t.Fatal("couriertest: no server (call couriertest.Run from TestMain)")
}
