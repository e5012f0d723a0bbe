package dovecottest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn is a minimal IMAP client for testing the harness without the
// project's imap package: it sends tagged command lines and collects
// response lines, inlining literals.
type rawConn struct {
	t    testing.TB
	conn io.ReadWriteCloser
	net  net.Conn // nil for a child process
	r    *bufio.Reader
	tag  int
}

const rawTimeout = 10 * time.Second

// dialRaw connects to addr (with TLS when cfg is non-nil) and returns the
// connection and the greeting line.
func dialRaw(t testing.TB, addr string, cfg *tls.Config) (*rawConn, string) {
	t.Helper()
	d := &net.Dialer{Timeout: rawTimeout}
	var conn net.Conn
	var err error
	if cfg != nil {
		conn, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	} else {
		conn, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &rawConn{t: t, conn: conn, net: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() { c.conn.Close() })
	greeting, err := c.readLine()
	if err != nil {
		t.Fatalf("read greeting from %s: %v", addr, err)
	}
	return c, greeting
}

// readLine reads one response line without CRLF, with any literals
// ({N}CRLF followed by N bytes) inlined.
func (c *rawConn) readLine() (string, error) {
	if c.net != nil {
		if err := c.net.SetReadDeadline(time.Now().Add(rawTimeout)); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return b.String() + line, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		b.WriteString(line)
		n, ok := literalSize(line)
		if !ok {
			return b.String(), nil
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return b.String(), fmt.Errorf("read literal: %w", err)
		}
		b.WriteString("\r\n")
		b.Write(buf)
	}
}

func literalSize(line string) (int, bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(line[i+1:len(line)-1], "+"))
	return n, err == nil
}

// send writes a tagged command and returns its tag.
func (c *rawConn) send(format string, args ...any) string {
	c.t.Helper()
	c.tag++
	tag := fmt.Sprintf("t%d", c.tag)
	if c.net != nil {
		if err := c.net.SetWriteDeadline(time.Now().Add(rawTimeout)); err != nil {
			c.t.Fatalf("set deadline: %v", err)
		}
	}
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, fmt.Sprintf(format, args...)); err != nil {
		c.t.Fatalf("send %q: %v", format, err)
	}
	return tag
}

// result reads until the tagged response for tag and returns the untagged
// lines and the tagged status line (without the tag).
func (c *rawConn) result(tag string) (untagged []string, status string, err error) {
	for {
		line, err := c.readLine()
		if err != nil {
			return untagged, "", err
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			return untagged, rest, nil
		}
		untagged = append(untagged, line)
	}
}

// cmd runs a command and fails the test unless it ends in OK.
func (c *rawConn) cmd(format string, args ...any) []string {
	c.t.Helper()
	untagged, status := c.try(format, args...)
	if !strings.HasPrefix(status, "OK") {
		c.t.Fatalf("%s: got %q, want OK", strings.Fields(format)[0], status)
	}
	return untagged
}

// try runs a command and returns its untagged lines and tagged status.
func (c *rawConn) try(format string, args ...any) ([]string, string) {
	c.t.Helper()
	tag := c.send(format, args...)
	untagged, status, err := c.result(tag)
	if err != nil {
		c.t.Fatalf("%s: %v", strings.Fields(format)[0], err)
	}
	return untagged, status
}

// login logs u in with LOGIN.
func (c *rawConn) login(u *User) {
	c.t.Helper()
	c.cmd("LOGIN %s %s", u.Name, u.Password)
}

// capabilities returns the capability names of a CAPABILITY response.
func (c *rawConn) capabilities() map[string]bool {
	c.t.Helper()
	caps := map[string]bool{}
	for _, line := range c.cmd("CAPABILITY") {
		if rest, ok := strings.CutPrefix(line, "* CAPABILITY "); ok {
			for _, name := range strings.Fields(rest) {
				caps[strings.ToUpper(name)] = true
			}
		}
	}
	return caps
}

// exists returns the EXISTS count from a SELECT/EXAMINE/NOOP response.
func exists(t testing.TB, untagged []string) int {
	t.Helper()
	for _, line := range untagged {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "*" && f[2] == "EXISTS" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("bad EXISTS line %q", line)
			}
			return n
		}
	}
	return -1
}
