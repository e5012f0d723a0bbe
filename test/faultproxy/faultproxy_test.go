package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/dovecottest"
)

// echoServer accepts connections on loopback and echoes every line back.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				io.Copy(conn, conn)
			}()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatalf("New(%q) = %v", target, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return p
}

type client struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{conn, bufio.NewReader(conn)}
}

// roundTrip sends a line and reads it back within timeout.
func (c *client) roundTrip(line string, timeout time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

// waitConns waits until the proxy holds want connections.
func waitConns(t *testing.T, p *Proxy, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.Conns() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Conns() = %d, want %d", p.Conns(), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestForward(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	for _, line := range []string{"hello", strings.Repeat("x", 100_000)} {
		if got, err := c.roundTrip(line, 5*time.Second); err != nil || got != line {
			t.Fatalf("roundTrip(%d bytes) = %d bytes, %v; want the same back", len(line), len(got), err)
		}
	}
	if !strings.HasPrefix(p.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", p.Addr())
	}
}

func TestCutAll(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c1, c2 := dial(t, p.Addr()), dial(t, p.Addr())
	for _, c := range []*client{c1, c2} {
		if _, err := c.roundTrip("ping", 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	waitConns(t, p, 2)
	p.CutAll()
	for i, c := range []*client{c1, c2} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.r.ReadByte(); err == nil || isTimeout(err) {
			t.Errorf("client %d: read after CutAll = %v, want EOF or reset", i, err)
		}
	}
	waitConns(t, p, 0)
	// The proxy still works for new connections.
	c3 := dial(t, p.Addr())
	if got, err := c3.roundTrip("again", 5*time.Second); err != nil || got != "again" {
		t.Fatalf("roundTrip after CutAll = %q, %v", got, err)
	}
}

// isTimeout reports whether err is a deadline expiry (the connection is
// still open) rather than an end of the connection.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestPauseResume(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	if _, err := c.roundTrip("before", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Pause()
	p.Pause() // idempotent
	if got, err := c.roundTrip("during", 300*time.Millisecond); err == nil {
		t.Fatalf("roundTrip while paused = %q, want a timeout", got)
	}
	// A connection opened while paused is accepted but hears nothing.
	late := dial(t, p.Addr())
	if got, err := late.roundTrip("late", 200*time.Millisecond); err == nil {
		t.Fatalf("roundTrip on a new connection while paused = %q, want a timeout", got)
	}
	p.Resume()
	p.Resume() // idempotent
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := c.r.ReadString('\n'); err != nil || got != "during\n" {
		t.Fatalf("after Resume read %q, %v; want the held line", got, err)
	}
	late.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := late.r.ReadString('\n'); err != nil || got != "late\n" {
		t.Fatalf("after Resume the late connection read %q, %v; want its line", got, err)
	}
}

func TestCutAllWhilePaused(t *testing.T) {
	p := newProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	waitConns(t, p, 1)
	p.Pause()
	io.WriteString(c, "stuck\n")
	time.Sleep(50 * time.Millisecond)
	p.CutAll()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.r.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("read after CutAll while paused = %v, want EOF or reset", err)
	}
	waitConns(t, p, 0)
}

func TestCloseAndLimits(t *testing.T) {
	target := echoServer(t)
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*client, MaxConns)
	for i := range conns {
		conns[i] = dial(t, p.Addr())
	}
	waitConns(t, p, MaxConns)
	extra := dial(t, p.Addr())
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.r.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("connection beyond MaxConns: read = %v, want it closed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if n := p.Conns(); n != 0 {
		t.Fatalf("Conns() after Close = %d, want 0", n)
	}
	if conn, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		conn.Close()
		t.Fatal("dial after Close succeeded")
	}
}

func TestNewRejects(t *testing.T) {
	for _, target := range []string{"192.0.2.1:143", "example.com:143", "no-port", "[::1]"} {
		if p, err := New(target); err == nil {
			p.Close()
			t.Errorf("New(%q) = nil error, want rejection", target)
		}
	}
	for _, target := range []string{"localhost:1", "[::1]:1", "127.0.0.2:1"} {
		p, err := New(target)
		if err != nil {
			t.Errorf("New(%q) = %v, want a proxy", target, err)
			continue
		}
		p.Close()
	}
}

// TestDovecot shows the intended use: an IMAP session through the proxy
// that the proxy cuts.
func TestDovecot(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Dovecot")
	}
	srv, err := dovecottest.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	u := srv.NewUser(t)
	p := newProxy(t, srv.Addr())
	c := dial(t, p.Addr())
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if greeting, err := c.r.ReadString('\n'); err != nil || !strings.HasPrefix(greeting, "* OK") {
		t.Fatalf("greeting through proxy = %q, %v", greeting, err)
	}
	io.WriteString(c, "a LOGIN "+u.Name+" "+u.Password+"\r\n")
	if line, err := c.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "a OK") {
		t.Fatalf("LOGIN through proxy = %q, %v", line, err)
	}
	p.Pause()
	io.WriteString(c, "b NOOP\r\n")
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if line, err := c.r.ReadString('\n'); err == nil {
		t.Fatalf("NOOP answered while paused: %q", line)
	}
	p.CutAll()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if line, err := c.r.ReadString('\n'); err == nil {
		t.Fatalf("read after CutAll = %q, want the connection gone", line)
	}
}
