// Package e2e builds the mailrules binary and runs it against a real Dovecot
// started by test/dovecottest, checking the resulting mailboxes message by
// message.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

var (
	srv *dovecottest.Server
	// binary is the mailrules executable built for this test run.
	binary string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "mailrules-e2e-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		binary = filepath.Join(dir, "mailrules")
		args := []string{"build", "-o", binary}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "github.com/mailrules/mailrules/cmd/mailrules")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: build mailrules: %v\n%s", err, out)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
	}
	dovecottest.Run(m, nil, &srv)
}

// passwordEnv carries the test user's password to mailrules, as a user's
// config would with password = { env = ... }.
const passwordEnv = "MAILRULES_E2E_PASSWORD"

// env is one test's world: a user on an IMAP server, a config and a state
// file.
type env struct {
	t *testing.T
	// srv is the server when it is a Dovecot, else nil; addr is the
	// server's plaintext address either way.
	srv    *dovecottest.Server
	addr   string
	user   *dovecottest.User
	dir    string
	config string
	state  string
}

// target is an IMAP server the end-to-end tests can run against.
type target struct {
	name string
	addr string
	// prefix and delim are where the user's mailboxes live (NAMESPACE):
	// "" and "." on a default Dovecot, "INBOX." and "." on Courier and
	// Cyrus.
	prefix, delim string
	newUser       func(t *testing.T) *dovecottest.User
	dovecot       *dovecottest.Server // set when the server is a Dovecot
}

// dovecotTarget is a Dovecot as a target.
func dovecotTarget(name string, s *dovecottest.Server, prefix string) *target {
	return &target{name: name, addr: s.Addr(), prefix: prefix, delim: ".", dovecot: s,
		newUser: func(t *testing.T) *dovecottest.User { return s.NewUser(t) }}
}

// name maps a "/"-separated mailbox path to the target's name for it.
func (tg *target) mailbox(path string) string {
	if strings.EqualFold(path, "INBOX") {
		return "INBOX"
	}
	return tg.prefix + strings.ReplaceAll(path, "/", tg.delim)
}

// newEnv makes a fresh user on the Dovecot s with the given rules (TOML
// [[rule]] tables) and extra account settings.
func newEnv(t *testing.T, s *dovecottest.Server, rules string, accountExtra string) *env {
	t.Helper()
	dovecottest.Require(t, s)
	return newEnvOn(t, dovecotTarget("dovecot", s, ""), rules, accountExtra)
}

// newEnvOn makes a fresh user on any target.
func newEnvOn(t *testing.T, tg *target, rules string, accountExtra string) *env {
	t.Helper()
	u := tg.newUser(t)
	dir := t.TempDir()
	host, port := splitAddr(t, tg.addr)
	config := fmt.Sprintf(`[[account]]
name      = "test"
host      = %q
port      = %s
tls       = "none"
username  = %q
password  = { env = %q }
mailboxes = ["INBOX"]
%s

%s`, host, port, u.Name, passwordEnv, accountExtra, rules)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: tg.dovecot, addr: tg.addr, user: u, dir: dir, config: path, state: filepath.Join(dir, "state.db")}
}

func splitAddr(t *testing.T, addr string) (host, port string) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return addr[:i], addr[i+1:]
}

// result is what one mailrules invocation did.
type result struct {
	code           int
	stdout, stderr string
}

// command returns an unstarted mailrules command with args, the config and
// the state file.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{}, args...), "-c", e.config, "--state", e.state, "--log-format", "json")
	cmd := exec.CommandContext(ctx, binary, full...)
	cmd.Env = append(os.Environ(), passwordEnv+"="+e.user.Password)
	return cmd
}

// mailrules runs the binary to completion.
func (e *env) mailrules(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("mailrules %v: %v", args, err)
		}
		r.code = exitErr.ExitCode()
	}
	return r
}

// mustRun runs mailrules and fails the test unless it exits 0.
func (e *env) mustRun(args ...string) result {
	e.t.Helper()
	r := e.mailrules(args...)
	if r.code != 0 {
		e.t.Fatalf("mailrules %v exited %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// client logs in to the test server as the env's user.
func (e *env) client() *imap.Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := imap.Dial(ctx, e.addr, nil)
	if err != nil {
		e.t.Fatalf("Dial(%s) = %v", e.addr, err)
	}
	if err := c.Login(ctx, e.user.Name, e.user.Password); err != nil {
		e.t.Fatalf("Login = %v", err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// message is a test message: its Message-ID and the headers that make
// rules match.
type message struct {
	id      string
	headers string
	date    time.Time
	flags   []string
}

func (m message) bytes() []byte {
	date := m.date
	if date.IsZero() {
		date = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", m.id)
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	if !strings.Contains(strings.ToLower(m.headers), "from:") {
		b.WriteString("From: Someone <someone@example.net>\r\n")
	}
	if !strings.Contains(strings.ToLower(m.headers), "subject:") {
		fmt.Fprintf(&b, "Subject: message %s\r\n", m.id)
	}
	for _, h := range strings.Split(strings.TrimSpace(m.headers), "\n") {
		if h = strings.TrimSpace(h); h != "" {
			b.WriteString(h + "\r\n")
		}
	}
	b.WriteString("To: user@example.org\r\n\r\nHello.\r\n")
	return []byte(b.String())
}

// appendMessages APPENDs msgs to mailbox over a fresh connection.
func (e *env) appendMessages(mailbox string, msgs ...message) {
	e.t.Helper()
	c := e.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, m := range msgs {
		date := m.date
		if date.IsZero() {
			date = time.Now()
		}
		if _, err := c.Append(ctx, mailbox, m.flags, date, bytes.NewReader(m.bytes())); err != nil {
			e.t.Fatalf("Append(%q, %s) = %v", mailbox, m.id, err)
		}
	}
	c.Logout(ctx)
}

// snapshot maps every mailbox of the user to its messages: Message-ID ->
// sorted flags (without \Recent).
type snapshot map[string]map[string]string

func (e *env) snapshot() snapshot {
	e.t.Helper()
	c := e.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := c.List(ctx, "", "*")
	if err != nil {
		e.t.Fatalf("List = %v", err)
	}
	snap := snapshot{}
	for _, mb := range list {
		if mb.HasAttr(`\Noselect`) {
			continue
		}
		st, err := c.Examine(ctx, mb.Name)
		if err != nil {
			e.t.Fatalf("Examine(%q) = %v", mb.Name, err)
		}
		msgs := map[string]string{}
		if st.Exists > 0 {
			items := []imap.FetchItem{imap.FetchUID, imap.FetchFlags, imap.FetchHeaderFields("MESSAGE-ID")}
			err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, items, func(m *imap.FetchMessage) error {
				id := messageID(m.Section("HEADER.FIELDS (MESSAGE-ID)"))
				if _, dup := msgs[id]; dup {
					e.t.Errorf("mailbox %q holds %s twice", mb.Name, id)
				}
				msgs[id] = flagString(m.Flags)
				return nil
			})
			if err != nil {
				e.t.Fatalf("UIDFetch in %q = %v", mb.Name, err)
			}
		}
		if len(msgs) > 0 {
			snap[mb.Name] = msgs
		}
	}
	c.Logout(ctx)
	return snap
}

// messageID extracts the id between angle brackets from a Message-ID
// header field.
func messageID(field []byte) string {
	s := string(field)
	i, j := strings.IndexByte(s, '<'), strings.IndexByte(s, '>')
	if i < 0 || j < i {
		return strings.TrimSpace(s)
	}
	return s[i+1 : j]
}

func flagString(flags []string) string {
	var keep []string
	for _, f := range flags {
		if f != imap.FlagRecent {
			keep = append(keep, f)
		}
	}
	sort.Strings(keep)
	return strings.Join(keep, " ")
}

// String renders a snapshot deterministically for failure messages.
func (s snapshot) String() string {
	var names []string
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		var ids []string
		for id, fl := range s[n] {
			ids = append(ids, fmt.Sprintf("%s[%s]", id, fl))
		}
		sort.Strings(ids)
		fmt.Fprintf(&b, "%s: %s\n", n, strings.Join(ids, " "))
	}
	return b.String()
}

// count is the number of messages in all mailboxes.
func (s snapshot) count() int {
	n := 0
	for _, msgs := range s {
		n += len(msgs)
	}
	return n
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// where returns the mailbox holding the message with Message-ID id, using
// STATUS-free EXAMINE+SEARCH on a dedicated connection; "" if none.
func (e *env) where(c *imap.Client, id string, mailboxes ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, mb := range mailboxes {
		if _, err := c.Examine(ctx, mb); err != nil {
			continue
		}
		uids, err := c.UIDSearch(ctx, &imap.SearchCriteria{Header: [][2]string{{"Message-ID", id}}})
		if err == nil && len(uids) > 0 {
			return mb
		}
	}
	return ""
}

// startServer starts a second Dovecot for one test, advertising capability
// after login (to hide MOVE, UIDPLUS or IDLE).
func startServer(t *testing.T, capability string) *dovecottest.Server {
	t.Helper()
	dovecottest.Require(t, srv)
	s, err := dovecottest.Start(&dovecottest.Options{Capability: capability})
	if err != nil {
		t.Fatalf("start Dovecot with capabilities %q: %v", capability, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
