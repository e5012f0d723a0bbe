package dovecottest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testMessage builds a small message whose body names its index.
func testMessage(i int) []byte {
	return fmt.Appendf(nil, "From: a@example.org\r\nTo: b@example.org\r\nSubject: message %d\r\nMessage-ID: <%d@example.org>\r\n\r\nbody %d\r\n", i, i, i)
}

var fetchLine = regexp.MustCompile(`(?s)^\* (\d+) FETCH \((.*)\)$`)

// fetchAll runs UID FETCH 1:* items and returns, in sequence order, the
// data of each response.
func fetchAll(t testing.TB, c *rawConn, items string) []string {
	t.Helper()
	var out []string
	for _, line := range c.cmd("UID FETCH 1:* (%s)", items) {
		m := fetchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		out = append(out, m[2])
	}
	return out
}

func TestAddMessages(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	// Dates decrease in slice order so that UIDs following the dates
	// (rather than the slice) would be caught.
	base := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	const n = 50
	msgs := make([]Message, n)
	for i := range msgs {
		msgs[i] = Message{Data: testMessage(i), InternalDate: base.Add(-time.Duration(i) * time.Hour)}
	}
	msgs[3].Flags = "SF"
	msgs[4].Flags = "TS" // unsorted on purpose
	msgs[5].Data = []byte("Subject: bare LF\n\nline one\nline two\n")

	tests := []struct{ mailbox, selectName string }{
		{"INBOX", "INBOX"},
		{"Archive", "Archive"},
		{"Lists.Go", "Lists.Go"},
		{"Lists/Rust", "Lists.Rust"},
	}
	for _, tt := range tests {
		t.Run(tt.mailbox, func(t *testing.T) {
			if err := srv.AddMessages(u, tt.mailbox, msgs); err != nil {
				t.Fatalf("AddMessages(%q) = %v", tt.mailbox, err)
			}
			c, _ := dialRaw(t, srv.Addr(), nil)
			c.login(u)
			if got := exists(t, c.cmd("SELECT %s", tt.selectName)); got != n {
				t.Fatalf("SELECT %s: EXISTS %d, want %d", tt.selectName, got, n)
			}
			data := fetchAll(t, c, "UID INTERNALDATE FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
			if len(data) != n {
				t.Fatalf("UID FETCH returned %d messages, want %d", len(data), n)
			}
			for i, d := range data {
				wantDate := `INTERNALDATE "` + msgs[i].InternalDate.Format("02-Jan-2006 15:04:05 -0700") + `"`
				if !strings.Contains(d, wantDate) {
					t.Errorf("message %d: FETCH %q, want %s", i, d, wantDate)
				}
				wantSubject := fmt.Sprintf("Subject: message %d", i)
				if i == 5 {
					wantSubject = "Subject: bare LF"
				}
				if !strings.Contains(d, wantSubject) {
					t.Errorf("message %d (UID order): FETCH %q, want %q", i, d, wantSubject)
				}
				wantSize := fmt.Sprintf("RFC822.SIZE %d", virtualSize(msgs[i].Data))
				if !strings.Contains(d, wantSize) {
					t.Errorf("message %d: FETCH %q, want %s", i, d, wantSize)
				}
			}
			for i, want := range map[int][]string{3: {`\Seen`, `\Flagged`}, 4: {`\Seen`, `\Deleted`}, 0: {`\Recent`}} {
				for _, flag := range want {
					if !strings.Contains(data[i], flag) {
						t.Errorf("message %d: FETCH %q, want flag %s", i, data[i], flag)
					}
				}
			}
			if strings.Contains(data[0], `\Seen`) {
				t.Errorf("message 0: FETCH %q, want no \\Seen", data[0])
			}
			// The bare-LF message is served with CRLF and its size agrees.
			body := strings.Join(c.cmd("UID FETCH 6 BODY.PEEK[]"), "\n")
			if !strings.Contains(body, "line one\r\nline two\r\n") {
				t.Errorf("BODY[] of bare-LF message = %q, want CRLF line ends", body)
			}
		})
	}
	// Appending more keeps the order after existing messages, also while a
	// session has the mailbox selected.
	c, _ := dialRaw(t, srv.Addr(), nil)
	c.login(u)
	c.cmd("SELECT INBOX")
	if err := srv.AddMessages(u, "INBOX", []Message{{Data: testMessage(1000)}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for exists(t, c.cmd("NOOP")) != n+1 {
		if time.Now().After(deadline) {
			t.Fatalf("NOOP did not report %d EXISTS after AddMessages", n+1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	last := strings.Join(c.cmd("UID FETCH %d BODY.PEEK[HEADER.FIELDS (SUBJECT)]", n+1), "\n")
	if !strings.Contains(last, "message 1000") {
		t.Errorf("newest UID = %q, want message 1000", last)
	}
}

func TestAddMessagesRejects(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	tests := []struct {
		mailbox string
		msg     Message
	}{
		{"INBOX", Message{Data: []byte("x"), Flags: "s"}},
		{"INBOX", Message{Data: []byte("x"), Flags: "X"}},
		{"", Message{Data: []byte("x")}},
		{".hidden", Message{Data: []byte("x")}},
		{"a..b", Message{Data: []byte("x")}},
		{"INBOX.sub", Message{Data: []byte("x")}},
		{"Entwürfe", Message{Data: []byte("x")}},
	}
	for _, tt := range tests {
		if err := srv.AddMessages(u, tt.mailbox, []Message{tt.msg}); err == nil {
			t.Errorf("AddMessages(%q, flags %q) = nil, want error", tt.mailbox, tt.msg.Flags)
		}
	}
}

// TestAddMessagesRate loads 6,000 messages and reports the rate; the
// benchmarks load 60,000 this way.
func TestAddMessagesRate(t *testing.T) {
	Require(t, srv)
	if testing.Short() {
		t.Skip("slow")
	}
	u := srv.NewUser(t)
	const n = 6000
	msgs := make([]Message, n)
	body := strings.Repeat("lorem ipsum dolor sit amet\r\n", 100) // ~2.8 KB, like a small mail
	date := time.Now().Add(-24 * time.Hour)
	for i := range msgs {
		msgs[i] = Message{Data: append(testMessage(i), body...), InternalDate: date.Add(time.Duration(i) * time.Second)}
	}
	start := time.Now()
	if err := srv.AddMessages(u, "INBOX", msgs); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("AddMessages: %d messages in %v = %.0f messages/s", n, elapsed.Round(time.Millisecond), n/elapsed.Seconds())
	c, _ := dialRaw(t, srv.Addr(), nil)
	c.login(u)
	if got := exists(t, c.cmd("EXAMINE INBOX")); got != n {
		t.Fatalf("EXAMINE INBOX: EXISTS %d, want %d", got, n)
	}
}

func BenchmarkAddMessages(b *testing.B) {
	Require(b, srv)
	u := srv.NewUser(b)
	msgs := make([]Message, 1000)
	for i := range msgs {
		msgs[i] = Message{Data: testMessage(i)}
	}
	b.ResetTimer()
	for b.Loop() {
		if err := srv.AddMessages(u, "INBOX", msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(msgs))/b.Elapsed().Seconds(), "msgs/s")
}

// startCommand runs srv.Command(u) and returns a raw connection over its
// stdin/stdout, the greeting, and the process.
func startCommand(t *testing.T, s *Server, u *User) (*rawConn, string, *exec.Cmd) {
	t.Helper()
	argv := s.Command(u)
	cmd := exec.Command(argv[0], argv[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", argv, stderr.String())
		}
	})
	c := &rawConn{t: t, conn: struct {
		io.Reader
		io.WriteCloser
	}{stdout, stdin}, r: bufio.NewReader(stdout)}
	greeting, err := c.readLine()
	if err != nil {
		t.Fatalf("read greeting of %v: %v (stderr %q)", argv, err, stderr.String())
	}
	return c, greeting, cmd
}

func TestCommand(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	if err := srv.AddMessages(u, "INBOX", []Message{{Data: testMessage(1)}, {Data: testMessage(2)}}); err != nil {
		t.Fatal(err)
	}
	c, greeting, cmd := startCommand(t, srv, u)
	t.Logf("Command() = %q", cmd.Args)
	if !strings.HasPrefix(greeting, "* PREAUTH ") || !strings.Contains(greeting, u.Name) {
		t.Fatalf("greeting = %q, want * PREAUTH ... %s", greeting, u.Name)
	}
	if got := exists(t, c.cmd("SELECT INBOX")); got != 2 {
		t.Fatalf("SELECT INBOX over Command: EXISTS %d, want 2", got)
	}
	c.cmd("CREATE Folder")
	c.cmd("UID MOVE 1 Folder")
	// The files the command wrote belong to the mail user, so the TCP
	// side sees the change.
	tc, _ := dialRaw(t, srv.Addr(), nil)
	tc.login(u)
	if got := exists(t, tc.cmd("SELECT Folder")); got != 1 {
		t.Fatalf("SELECT Folder over TCP after MOVE over Command: EXISTS %d, want 1", got)
	}
	c.cmd("LOGOUT")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("imap process after LOGOUT: %v", err)
	}
}

func TestKillSessions(t *testing.T) {
	Require(t, srv)
	victim, bystander := srv.NewUser(t), srv.NewUser(t)

	plain, _ := dialRaw(t, srv.Addr(), nil)
	plain.login(victim)
	plain.cmd("SELECT INBOX")
	secure, _ := dialRaw(t, srv.TLSAddr(), srv.TLSConfig())
	secure.login(victim)
	cmdConn, _, _ := startCommand(t, srv, victim)
	cmdConn.cmd("NOOP")
	idle := plain // IDLE on the plaintext connection while the kill happens
	idleTag := idle.send("IDLE")
	if line, err := idle.readLine(); err != nil || !strings.HasPrefix(line, "+") {
		t.Fatalf("IDLE: %q, %v", line, err)
	}
	other, _ := dialRaw(t, srv.Addr(), nil)
	other.login(bystander)

	if n, err := srv.Sessions(victim); err != nil || n != 3 {
		t.Fatalf("Sessions(victim) = %d, %v; want 3", n, err)
	}
	if err := srv.KillSessions(victim); err != nil {
		t.Fatalf("KillSessions = %v", err)
	}
	if n, err := srv.Sessions(victim); err != nil || n != 0 {
		t.Fatalf("Sessions(victim) after KillSessions = %d, %v; want 0", n, err)
	}

	conns := map[string]*rawConn{"plaintext in IDLE": idle, "implicit TLS": secure, "Command": cmdConn}
	for name, c := range conns {
		if name != "plaintext in IDLE" {
			// Writing may already fail (EPIPE on the Command's stdin).
			fmt.Fprintf(c.conn, "t99 NOOP\r\n")
		}
		// Read until the connection ends: nothing but EOF (or reset) may come,
		// never a tagged OK.
		for {
			line, err := c.readLine()
			if err != nil {
				break
			}
			if strings.HasPrefix(line, "t") || strings.HasPrefix(line, idleTag) {
				t.Fatalf("%s connection answered %q after KillSessions, want it dropped", name, line)
			}
		}
	}
	other.cmd("NOOP") // the other user's session is untouched
	if n, err := srv.Sessions(bystander); err != nil || n != 1 {
		t.Fatalf("Sessions(bystander) = %d, %v; want 1", n, err)
	}
	// The victim can log in again.
	again, _ := dialRaw(t, srv.Addr(), nil)
	again.login(victim)
	again.cmd("SELECT INBOX")
}

func TestCapabilityOption(t *testing.T) {
	Require(t, srv)
	s := startServer(t, &Options{Capability: "IMAP4rev1 IDLE LITERAL+"})
	u := s.NewUser(t)
	c, greeting := dialRaw(t, s.Addr(), nil)
	if !strings.Contains(greeting, "STARTTLS") || !strings.Contains(greeting, "AUTH=PLAIN") {
		t.Errorf("greeting with Capability option = %q, want STARTTLS and AUTH=PLAIN still offered", greeting)
	}
	c.login(u)
	caps := c.capabilities()
	for _, cap := range []string{"MOVE", "UIDPLUS", "CONDSTORE"} {
		if caps[cap] {
			t.Errorf("CAPABILITY = %v, want %s hidden", caps, cap)
		}
	}
	if !caps["IDLE"] || !caps["IMAP4REV1"] {
		t.Errorf("CAPABILITY = %v, want IMAP4rev1 and IDLE", caps)
	}
}

func TestPlugins(t *testing.T) {
	Require(t, srv)
	s := startServer(t, &Options{Plugins: []string{"acl", "quota", "metadata"}})
	u := s.NewUser(t)
	c, _ := dialRaw(t, s.Addr(), nil)
	c.login(u)
	caps := c.capabilities()
	for _, cap := range []string{"ACL", "QUOTA", "METADATA", "MOVE", "UIDPLUS"} {
		if !caps[cap] {
			t.Errorf("CAPABILITY with plugins = %v, want %s", caps, cap)
		}
	}
	if acl := strings.Join(c.cmd("GETACL INBOX"), "\n"); !strings.Contains(acl, "* ACL INBOX "+u.Name) {
		t.Errorf("GETACL INBOX = %q, want rights for %s", acl, u.Name)
	}
	quota := strings.Join(c.cmd("GETQUOTAROOT INBOX"), "\n")
	if !strings.Contains(quota, "* QUOTAROOT INBOX") || !strings.Contains(quota, "STORAGE 0 1048576") {
		t.Errorf("GETQUOTAROOT INBOX = %q, want a root with STORAGE 0 1048576", quota)
	}
	if _, status := c.try(`SETQUOTA "User quota" (STORAGE 10)`); !strings.HasPrefix(status, "NO") && !strings.HasPrefix(status, "BAD") {
		t.Errorf("SETQUOTA as a normal user = %q, want refusal", status)
	}
	c.cmd(`SETMETADATA INBOX (/private/comment "hello")`)
	meta := strings.Join(c.cmd(`GETMETADATA INBOX (/private/comment)`), "\n")
	if !strings.Contains(meta, "/private/comment") || !strings.Contains(meta, "hello") {
		t.Errorf("GETMETADATA = %q, want the value set", meta)
	}
}

func TestExtraConfigAndUnknownPlugin(t *testing.T) {
	Require(t, srv)
	s := startServer(t, &Options{ExtraConfig: "login_greeting = dovecottest extra config works"})
	_, greeting := dialRaw(t, s.Addr(), nil)
	if !strings.Contains(greeting, "dovecottest extra config works") {
		t.Errorf("greeting = %q, want the login_greeting from ExtraConfig", greeting)
	}
	if s, err := Start(&Options{Plugins: []string{"fts"}}); err == nil {
		s.Close()
		t.Error(`Start(Plugins: ["fts"]) = nil error, want unknown plugin`)
	}
	// A broken configuration fails with Dovecot's own message.
	_, err := Start(&Options{ExtraConfig: "no_such_setting = 1"})
	if err == nil || !strings.Contains(err.Error(), "no_such_setting") {
		t.Errorf("Start with a bad setting = %v, want an error quoting Dovecot's complaint", err)
	}
}

func TestSeparatorOption(t *testing.T) {
	Require(t, srv)
	s := startServer(t, &Options{Separator: "/"})
	u := s.NewUser(t)
	if err := s.AddMessages(u, "Lists/Go", []Message{{Data: testMessage(1)}}); err != nil {
		t.Fatal(err)
	}
	c, _ := dialRaw(t, s.Addr(), nil)
	c.login(u)
	list := strings.Join(c.cmd(`LIST "" "*"`), "\n")
	if !strings.Contains(list, `"/" Lists/Go`) {
		t.Errorf("LIST with Separator \"/\" = %q, want Lists/Go", list)
	}
	if got := exists(t, c.cmd("SELECT Lists/Go")); got != 1 {
		t.Errorf("SELECT Lists/Go: EXISTS %d, want 1", got)
	}
	if _, err := Start(&Options{Separator: ":"}); err == nil {
		t.Error(`Start(Separator ":") = nil error, want rejection`)
	}
}

func TestTwoServers(t *testing.T) {
	Require(t, srv)
	other := startServer(t, nil)
	if other.Addr() == srv.Addr() || other.TLSAddr() == srv.TLSAddr() || other.Dir() == srv.Dir() {
		t.Fatalf("second server shares an address or directory: %s %s %s", other.Addr(), other.TLSAddr(), other.Dir())
	}
	u1, u2 := srv.NewUser(t), other.NewUser(t)
	// Same user name on both servers, different mailboxes and passwords.
	if err := other.AddMessages(u2, "INBOX", []Message{{Data: testMessage(1)}}); err != nil {
		t.Fatal(err)
	}
	c1, _ := dialRaw(t, srv.Addr(), nil)
	c1.login(u1)
	c2, _ := dialRaw(t, other.TLSAddr(), other.TLSConfig())
	c2.login(u2)
	if a, b := exists(t, c1.cmd("SELECT INBOX")), exists(t, c2.cmd("SELECT INBOX")); a != 0 || b != 1 {
		t.Fatalf("EXISTS on first/second server = %d/%d, want 0/1", a, b)
	}
	// A certificate of one server is not trusted by the other's config.
	if _, err := tlsDial(srv.TLSAddr(), other); err == nil {
		t.Error("second server's TLSConfig trusted the first server's certificate")
	}
	if err := other.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if _, err := os.Stat(other.Dir()); os.Getenv("DOVECOTTEST_KEEP") == "" && !os.IsNotExist(err) {
		t.Errorf("directory %s still exists after Close: %v", other.Dir(), err)
	}
	c1.cmd("NOOP")
	if err := other.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// startServer starts an extra server for one test and reports its start
// time.
func startServer(t *testing.T, opts *Options) *Server {
	t.Helper()
	begin := time.Now()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start(%+v) = %v", opts, err)
	}
	t.Logf("server started in %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return s
}

// tlsDial completes a TLS handshake with addr using s's TLSConfig.
func tlsDial(addr string, s *Server) (io.Closer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := &tls.Dialer{Config: s.TLSConfig()}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.Close()
	return conn, nil
}

// TestPrefixOption: with Prefix "INBOX." the server looks like Courier or
// Cyrus to a client: NAMESPACE says so, the Trash is INBOX.Trash, and a
// top-level mailbox cannot be created.
func TestPrefixOption(t *testing.T) {
	Require(t, srv)
	s := startServer(t, &Options{Prefix: "INBOX."})
	u := s.NewUser(t)
	c, _ := dialRaw(t, s.Addr(), nil)
	c.login(u)
	if ns := strings.Join(c.cmd("NAMESPACE"), "\n"); !strings.Contains(ns, `(("INBOX." "."))`) {
		t.Errorf("NAMESPACE = %q, want the personal namespace INBOX.", ns)
	}
	if list := strings.Join(c.cmd(`LIST "" "*"`), "\n"); !strings.Contains(list, "INBOX.Trash") {
		t.Errorf("LIST = %q, want INBOX.Trash", list)
	}
	if _, status := c.try("CREATE Archive"); !strings.HasPrefix(status, "NO") {
		t.Errorf("CREATE Archive = %q, want NO", status)
	}
	c.cmd("CREATE INBOX.Archive")
}
