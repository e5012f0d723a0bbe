package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
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
			serverFlagsAndSieve(t, tg)
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

// serverSieve files list mail into a nested mailbox, which the server
// names its own way ("INBOX.Lists.go" under an "INBOX." namespace).
const serverSieve = `require ["fileinto"];
if exists "List-Id" { fileinto "Lists/go"; }
`

// serverFlagsAndSieve is the second half of TestServers on one server: a
// Sieve script files into a nested mailbox, and a flag rule reacts once to
// a flag another client sets (with CONDSTORE where the server has it, by
// comparing flags where not), over runs that restart from the state file.
func serverFlagsAndSieve(t *testing.T, tg *target) {
	e := newEnvOn(t, tg, doneRule, `sieve = "filter.sieve"`)
	if err := os.WriteFile(filepath.Join(e.dir, "filter.sieve"), []byte(serverSieve), 0o600); err != nil {
		t.Fatal(err)
	}
	e.appendMessages("INBOX", message{id: "list@x", headers: "List-Id: <go.example.org>"}, message{id: "plain@x"})
	e.mustRun("run", "--all")
	e.mustRun("run") // the first flag pass records where INBOX stands
	lists := tg.mailbox("Lists/go")
	if got := e.snapshot(); len(got[lists]) != 1 || len(got["INBOX"]) != 1 {
		t.Fatalf("%s: after the Sieve run, want list@x in %s and plain@x in INBOX:\n%s", tg.name, lists, got)
	}
	e.userStore("plain@x", imap.StoreAdd, imap.FlagFlagged)
	if ps := e.runFlags(t); ps.matched("done") != 1 || ps.examined() != 1 {
		t.Fatalf("%s: run after another client flagged plain@x: flag passes %+v, want plain@x alone examined and matched", tg.name, ps)
	}
	if ps := e.runFlags(t); ps.examined() != 0 {
		t.Errorf("%s: the next run evaluated %+v again, want nothing (its own $Done is no change)", tg.name, ps)
	}
	if got := e.snapshot()["INBOX"]["plain@x"]; !strings.Contains(got, "$Done") {
		t.Errorf("%s: plain@x has flags %q, want $Done", tg.name, got)
	}
}
