package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// cmdConn is IMAP over a child process's stdin and stdout.
type cmdConn struct {
	r, w   *os.File
	cmd    *exec.Cmd
	stderr *limitedBuffer
	once   sync.Once
	err    error
	done   chan struct{}
}

func (c *cmdConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *cmdConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *cmdConn) SetDeadline(t time.Time) error {
	err1 := c.r.SetReadDeadline(t)
	err2 := c.w.SetWriteDeadline(t)
	return errors.Join(err1, err2)
}

// Close closes the child's stdin, then waits up to 5 seconds for it to
// exit before killing it.
func (c *cmdConn) Close() error {
	c.once.Do(func() {
		c.w.Close()
		c.r.Close()
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c.err
}

// limitedBuffer keeps the first 4 KiB of the child's standard error.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 4096 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

// DialCommand runs name with args and speaks IMAP over its standard input
// and output, like imaplib's IMAP4_stream: for example Dovecot's
// /usr/lib/dovecot/imap on a local Maildir (which greets with PREAUTH) or
// "ssh host imapd". The connection counts as encrypted. ctx bounds the
// start and the greeting only; Close waits for the process.
func DialCommand(ctx context.Context, opts *Options, name string, args ...string) (*Client, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("dial command %s: %w", name, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("dial command %s: %w", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = inR
	cmd.Stdout = outW
	stderr := &limitedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("dial command %s: %w", name, err)
	}
	inR.Close()
	outW.Close()
	conn := &cmdConn{r: outR, w: inW, cmd: cmd, stderr: stderr, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			conn.err = err
		}
		close(conn.done)
	}()
	gctx, cancel := context.WithTimeout(ctx, opts.dialTimeout())
	defer cancel()
	c, err := newClient(gctx, conn, opts, true)
	if err != nil {
		conn.Close()
		if msg := stderr.String(); msg != "" {
			return nil, fmt.Errorf("dial command %s: %w (stderr: %s)", name, err, msg)
		}
		return nil, fmt.Errorf("dial command %s: %w", name, err)
	}
	return c, nil
}
