package cyrustest

import (
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

var srv *Server

func TestMain(m *testing.M) { Run(m, nil, &srv) }

func target(s *Server) *imapsrv.Target {
	return &imapsrv.Target{
		Server: "Cyrus",
		Addr:   s.Addr(),
		NewUser: func(t testing.TB) (string, string) {
			u := s.NewUser(t)
			return u.Name, u.Password
		},
		LogTail:       s.LogTail,
		WantCaps:      []imap.Cap{imap.CapIMAP4rev1, imap.CapNamespace, imap.CapIdle, imap.CapMove, imap.CapUIDPlus, imap.CapCondStore, imap.CapSpecialUse, imap.CapLiteralPlus},
		IdleWait:      5 * time.Second,
		IdleRequired:  true,
		CreateRefused: "Permission denied",
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	Require(t, srv)
	imapsrv.Suite(t, target(srv))
}

// startVariant starts a second server with opts for one test.
func startVariant(t *testing.T, opts *Options) *Server {
	t.Helper()
	Require(t, srv)
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestIdleWithoutIdled: without idled (Debian's cyrus.conf) IDLE polls
// every imapidlepoll; with 1 s the EXISTS arrives within about a second.
func TestIdleWithoutIdled(t *testing.T) {
	t.Parallel()
	tg := target(startVariant(t, &Options{NoIdled: true, IdlePoll: time.Second}))
	tg.IdleWait = 5 * time.Second
	imapsrv.Suite(t, tg, "Idle")
}

// TestIdleDebianDefault: without idled and with the default 60 s poll the
// EXISTS is late; this is only logged.
func TestIdleDebianDefault(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow")
	}
	tg := target(startVariant(t, &Options{NoIdled: true}))
	tg.IdleWait, tg.IdleRequired = 3*time.Second, false
	imapsrv.Suite(t, tg, "Idle")
}

// TestConfigOverride hides MOVE with suppress_capabilities; the client
// then refuses UID MOVE without sending it.
func TestConfigOverride(t *testing.T) {
	t.Parallel()
	s := startVariant(t, &Options{Config: map[string]string{"suppress_capabilities": "MOVE"}})
	tg := target(s)
	tg.WantCaps = []imap.Cap{imap.CapUIDPlus, imap.CapIdle}
	tg.NoCaps = []imap.Cap{imap.CapMove}
	imapsrv.Suite(t, tg, "Capability", "Move")
}
