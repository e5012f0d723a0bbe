package classify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests put hostile or absent servers behind the clients: a closed
// port, a server that never answers, and servers that answer junk. Each
// must end in an error that wraps ErrUnavailable, never in a verdict.

var plainMessage = []byte("From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nHello.\r\n")

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func wantUnavailable(t *testing.T, what string, v *Verdict, err error) {
	t.Helper()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%s = %+v, %v; want an error wrapping ErrUnavailable", what, v, err)
	}
	if v != nil {
		t.Fatalf("%s = %+v with error %v; want no verdict", what, v, err)
	}
}

func TestRspamdUnreachable(t *testing.T) {
	r := NewRspamd(Config{Name: "r", Type: TypeRspamd, URL: "http://" + closedAddr(t), ControllerURL: "http://" + closedAddr(t)})
	v, err := r.Classify(context.Background(), plainMessage)
	wantUnavailable(t, "Classify", v, err)
	if err := r.Learn(context.Background(), plainMessage, Spam); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Learn = %v, want ErrUnavailable", err)
	}
}

func TestSpamdUnreachable(t *testing.T) {
	s := NewSpamd(Config{Name: "s", Type: TypeSpamd, Address: closedAddr(t)})
	v, err := s.Classify(context.Background(), plainMessage)
	wantUnavailable(t, "Classify", v, err)
	if err := s.Learn(context.Background(), plainMessage, Ham); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Learn = %v, want ErrUnavailable", err)
	}
}

// silentServer accepts connections and reads, but never answers, until
// the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	stop := make(chan struct{})
	addr := lineServer(t, func(r *bufio.Reader, _ io.Writer) {
		_, _ = io.Copy(io.Discard, r) // up to the client's half close
		<-stop
	})
	t.Cleanup(func() { close(stop) }) // runs before lineServer's cleanup waits
	return addr
}

func TestTimeout(t *testing.T) {
	addr := silentServer(t)
	const timeout = 200 * time.Millisecond
	for _, c := range []Classifier{
		NewRspamd(Config{Name: "r", Type: TypeRspamd, URL: "http://" + addr, Timeout: timeout}),
		NewSpamd(Config{Name: "s", Type: TypeSpamd, Address: addr, Timeout: timeout}),
		NewCommand(Config{Name: "c", Type: TypeCommand, Command: []string{"sh", "-c", "sleep 30"}, Timeout: timeout}),
	} {
		t.Run(c.Name(), func(t *testing.T) {
			begin := time.Now()
			v, err := c.Classify(context.Background(), plainMessage)
			wantUnavailable(t, "Classify", v, err)
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("Classify returned after %v, want about %v", d, timeout)
			}
			if !strings.Contains(err.Error(), "timed out after 200ms") {
				t.Errorf("error %q does not say it timed out", err)
			}
		})
	}
}

func TestRspamdGarbage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"not json", 200, "<html>hello</html>"},
		{"partial json", 200, `{"score": 3.5, "required_score": 15, "act`},
		{"empty object", 200, `{}`},
		{"no action", 200, `{"score": 1.0, "required_score": 15, "symbols": {}}`},
		{"wrong types", 200, `{"score": "high", "action": "reject"}`},
		{"server error", 500, `{"error": "internal"}`},
		{"bad gateway", 502, `junk`},
		{"not found", 404, `{"error": "not found"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			r := NewRspamd(Config{Name: "r", Type: TypeRspamd, URL: srv.URL})
			v, err := r.Classify(context.Background(), plainMessage)
			wantUnavailable(t, "Classify", v, err)
		})
	}
}

// TestRspamdCutConnection: the server sends half an answer and hangs up.
func TestRspamdCutConnection(t *testing.T) {
	addr := lineServer(t, func(r *bufio.Reader, w io.Writer) {
		readHTTPRequest(r)
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{\"score\": 1.0, ")
	})
	r := NewRspamd(Config{Name: "r", Type: TypeRspamd, URL: "http://" + addr})
	v, err := r.Classify(context.Background(), plainMessage)
	wantUnavailable(t, "Classify", v, err)
}

func TestSpamdGarbage(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"not spamd", "HTTP/1.1 200 OK\r\n\r\n"},
		{"nothing", ""},
		{"error code", "SPAMD/1.1 76 Bad header line: (EOF)\r\n"},
		{"no spam header", "SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\n\r\nGTUBE"},
		{"bad spam header", "SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\nContent-length: 0\r\n\r\n"},
		{"bad score", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; lots / 5.0\r\nContent-length: 0\r\n\r\n"},
		{"short body", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 6.0 / 5.0\r\nContent-length: 50\r\n\r\nGTUBE"},
		{"headers cut", "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 6.0 / 5.0\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := lineServer(t, func(r *bufio.Reader, w io.Writer) {
				readSpamdRequest(r)
				io.WriteString(w, tc.answer)
			})
			s := NewSpamd(Config{Name: "s", Type: TypeSpamd, Address: addr})
			v, err := s.Classify(context.Background(), plainMessage)
			wantUnavailable(t, "Classify", v, err)
		})
	}
}

// TestSpamdAnswerParsed checks the parser on answers of the forms that the
// protocol document shows, from a server that speaks the protocol; the
// real spamd is in spamd_test.go.
func TestSpamdAnswerParsed(t *testing.T) {
	var got []string
	var mu sync.Mutex
	addr := lineServer(t, func(r *bufio.Reader, w io.Writer) {
		head := readSpamdRequest(r)
		mu.Lock()
		got = head
		mu.Unlock()
		io.WriteString(w, "SPAMD/1.1 0 EX_OK\r\nContent-length: 27\r\nSpam: Yes ; 1000.0 / 5.0\r\n\r\nNO_RELAYS,GTUBE,NO_RECEIVED")
	})
	s := NewSpamd(Config{Name: "s", Type: TypeSpamd, Address: addr, User: "alice"})
	v, err := s.Classify(context.Background(), plainMessage)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Spam || v.Score != 1000 || v.Required != 5 || v.Action != "spam" || strings.Join(v.Symbols, ",") != "GTUBE,NO_RECEIVED,NO_RELAYS" {
		t.Fatalf("Classify = %+v, want spam 1000/5 with GTUBE,NO_RECEIVED,NO_RELAYS", v)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"SYMBOLS SPAMC/1.5", fmt.Sprintf("Content-length: %d", len(plainMessage)), "User: alice"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("request head = %q, want %q", got, want)
	}
}

// lineServer serves each connection with handle until the test ends.
func lineServer(t *testing.T, handle func(r *bufio.Reader, w io.Writer)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(bufio.NewReader(c), c)
			}()
		}
	}()
	return l.Addr().String()
}

// readSpamdRequest reads a request's head and body and returns the head's
// lines.
func readSpamdRequest(r *bufio.Reader) []string {
	var head []string
	n := 0
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if err != nil || line == "" {
			break
		}
		head = append(head, line)
		if v, ok := strings.CutPrefix(line, "Content-length: "); ok {
			for _, ch := range v {
				n = n*10 + int(ch-'0')
			}
		}
	}
	_, _ = io.CopyN(io.Discard, r, int64(n))
	return head
}

func readHTTPRequest(r *bufio.Reader) {
	req, err := http.ReadRequest(r)
	if err == nil {
		_, _ = io.Copy(io.Discard, req.Body)
	}
}
