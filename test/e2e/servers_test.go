package e2e

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/couriertest"
	"github.com/mailrules/mailrules/test/cyrustest"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// TestServers runs what a new user does first (a run that files every
// kind of message, a restart with the state file, a watch) against every
// server the harness can start: Dovecot as the tests use it, Dovecot with
// an "INBOX." namespace, Cyrus and Courier (both "INBOX." with "."; Courier
// without MOVE). A server that is not installed is skipped with the reason.
func TestServers(t *testing.T) {
	dovecottest.Require(t, srv)
	for _, server := range []struct {
		name  string
		start func(t *testing.T) *target
	}{
		{"dovecot", func(*testing.T) *target { return dovecotTarget("dovecot", srv, "") }},
		{"dovecot-inbox-prefix", func(t *testing.T) *target {
			s, err := dovecottest.Start(&dovecottest.Options{Prefix: "INBOX."})
			if err != nil {
				t.Fatalf("start Dovecot with prefix INBOX.: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return dovecotTarget("dovecot-inbox-prefix", s, "INBOX.")
		}},
		{"cyrus", func(t *testing.T) *target {
			if err := cyrustest.Available(); err != nil {
				t.Skipf("Cyrus: %v", err)
			}
			s, err := cyrustest.Start(nil)
			if err != nil {
				t.Fatalf("start Cyrus: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return &target{name: "cyrus", addr: s.Addr(), prefix: "INBOX.", delim: ".",
				newUser: func(t *testing.T) *dovecottest.User {
					u := s.NewUser(t)
					return &dovecottest.User{Name: u.Name, Password: u.Password}
				}}
		}},
		{"courier", func(t *testing.T) *target {
			if err := couriertest.Available(); err != nil {
				t.Skipf("Courier: %v", err)
			}
			s, err := couriertest.Start(&couriertest.Options{IdleTimeout: time.Second})
			if err != nil {
				t.Fatalf("start Courier: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return &target{name: "courier", addr: s.Addr(), prefix: "INBOX.", delim: ".",
				newUser: func(t *testing.T) *dovecottest.User {
					u := s.NewUser(t)
					return &dovecottest.User{Name: u.Name, Password: u.Password}
				}}
		}},
	} {
		t.Run(server.name, func(t *testing.T) {
			tg := server.start(t)
			t.Logf("server %s at %s", tg.name, tg.addr)
			serverRound(t, tg)
		})
	}
}

// serverRound is TestServers on one server.
func serverRound(t *testing.T, tg *target) {
	e := newEnvOn(t, tg, filingRules, "")

	// First run: every action, into mailboxes the server names its way.
	e.appendMessages("INBOX", filingMessages...)
	e.mustRun("run", "--all")
	want := snapshot{}
	for name, msgs := range wantFiled {
		want[tg.mailbox(strings.ReplaceAll(name, ".", "/"))] = maps.Clone(msgs)
	}
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("%s: after run --all:\n%s\nwant:\n%s", tg.name, got, want)
	}

	// Restart with the state file: nothing is done twice, new mail is.
	e.mustRun("run")
	e.appendMessages("INBOX", message{id: "spam-2@x", headers: "X-Spam-Flag: YES"})
	e.mustRun("run")
	want[tg.mailbox("Junk")]["spam-2@x"] = ``
	if got := e.snapshot(); got.String() != want.String() {
		t.Fatalf("%s: after two more runs:\n%s\nwant:\n%s", tg.name, got, want)
	}

	// Watch, started with that state: mail that arrives is acted on.
	stop, log := e.startWatch(t)
	defer stop()
	e.appendMessages("INBOX", message{id: "spam-3@x", headers: "X-Spam-Flag: YES"})
	c := e.client()
	junk := tg.mailbox("Junk")
	if !waitFor(20*time.Second, func() bool { return e.where(c, "spam-3@x", "INBOX", junk) == junk }) {
		t.Fatalf("%s: watch did not move new spam to %s:\n%s", tg.name, junk, log)
	}
	if code := stop(); code != 0 {
		t.Errorf("%s: watch exited %d:\n%s", tg.name, code, log)
	}
}
