// Package parser compares FETCH parsing speed: the project's imap package
// against go-imap v2's client, both reading the same recorded bytes (the
// headers of the 6k-message corpus as Dovecot sent them). It is a separate
// module so that go-imap stays out of the product's go.mod.
//
// make bench records the stream and runs this with
// MAILRULES_BENCH_FETCH_STREAM set to its path.
package parser

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailrules/mailrules/imap"
)

// replayConn is an in-memory server: it answers every FETCH with the
// recorded stream and every other command with a plain OK, using the tag
// the client sent.
type replayConn struct {
	stream []byte
	count  int

	mu     sync.Mutex
	cond   *sync.Cond
	queue  [][]byte
	in     []byte
	closed bool
}

func newReplayConn(stream []byte) *replayConn {
	c := &replayConn{stream: stream, count: bytes.Count(stream, []byte(" FETCH ("))}
	c.cond = sync.NewCond(&c.mu)
	c.queue = append(c.queue, []byte("* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE MOVE UIDPLUS] ready\r\n"))
	return c
}

func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue) == 0 && !c.closed {
		c.cond.Wait()
	}
	if len(c.queue) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.queue[0])
	if n == len(c.queue[0]) {
		c.queue = c.queue[1:]
	} else {
		c.queue[0] = c.queue[0][n:]
	}
	return n, nil
}

func (c *replayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in = append(c.in, p...)
	for {
		i := bytes.Index(c.in, []byte("\r\n"))
		if i < 0 {
			break
		}
		line := string(c.in[:i])
		c.in = c.in[i+2:]
		tag, cmd, _ := bytes.Cut([]byte(line), []byte(" "))
		t := string(tag)
		switch {
		case bytes.Contains(cmd, []byte("FETCH")):
			c.queue = append(c.queue, c.stream, []byte(t+" OK Fetch completed.\r\n"))
		case bytes.HasPrefix(cmd, []byte("SELECT")) || bytes.HasPrefix(cmd, []byte("EXAMINE")):
			c.queue = append(c.queue, []byte("* "+strconv.Itoa(c.count)+" EXISTS\r\n* OK [UIDVALIDITY 1] Ok\r\n* OK [UIDNEXT "+
				strconv.Itoa(c.count+1)+"] Ok\r\n"+t+" OK [READ-WRITE] Select completed.\r\n"))
		case bytes.HasPrefix(cmd, []byte("LOGOUT")):
			c.queue = append(c.queue, []byte("* BYE Logging out\r\n"+t+" OK Logout completed.\r\n"))
		default:
			c.queue = append(c.queue, []byte(t+" OK done\r\n"))
		}
	}
	c.cond.Broadcast()
	return len(p), nil
}

func (c *replayConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return nil
}

func (c *replayConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *replayConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 143}
}
func (c *replayConn) SetDeadline(t time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(t time.Time) error { return nil }

func loadStream(b *testing.B) []byte {
	p := os.Getenv("MAILRULES_BENCH_FETCH_STREAM")
	if p == "" {
		b.Skip("MAILRULES_BENCH_FETCH_STREAM not set; make bench records the stream and sets it")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatalf("read stream: %v", err)
	}
	return data
}

// measure runs fetch b.N times and reports MB/s and allocations per
// message.
func measure(b *testing.B, stream []byte, count int, fetch func() (int, error)) {
	b.SetBytes(int64(len(stream)))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := fetch()
		if err != nil {
			b.Fatal(err)
		}
		if n != count {
			b.Fatalf("fetch delivered %d messages, want %d", n, count)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*count), "allocs/msg")
}

func BenchmarkParseFetch(b *testing.B) {
	stream := loadStream(b)
	count := bytes.Count(stream, []byte(" FETCH ("))
	b.Run("mailrules", func(b *testing.B) {
		ctx := context.Background()
		c, err := imap.New(newReplayConn(stream), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Select(ctx, "INBOX", nil); err != nil {
			b.Fatal(err)
		}
		items := []imap.FetchItem{imap.FetchUID, imap.FetchFlags, imap.FetchInternalDate, imap.FetchRFC822Size, imap.FetchSection("HEADER", true, 0, -1)}
		all := imap.SeqSet{{Start: 1, Stop: 0}}
		measure(b, stream, count, func() (int, error) {
			n := 0
			err := c.UIDFetch(ctx, all, items, func(m *imap.FetchMessage) error {
				if m.UID == 0 || len(m.Sections) == 0 {
					b.Fatalf("message %d: UID %d, %d sections", m.SeqNum, m.UID, len(m.Sections))
				}
				n++
				return nil
			})
			return n, err
		})
	})
	b.Run("go-imap-v2", func(b *testing.B) {
		c := imapclient.New(newReplayConn(stream), nil)
		defer c.Close()
		if err := c.WaitGreeting(); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
		opts := &goimap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true,
			BodySection: []*goimap.FetchItemBodySection{{Specifier: goimap.PartSpecifierHeader, Peek: true}}}
		var all goimap.UIDSet
		all.AddRange(1, 0)
		measure(b, stream, count, func() (int, error) {
			cmd := c.Fetch(all, opts)
			n := 0
			for {
				msg := cmd.Next()
				if msg == nil {
					break
				}
				sections := 0
				for {
					item := msg.Next()
					if item == nil {
						break
					}
					if bs, ok := item.(imapclient.FetchItemDataBodySection); ok {
						if _, err := io.Copy(io.Discard, bs.Literal); err != nil {
							return n, err
						}
						sections++
					}
				}
				if sections == 0 {
					b.Fatalf("go-imap: message without a section")
				}
				n++
			}
			return n, cmd.Close()
		})
	})
}
