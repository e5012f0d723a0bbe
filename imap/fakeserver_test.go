package imap

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeConn is the server side of a scripted conversation. It is only for
// what a real Dovecot will not do: malformed or hostile responses, dropped
// connections, other servers' quirks.
type fakeConn struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// send writes each line followed by CRLF.
func (s *fakeConn) send(lines ...string) {
	s.t.Helper()
	for _, l := range lines {
		s.sendRaw(l + "\r\n")
	}
}

// sendRaw writes bytes as they are.
func (s *fakeConn) sendRaw(data string) {
	s.t.Helper()
	if _, err := io.WriteString(s.conn, data); err != nil {
		s.t.Errorf("fake server: write: %v", err)
	}
}

// readLine reads one client line without its CRLF.
func (s *fakeConn) readLine() string {
	s.t.Helper()
	line, err := s.r.ReadString('\n')
	if err != nil {
		s.t.Errorf("fake server: read: %v (partial %q)", err, line)
		return ""
	}
	return strings.TrimRight(line, "\r\n")
}

// expect reads a command line, checks that after its tag it equals want
// and returns the tag.
func (s *fakeConn) expect(want string) string {
	s.t.Helper()
	line := s.readLine()
	tag, rest, _ := strings.Cut(line, " ")
	if rest != want {
		s.t.Errorf("fake server: got command %q, want %q", rest, want)
	}
	return tag
}

// readN reads exactly n bytes (a literal's content).
func (s *fakeConn) readN(n int) string {
	s.t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(s.r, buf); err != nil {
		s.t.Errorf("fake server: read %d bytes: %v", n, err)
	}
	return string(buf)
}

// startFake runs script as the server of one connection on loopback and
// returns the listener address. The script's end closes the connection;
// the test waits for it at cleanup.
func startFake(t testing.TB, script func(s *fakeConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		script(&fakeConn{t: t, conn: conn, r: bufio.NewReader(conn)})
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// dialFake starts a scripted server and connects a Client to it.
func dialFake(t testing.TB, opts *Options, script func(s *fakeConn)) *Client {
	t.Helper()
	addr := startFake(t, script)
	c, err := Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rwc adapts a reader and a writer to the io.ReadWriteCloser New wants.
type rwc struct {
	io.Reader
	io.Writer
}

func (rwc) Close() error { return nil }

// parseClient returns a Client that reads input (after a greeting) and
// discards what it writes: for testing the response parser alone.
func parseClient(t testing.TB, input string, opts *Options) *Client {
	t.Helper()
	c, err := New(rwc{strings.NewReader("* OK [CAPABILITY IMAP4rev1] ready\r\n" + input), io.Discard}, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}
