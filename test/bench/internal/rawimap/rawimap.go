// Package rawimap is the benchmark's own minimal IMAP client: raw commands
// over TCP and responses read as bytes, with literals inline. The floor
// workloads use it instead of the project's imap package so that the floor
// does not inherit that client's costs; it parses nothing it does not have
// to.
package rawimap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Conn is one IMAP connection. It is not safe for concurrent use, except
// that Close may be called from another goroutine.
type Conn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	tag  int
	buf  []byte
	last string // the last tagged status line, tag removed
}

// Dial connects to addr and reads the greeting.
func Dial(ctx context.Context, addr string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := &Conn{conn: nc, r: bufio.NewReaderSize(nc, 256<<10), w: bufio.NewWriterSize(nc, 64<<10)}
	greeting, err := c.ReadResponse()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("greeting from %s: %w", addr, err)
	}
	if !bytes.HasPrefix(greeting, []byte("* OK")) && !bytes.HasPrefix(greeting, []byte("* PREAUTH")) {
		nc.Close()
		return nil, fmt.Errorf("greeting from %s: %q", addr, greeting)
	}
	return c, nil
}

// Login dials addr, logs in and, when mailbox is not empty, selects it.
func Login(ctx context.Context, addr, user, password, mailbox string) (*Conn, error) {
	c, err := Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if err := c.Command(ctx, "LOGIN "+Quote(user)+" "+Quote(password), nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	if mailbox != "" {
		if err := c.Command(ctx, "SELECT "+Quote(mailbox), nil); err != nil {
			c.Close()
			return nil, fmt.Errorf("select %s: %w", mailbox, err)
		}
	}
	return c, nil
}

// LastStatus returns the last tagged status line read, without its tag,
// e.g. "OK [APPENDUID 1 42] Append completed.".
func (c *Conn) LastStatus() string { return c.last }

// SetDeadline sets the read and write deadline of the connection.
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// Close closes the connection without LOGOUT.
func (c *Conn) Close() error { return c.conn.Close() }

// Logout sends LOGOUT and closes the connection.
func (c *Conn) Logout(ctx context.Context) error {
	err := c.Command(ctx, "LOGOUT", nil)
	c.conn.Close()
	return err
}

// Quote returns s as an IMAP quoted string (RFC 3501 section 4.3).
func Quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// StatusError is a tagged NO or BAD.
type StatusError struct {
	Command string
	Line    string
}

// Error returns the command and the server's tagged response.
func (e *StatusError) Error() string { return fmt.Sprintf("%s: %s", e.Command, e.Line) }

// Send writes one tagged command line and flushes it; it returns the tag.
func (c *Conn) Send(cmd string) (string, error) {
	c.tag++
	tag := "b" + strconv.Itoa(c.tag)
	c.w.WriteString(tag)
	c.w.WriteByte(' ')
	c.w.WriteString(cmd)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return "", fmt.Errorf("send %s: %w", verb(cmd), err)
	}
	return tag, nil
}

// SendLine writes an untagged line, such as IDLE's DONE.
func (c *Conn) SendLine(line string) error {
	c.w.WriteString(line)
	c.w.WriteString("\r\n")
	return c.w.Flush()
}

// Command sends cmd and reads responses up to its tagged completion,
// calling fn (when not nil) with each untagged or continuation response.
// The slice passed to fn is reused: copy what you keep. A tagged NO or BAD
// is a *StatusError.
func (c *Conn) Command(ctx context.Context, cmd string, fn func(resp []byte) error) error {
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
		defer c.conn.SetDeadline(time.Time{})
	}
	tag, err := c.Send(cmd)
	if err != nil {
		return err
	}
	return c.Wait(tag, cmd, fn)
}

// CommandLiteral sends prefix followed by data as a non-synchronizing
// literal (RFC 7888 LITERAL+), as APPEND needs, and waits for completion.
func (c *Conn) CommandLiteral(ctx context.Context, prefix string, data []byte) error {
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
		defer c.conn.SetDeadline(time.Time{})
	}
	c.tag++
	tag := "b" + strconv.Itoa(c.tag)
	fmt.Fprintf(c.w, "%s %s {%d+}\r\n", tag, prefix, len(data))
	c.w.Write(data)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("send %s: %w", verb(prefix), err)
	}
	return c.Wait(tag, prefix, nil)
}

// Wait reads responses until the one tagged tag.
func (c *Conn) Wait(tag, cmd string, fn func(resp []byte) error) error {
	var fnErr error
	for {
		resp, err := c.ReadResponse()
		if err != nil {
			return fmt.Errorf("%s: %w", verb(cmd), err)
		}
		if len(resp) > len(tag) && resp[len(tag)] == ' ' && string(resp[:len(tag)]) == tag {
			line := strings.TrimRight(string(resp[len(tag)+1:]), "\r\n")
			c.last = line
			if fnErr != nil {
				return fnErr
			}
			if !strings.HasPrefix(line, "OK") {
				return &StatusError{Command: verb(cmd), Line: line}
			}
			return nil
		}
		if fn != nil && fnErr == nil {
			fnErr = fn(resp)
		}
	}
}

// ReadResponse reads one response: a line plus any literals it announces
// and the lines that follow them (RFC 3501 section 4.3), CRLF included. The
// returned slice is valid until the next call.
func (c *Conn) ReadResponse() ([]byte, error) {
	c.buf = c.buf[:0]
	for {
		line, err := c.r.ReadSlice('\n')
		c.buf = append(c.buf, line...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		n, ok := literalLen(c.buf)
		if !ok {
			return c.buf, nil
		}
		start := len(c.buf)
		c.buf = append(c.buf, make([]byte, n)...)
		if _, err := ioReadFull(c.r, c.buf[start:]); err != nil {
			return nil, fmt.Errorf("read literal: %w", err)
		}
	}
}

func ioReadFull(r *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// literalLen reports the size of a literal announced at the end of buf,
// which ends with CRLF: "{123}\r\n".
func literalLen(buf []byte) (int, bool) {
	if !bytes.HasSuffix(buf, []byte("}\r\n")) {
		return 0, false
	}
	end := len(buf) - 3
	open := bytes.LastIndexByte(buf[:end], '{')
	if open < 0 {
		return 0, false
	}
	digits := strings.TrimSuffix(string(buf[open+1:end]), "+")
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func verb(cmd string) string {
	if strings.HasPrefix(cmd, "LOGIN ") {
		return "LOGIN"
	}
	if i := strings.Index(cmd, " {"); i >= 0 {
		cmd = cmd[:i]
	}
	if len(cmd) > 60 {
		return cmd[:60] + "..."
	}
	return cmd
}

// FetchData is what ParseFetch finds in one FETCH response.
type FetchData struct {
	Seq          uint32
	UID          uint32
	InternalDate time.Time
	Flags        string // inside the parentheses
	Literal      []byte // the first literal (a BODY[...] section), aliasing the response
}

// ErrNotFetch is returned by ParseFetch for a response that is not FETCH.
var ErrNotFetch = errors.New("not a FETCH response")

// ParseFetch extracts the fields the bench needs from one "* n FETCH (...)"
// response as Dovecot writes it. It is for setup and checks, not timing.
func ParseFetch(resp []byte) (FetchData, error) {
	var d FetchData
	s := string(resp)
	rest, ok := strings.CutPrefix(s, "* ")
	if !ok {
		return d, ErrNotFetch
	}
	num, rest, ok := strings.Cut(rest, " ")
	if !ok || !strings.HasPrefix(rest, "FETCH (") {
		return d, ErrNotFetch
	}
	seq, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return d, fmt.Errorf("fetch seq %q: %w", num, err)
	}
	d.Seq = uint32(seq)
	// Only look for item names before the first literal.
	head := rest
	litStart := -1
	if i := strings.Index(rest, "}\r\n"); i >= 0 {
		head = rest[:i]
		litStart = len(s) - len(rest) + i + 3
	}
	if i := strings.Index(head, "UID "); i >= 0 {
		v := head[i+4:]
		j := strings.IndexAny(v, " )")
		if j < 0 {
			j = len(v)
		}
		uid, err := strconv.ParseUint(v[:j], 10, 32)
		if err != nil {
			return d, fmt.Errorf("fetch uid %q: %w", v[:j], err)
		}
		d.UID = uint32(uid)
	}
	if i := strings.Index(head, `INTERNALDATE "`); i >= 0 {
		v := head[i+14:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			t, err := time.Parse("02-Jan-2006 15:04:05 -0700", strings.TrimLeft(v[:j], " "))
			if err != nil {
				t, err = time.Parse("_2-Jan-2006 15:04:05 -0700", v[:j])
			}
			if err != nil {
				return d, fmt.Errorf("fetch internaldate %q: %w", v[:j], err)
			}
			d.InternalDate = t
		}
	}
	if i := strings.Index(head, "FLAGS ("); i >= 0 {
		v := head[i+7:]
		if j := strings.IndexByte(v, ')'); j >= 0 {
			d.Flags = v[:j]
		}
	}
	if litStart >= 0 {
		open := strings.LastIndexByte(head, '{')
		n, err := strconv.Atoi(strings.TrimSuffix(head[open+1:], "+"))
		if err != nil || litStart+n > len(resp) {
			return d, fmt.Errorf("fetch literal %q", head[open:])
		}
		d.Literal = resp[litStart : litStart+n]
	}
	return d, nil
}

// FormatSet renders sorted UIDs as an IMAP sequence set with ranges, split
// into pieces of at most maxLen bytes so no command line gets too long.
func FormatSet(uids []uint32, maxLen int) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && uids[j+1] == uids[j]+1 {
			j++
		}
		part := strconv.FormatUint(uint64(uids[i]), 10)
		if j > i {
			part += ":" + strconv.FormatUint(uint64(uids[j]), 10)
		}
		if b.Len() > 0 && b.Len()+1+len(part) > maxLen {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(part)
		i = j + 1
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
