package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

func TestMaxResponseSizeDefaults(t *testing.T) {
	tests := []struct {
		opts *Options
		want int64
	}{
		{nil, 128 << 20},
		{&Options{}, 128 << 20},
		{&Options{MaxResponseSize: 8 << 20}, 64 << 20}, // never below the default literal limit
		{&Options{MaxResponseSize: 8 << 20, MaxLiteralSize: 1 << 20}, 8 << 20},
		{&Options{MaxLiteralSize: 256 << 20}, 256 << 20},
		{&Options{MaxResponseSize: -1, MaxLiteralSize: 1 << 20}, 128 << 20},
	}
	for _, tt := range tests {
		if got := tt.opts.maxResponseSize(); got != tt.want {
			t.Errorf("%+v.maxResponseSize() = %d, want %d", tt.opts, got, tt.want)
		}
	}
}

// allocatedDuring returns the bytes allocated on the heap while fn ran.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A hostile server announcing many large body sections in one FETCH
// response makes the Client fail once the response would hold more than
// MaxResponseSize, having allocated about the limit, not the sum.
func TestMaxResponseSizeFetch(t *testing.T) {
	const (
		literal  = 4 << 20
		limit    = 8 << 20
		sections = 20 // 80 MiB announced in one response
	)
	chunk := bytes.Repeat([]byte("x"), literal) // allocated before the measurement
	c := dialFake(t, &Options{MaxLiteralSize: literal, MaxResponseSize: limit}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		s.readLine()
		// Write errors are expected once the Client gives up.
		fmt.Fprintf(s.conn, "* 1 FETCH (UID 7")
		for i := 1; i <= sections; i++ {
			if _, err := fmt.Fprintf(s.conn, " BODY[%d] {%d}\r\n", i, literal); err != nil {
				return
			}
			if _, err := s.conn.Write(chunk); err != nil {
				return
			}
		}
		s.conn.Write([]byte(")\r\nA1 OK done\r\n"))
	})
	var err error
	called := false
	alloc := allocatedDuring(func() {
		err = c.UIDFetch(context.Background(), SeqSetFromNums(7), []FetchItem{"BODY.PEEK[]"}, func(*FetchMessage) error {
			called = true
			return nil
		})
	})
	if !errors.Is(err, ErrAbort) || !errors.Is(err, imapwire.ErrResponseTooLarge) {
		t.Fatalf("UIDFetch of %d sections of %d bytes = %v, want ErrAbort (response too large)", sections, literal, err)
	}
	if called {
		t.Errorf("UIDFetch delivered a message cut short by the limit")
	}
	t.Logf("allocated %d KiB with a %d KiB limit", alloc>>10, limit>>10)
	if alloc > 3*limit {
		t.Errorf("UIDFetch allocated %d MiB with MaxResponseSize %d MiB (server sent up to %d MiB)", alloc>>20, limit>>20, sections*literal>>20)
	}
	if err := c.Noop(context.Background()); !errors.Is(err, ErrAbort) {
		t.Errorf("Noop after an oversized response = %v, want ErrAbort", err)
	}
}

// The limit counts other kinds of response too, and tiny items count for
// what they cost in memory, not only their bytes.
func TestMaxResponseSizeOtherResponses(t *testing.T) {
	const limit = 256 << 10
	tests := []struct {
		name     string
		response string
		call     func(c *Client) error
	}{
		{"SEARCH", "* SEARCH" + strings.Repeat(" 1", limit/4),
			func(c *Client) error { _, err := c.UIDSearch(context.Background(), nil); return err }},
		{"FLAGS", "* 1 FETCH (FLAGS (" + strings.Repeat(" a", limit/8) + "))",
			func(c *Client) error { return c.Noop(context.Background()) }},
		{"unknown", "* XDATA " + strings.Repeat("{1000}\r\n"+strings.Repeat("y", 1000)+" ", 2*limit/1000),
			func(c *Client) error { return c.Noop(context.Background()) }},
		{"Execute", "* XDATA " + strings.Repeat("z ", limit),
			func(c *Client) error { _, err := c.Execute(context.Background(), "XCMD"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialFake(t, &Options{MaxLiteralSize: 4096, MaxResponseSize: limit, UpdateHandler: func(Update) {}}, func(s *fakeConn) {
				s.send("* OK [CAPABILITY IMAP4rev1] hi")
				tag := strings.Fields(s.readLine())[0]
				s.conn.Write([]byte(tt.response + "\r\n" + tag + " OK done\r\n"))
			})
			if err := tt.call(c); !errors.Is(err, ErrAbort) || !errors.Is(err, imapwire.ErrResponseTooLarge) {
				t.Fatalf("%s response over the limit: err = %v, want ErrAbort (response too large)", tt.name, err)
			}
		})
	}
}

// Responses under the limit, one after the other, are each counted on
// their own: a streaming FETCH of many large messages succeeds.
func TestMaxResponseSizePerMessage(t *testing.T) {
	const size = 600 << 10
	body := strings.Repeat("b", size)
	c := dialFake(t, &Options{MaxLiteralSize: size, MaxResponseSize: 1 << 20}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		tag := strings.Fields(s.readLine())[0]
		for uid := 1; uid <= 10; uid++ {
			fmt.Fprintf(s.conn, "* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n", uid, uid, size, body)
		}
		s.send(tag + " OK done")
	})
	n := 0
	err := c.UIDFetch(context.Background(), SeqSet{{1, 10}}, []FetchItem{"BODY.PEEK[]"}, func(m *FetchMessage) error {
		if len(m.Section("")) != size {
			return fmt.Errorf("UID %d: %d bytes, want %d", m.UID, len(m.Section("")), size)
		}
		n++
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("UIDFetch of 10 messages of %d KiB under a 1 MiB limit = %v after %d messages, want all", size>>10, err, n)
	}
}

// A streaming UID FETCH does not keep earlier messages alive: after each
// callback the Client holds about one message, even when an early message
// had many large sections and later ones have few.
func TestFetchStreamingReleasesMessages(t *testing.T) {
	const (
		section  = 2 << 20
		first    = 8 // sections of the first message
		messages = 6
	)
	chunk := bytes.Repeat([]byte("s"), section)
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		tag := strings.Fields(s.readLine())[0]
		fmt.Fprintf(s.conn, "* 1 FETCH (UID 1")
		for i := 1; i <= first; i++ {
			fmt.Fprintf(s.conn, " BODY[%d] {%d}\r\n", i, section)
			s.conn.Write(chunk)
		}
		s.send(")")
		for uid := 2; uid <= messages; uid++ {
			fmt.Fprintf(s.conn, "* %d FETCH (UID %d BODY[1] {%d}\r\n", uid, uid, section)
			s.conn.Write(chunk)
			s.send(")")
		}
		s.send(tag + " OK done")
	})
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	err := c.UIDFetch(context.Background(), SeqSet{{1, messages}}, []FetchItem{"BODY.PEEK[1]"}, func(m *FetchMessage) error {
		if m.UID < 2 {
			return nil
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// One message of one section is live in the callback (plus the read
	// buffers); the first message's other sections must not be.
	if held := int64(peak) - int64(base); held > 4*section {
		t.Errorf("UIDFetch held %d MiB after a message of one %d MiB section, want about one section", held>>20, section>>20)
	}
}
