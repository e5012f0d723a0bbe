package couriertest

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
		Server: "Courier",
		Addr:   s.Addr(),
		NewUser: func(t testing.TB) (string, string) {
			u := s.NewUser(t)
			return u.Name, u.Password
		},
		LogTail:       s.LogTail,
		WantCaps:      []imap.Cap{imap.CapIMAP4rev1, imap.CapNamespace, imap.CapIdle, imap.CapUIDPlus, imap.CapChildren},
		NoCaps:        []imap.Cap{imap.CapMove, imap.CapLiteralPlus, imap.CapCondStore, imap.CapSpecialUse},
		IdleWait:      5 * time.Second,
		IdleRequired:  true,
		CreateRefused: "Invalid mailbox name.",
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	Require(t, srv)
	imapsrv.Suite(t, target(srv))
}

// TestIdleDebianDefault: with IMAP_ENHANCEDIDLE=0, as Debian ships it,
// IDLE re-checks the Maildir only every IMAP_IDLE_TIMEOUT (60 s); a late
// EXISTS is only logged.
func TestIdleDebianDefault(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("slow")
	}
	tg := target(startVariant(t, &Options{NoEnhancedIdle: true}))
	tg.IdleWait, tg.IdleRequired = 3*time.Second, false
	imapsrv.Suite(t, tg, "Idle")
}

// TestEnvOverride hides UIDPLUS through IMAP_CAPABILITY; the suite then
// checks that UID EXPUNGE is not sent.
func TestEnvOverride(t *testing.T) {
	t.Parallel()
	tg := target(startVariant(t, &Options{Env: map[string]string{"IMAP_CAPABILITY": "IMAP4rev1 CHILDREN NAMESPACE IDLE"}}))
	tg.WantCaps = []imap.Cap{imap.CapIdle, imap.CapNamespace}
	tg.NoCaps = []imap.Cap{imap.CapUIDPlus, imap.CapMove}
	imapsrv.Suite(t, tg, "Capability", "Messages")
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
