package couriertest

import (
	"testing"

	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

var harness = imapsrv.Harness{Pkg: "couriertest", Server: "Courier", Available: Available}

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
	imapsrv.RunMain(m, harness, func() (*Server, error) { return Start(opts) }, srv)
}

// Require skips the test when srv is nil because of -short or because
// Courier is not available (with Available's reason), and fails it when srv
// is nil otherwise (TestMain did not call Run).
func Require(t testing.TB, srv *Server) {
	t.Helper()
	imapsrv.Require(t, harness, srv == nil)
}
