package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// wantTimeout fails the test unless err is a ReadTimeout abort that came
// after about timeout (from start).
func wantTimeout(t *testing.T, what string, err error, start time.Time, timeout time.Duration) {
	t.Helper()
	elapsed := time.Since(start)
	if !errors.Is(err, ErrAbort) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s with a silent server = %v, want ErrAbort and DeadlineExceeded", what, err)
	}
	if elapsed < timeout || elapsed > timeout+3*time.Second {
		t.Fatalf("%s failed after %v with ReadTimeout %v", what, elapsed, timeout)
	}
}

// A server that goes silent after a command fails it after ReadTimeout,
// not after the context's deadline, and the connection is closed.
func TestReadTimeoutSilentServer(t *testing.T) {
	const timeout = 200 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	c := dialFake(t, &Options{ReadTimeout: timeout}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		s.expect("SELECT INBOX")
		<-release // never answer
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	_, err := c.Select(ctx, "INBOX", nil)
	wantTimeout(t, "Select", err, start, timeout)
	if !strings.Contains(err.Error(), "no data from server for 200ms") {
		t.Errorf("Select error %q does not say the server was silent", err)
	}
	if err := c.Noop(context.Background()); !errors.Is(err, ErrAbort) {
		t.Fatalf("Noop after a read timeout = %v, want ErrAbort", err)
	}
}

// pipeTransport is a transport without deadlines: ReadTimeout closes it.
type pipeTransport struct {
	io.Reader
	io.Writer
	closers []io.Closer
}

func (p *pipeTransport) Close() error {
	for _, c := range p.closers {
		c.Close()
	}
	return nil
}

func TestReadTimeoutWithoutDeadlines(t *testing.T) {
	const timeout = 200 * time.Millisecond
	toClient, fromServer := io.Pipe()
	fromClient, toServer := io.Pipe()
	go func() {
		io.WriteString(fromServer, "* OK [CAPABILITY IMAP4rev1] hi\r\n")
		io.Copy(io.Discard, fromClient) // read commands, never answer
	}()
	conn := &pipeTransport{Reader: toClient, Writer: toServer, closers: []io.Closer{toClient, toServer, fromServer}}
	c, err := New(conn, &Options{ReadTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	wantTimeout(t, "Noop", c.Noop(context.Background()), start, timeout)
}

// A FETCH that streams slowly but steadily is not cut off: ReadTimeout is
// an inactivity timeout, not a deadline for the command.
func TestReadTimeoutSlowSteadyFetch(t *testing.T) {
	const (
		timeout = 200 * time.Millisecond
		chunks  = 20 // one every 50ms: a second in all
		chunk   = 1000
	)
	c := dialFake(t, &Options{ReadTimeout: timeout}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		tag := strings.Fields(s.readLine())[0]
		s.sendRaw(fmt.Sprintf("* 1 FETCH (UID 9 BODY[] {%d}\r\n", chunks*chunk))
		for i := 0; i < chunks; i++ {
			time.Sleep(50 * time.Millisecond)
			s.sendRaw(strings.Repeat(string(rune('a'+i)), chunk))
		}
		s.send(")", tag+" OK done")
	})
	var body []byte
	start := time.Now()
	err := c.UIDFetch(context.Background(), SeqSetFromNums(9), []FetchItem{"BODY.PEEK[]"}, func(m *FetchMessage) error {
		body = append(body, m.Section("")...)
		return nil
	})
	if err != nil || len(body) != chunks*chunk {
		t.Fatalf("slow UIDFetch = %d bytes, %v after %v, want %d bytes", len(body), err, time.Since(start), chunks*chunk)
	}
}

// Time spent in the Fetch callback is not the server's silence.
func TestReadTimeoutSlowCallback(t *testing.T) {
	const timeout = 200 * time.Millisecond
	c := dialFake(t, &Options{ReadTimeout: timeout}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		tag := strings.Fields(s.readLine())[0]
		s.send("* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)", tag+" OK done")
	})
	n := 0
	err := c.UIDFetch(context.Background(), SeqSet{{1, 3}}, nil, func(*FetchMessage) error {
		time.Sleep(300 * time.Millisecond)
		n++
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("UIDFetch with a slow callback = %v after %d messages, want 3", err, n)
	}
}

// A server that stops reading fails a command that is sending after
// ReadTimeout, too.
func TestReadTimeoutBlockedWrite(t *testing.T) {
	const timeout = 200 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	c := dialFake(t, &Options{ReadTimeout: timeout}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 LITERAL+] hi")
		<-release // read nothing
	})
	msg := bytes.NewReader(make([]byte, 64<<20)) // more than the socket buffers hold
	start := time.Now()
	_, err := c.Append(context.Background(), "INBOX", nil, time.Time{}, msg)
	// Filling the socket buffers takes a moment before the writes block.
	wantTimeout(t, "Append", err, start, timeout)
	if !strings.Contains(err.Error(), "server accepted no data") {
		t.Errorf("Append error %q does not say the server stopped reading", err)
	}
}

// IDLE is silent by design: ReadTimeout does not end it.
func TestReadTimeoutIdle(t *testing.T) {
	c := dialFake(t, &Options{ReadTimeout: 100 * time.Millisecond}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 IDLE] hi")
		tag := s.expect("IDLE")
		s.send("+ idling")
		if got := s.readLine(); got != "DONE" {
			t.Errorf("got %q, want DONE", got)
		}
		s.send(tag + " OK Idle completed")
		tag = s.expect("NOOP")
		s.send(tag + " OK Noop completed")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Idle(ctx, nil); err != nil {
		t.Fatalf("Idle with ReadTimeout 100ms = %v after %v, want nil after 500ms", err, time.Since(start))
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("Idle returned after %v, want 500ms", d)
	}
	if err := c.Noop(context.Background()); err != nil {
		t.Fatalf("Noop after Idle = %v", err)
	}
}

// The DONE exchange that ends IDLE is bounded by ReadTimeout.
func TestReadTimeoutIdleDone(t *testing.T) {
	const timeout = 100 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	c := dialFake(t, &Options{ReadTimeout: timeout}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 IDLE] hi")
		s.expect("IDLE")
		s.send("+ idling")
		s.readLine() // DONE, never answered
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	err := c.Idle(ctx, nil)
	wantTimeout(t, "Idle after DONE", err, start, 300*time.Millisecond+timeout)
}

// Starting IDLE is bounded too: a server that never sends its continuation
// request does not hold Idle until the context ends.
func TestReadTimeoutIdleStart(t *testing.T) {
	const timeout = 100 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	c := dialFake(t, &Options{ReadTimeout: timeout}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 IDLE] hi")
		s.expect("IDLE")
		<-release
	})
	start := time.Now()
	wantTimeout(t, "Idle", c.Idle(context.Background(), nil), start, timeout)
}

// With a ReadTimeout, cancelling the context still interrupts at once.
func TestReadTimeoutContextCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c := dialFake(t, &Options{ReadTimeout: time.Minute}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		s.readLine()
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := c.Noop(ctx)
	if !errors.Is(err, ErrAbort) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Noop = %v, want ErrAbort and Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancelled Noop returned after %v", d)
	}
}

// Commands that get their answers in time leave the connection usable, and
// the watchdog does not fire between commands.
func TestReadTimeoutBetweenCommands(t *testing.T) {
	c := dialFake(t, &Options{ReadTimeout: 100 * time.Millisecond}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		for i := 0; i < 2; i++ {
			tag := s.expect("NOOP")
			time.Sleep(50 * time.Millisecond)
			s.send(tag + " OK done")
		}
	})
	for i := 0; i < 2; i++ {
		if err := c.Noop(context.Background()); err != nil {
			t.Fatalf("Noop %d = %v", i, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
