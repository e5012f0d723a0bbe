package dovecottest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

var srv *Server

func TestMain(m *testing.M) { Run(m, nil, &srv) }

func TestGreetingLoginCapabilities(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	c, greeting := dialRaw(t, srv.Addr(), nil)
	for _, want := range []string{"* OK ", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN", "AUTH=CRAM-MD5"} {
		if !strings.Contains(greeting, want) {
			t.Errorf("greeting %q lacks %q", greeting, want)
		}
	}
	if strings.Contains(greeting, "LOGINDISABLED") {
		t.Errorf("greeting %q: LOGIN disabled on plaintext loopback", greeting)
	}
	c.login(u)
	caps := c.capabilities()
	for _, want := range []string{"IMAP4REV1", "IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "SPECIAL-USE", "LITERAL+", "ENABLE", "NAMESPACE"} {
		if !caps[want] {
			t.Errorf("CAPABILITY after login lacks %s: %v", want, caps)
		}
	}
	for _, unwanted := range []string{"ACL", "QUOTA", "METADATA"} {
		if caps[unwanted] {
			t.Errorf("CAPABILITY without plugins has %s", unwanted)
		}
	}
	c.cmd("LOGOUT")
}

func TestWrongPassword(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	c, _ := dialRaw(t, srv.Addr(), nil)
	if _, status := c.try("LOGIN %s %s", u.Name, u.Password+"x"); !strings.HasPrefix(status, "NO") {
		t.Fatalf("LOGIN with wrong password = %q, want NO", status)
	}
}

// authenticate runs AUTHENTICATE mech, answering each continuation with
// respond(challenge) (RFC 3501 section 6.2.2).
func (c *rawConn) authenticate(mech, initial string, respond func(challenge []byte) string) string {
	c.t.Helper()
	cmd := "AUTHENTICATE " + mech
	if initial != "" {
		cmd += " " + initial
	}
	tag := c.send("%s", cmd)
	for {
		line, err := c.readLine()
		if err != nil {
			c.t.Fatalf("AUTHENTICATE %s: %v", mech, err)
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			return rest
		}
		if challenge, ok := strings.CutPrefix(line, "+"); ok {
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(challenge))
			if err != nil {
				c.t.Fatalf("AUTHENTICATE %s: bad challenge %q", mech, line)
			}
			if _, err := fmt.Fprintf(c.conn, "%s\r\n", respond(raw)); err != nil {
				c.t.Fatalf("AUTHENTICATE %s: %v", mech, err)
			}
		}
	}
}

func TestAuthMechanisms(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		mech, initial string
		respond       func([]byte) string
	}{
		{"PLAIN", b64("\x00" + u.Name + "\x00" + u.Password), nil},
		{"PLAIN", "", func([]byte) string { return b64("\x00" + u.Name + "\x00" + u.Password) }},
		{"LOGIN", "", func(ch []byte) string {
			if strings.HasPrefix(strings.ToLower(string(ch)), "user") {
				return b64(u.Name)
			}
			return b64(u.Password)
		}},
		{"CRAM-MD5", "", func(ch []byte) string {
			mac := hmac.New(md5.New, []byte(u.Password))
			mac.Write(ch)
			return b64(u.Name + " " + hex.EncodeToString(mac.Sum(nil)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.mech, func(t *testing.T) {
			c, _ := dialRaw(t, srv.Addr(), nil)
			if status := c.authenticate(tt.mech, tt.initial, tt.respond); !strings.HasPrefix(status, "OK") {
				t.Fatalf("AUTHENTICATE %s = %q, want OK", tt.mech, status)
			}
			c.cmd("SELECT INBOX")
		})
	}
}

func TestStartTLS(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	c, _ := dialRaw(t, srv.Addr(), nil)
	c.cmd("STARTTLS")
	tc := tls.Client(c.net, srv.TLSConfig())
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake after STARTTLS: %v", err)
	}
	c.conn, c.net = tc, tc
	c.r.Reset(tc)
	caps := c.capabilities()
	if caps["STARTTLS"] {
		t.Errorf("CAPABILITY after STARTTLS still offers STARTTLS: %v", caps)
	}
	c.login(u)
	c.cmd("SELECT INBOX")
}

func TestImplicitTLS(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	for _, name := range []string{"127.0.0.1", "localhost"} {
		cfg := srv.TLSConfig()
		cfg.ServerName = name
		c, greeting := dialRaw(t, srv.TLSAddr(), cfg)
		if !strings.HasPrefix(greeting, "* OK") || strings.Contains(greeting, "STARTTLS") {
			t.Errorf("implicit TLS greeting (ServerName %s) = %q, want OK without STARTTLS", name, greeting)
		}
		c.login(u)
		c.cmd("SELECT INBOX")
	}
}

func TestTLSConfigIsNeeded(t *testing.T) {
	Require(t, srv)
	_, err := tls.Dial("tcp", srv.TLSAddr(), &tls.Config{ServerName: "127.0.0.1"})
	if err == nil {
		t.Fatal("TLS dial with system roots succeeded; the server certificate should be self-signed")
	}
}

func TestSpecialUseMailboxes(t *testing.T) {
	Require(t, srv)
	u := srv.NewUser(t)
	c, _ := dialRaw(t, srv.Addr(), nil)
	c.login(u)
	list := strings.Join(c.cmd(`LIST "" "*"`), "\n")
	if !strings.Contains(list, `\Trash) "." Trash`) {
		t.Errorf("LIST = %q, want Trash with \\Trash and separator \".\"", list)
	}
	if strings.Contains(list, "Junk") {
		t.Errorf("LIST = %q, Junk exists before it was created", list)
	}
	c.cmd("CREATE Junk")
	list = strings.Join(c.cmd(`LIST "" "*"`), "\n")
	if !strings.Contains(list, `\Junk) "." Junk`) {
		t.Errorf("LIST after CREATE Junk = %q, want Junk with \\Junk", list)
	}
}

func TestUserIsolationAndRemoval(t *testing.T) {
	Require(t, srv)
	u1, u2 := srv.NewUser(t), srv.NewUser(t)
	if u1.Name == u2.Name || u1.Maildir == u2.Maildir {
		t.Fatalf("NewUser returned the same user twice: %+v %+v", u1, u2)
	}
	if err := srv.AddMessages(u1, "INBOX", []Message{{Data: []byte("Subject: x\r\n\r\nbody\r\n")}}); err != nil {
		t.Fatal(err)
	}
	c, _ := dialRaw(t, srv.Addr(), nil)
	if _, status := c.try("LOGIN %s %s", u2.Name, u1.Password); !strings.HasPrefix(status, "NO") {
		t.Fatalf("LOGIN %s with %s's password = %q, want NO", u2.Name, u1.Name, status)
	}
	c.login(u2)
	if n := exists(t, c.cmd("SELECT INBOX")); n != 0 {
		t.Fatalf("SELECT INBOX of %s: EXISTS %d, want 0 (message was for %s)", u2.Name, n, u1.Name)
	}

	u3, err := srv.AddUser("")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.RemoveUser(u3); err != nil {
		t.Fatal(err)
	}
	c2, _ := dialRaw(t, srv.Addr(), nil)
	if _, status := c2.try("LOGIN %s %s", u3.Name, u3.Password); !strings.HasPrefix(status, "NO") {
		t.Fatalf("LOGIN of removed user = %q, want NO", status)
	}
	if _, err := srv.AddUser(u1.Name); err == nil {
		t.Fatalf("AddUser(%q) of an existing user succeeded", u1.Name)
	}
	if _, err := srv.AddUser("bad name"); err == nil {
		t.Fatal(`AddUser("bad name") succeeded`)
	}
}
