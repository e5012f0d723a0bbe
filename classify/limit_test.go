package classify

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gauge counts requests in flight and remembers the most at once.
type gauge struct{ now, peak atomic.Int64 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (g *gauge) leave() { g.now.Add(-1) }

// TestConcurrencyLimit sends many messages at once through each client and
// checks that the server never sees more requests in flight than the
// configured concurrency, and that it does see that many (the limit is not
// a lock).
func TestConcurrencyLimit(t *testing.T) {
	const limit, requests = 3, 24
	const hold = 30 * time.Millisecond
	var rg, sg gauge
	rspamd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rg.enter()
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(hold)
		rg.leave() // before answering: the client may send the next one at once
		io.WriteString(w, `{"is_skipped": false, "score": 1.5, "required_score": 15, "action": "no action", "symbols": {"A": {"score": 1.5}}}`)
	}))
	defer rspamd.Close()
	spamd := lineServer(t, func(r *bufio.Reader, w io.Writer) {
		readSpamdRequest(r)
		sg.enter()
		time.Sleep(hold)
		sg.leave()
		io.WriteString(w, "SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.5 / 5.0\r\nContent-length: 1\r\n\r\nA")
	})
	var cg gauge
	for _, tc := range []struct {
		c Classifier
		g *gauge
	}{
		{NewRspamd(Config{Name: "r", Type: TypeRspamd, URL: rspamd.URL, Concurrency: limit}), &rg},
		{NewSpamd(Config{Name: "s", Type: TypeSpamd, Address: spamd, Concurrency: limit}), &sg},
	} {
		t.Run(tc.c.Name(), func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, requests)
			for i := 0; i < requests; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cg.enter()
					defer cg.leave()
					v, err := tc.c.Classify(context.Background(), plainMessage)
					if err == nil && (v.Spam || v.Score != 1.5) {
						t.Errorf("Classify = %+v, want ham 1.5", v)
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if p := tc.g.peak.Load(); p != limit {
				t.Errorf("server saw at most %d requests at once, want exactly the limit %d", p, limit)
			}
		})
	}
	if cg.peak.Load() < limit+1 {
		t.Fatalf("callers were not concurrent (peak %d); the test proves nothing", cg.peak.Load())
	}
}

func TestMaxSizeSkipsWithoutSending(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "should not be called", 500)
	}))
	defer srv.Close()
	spamd := closedAddr(t) // any attempt to send would fail
	big := append(append([]byte{}, plainMessage...), make([]byte, 200)...)
	for _, c := range []Classifier{
		NewRspamd(Config{Name: "r", Type: TypeRspamd, URL: srv.URL, MaxSize: 100}),
		NewSpamd(Config{Name: "s", Type: TypeSpamd, Address: spamd, MaxSize: 100}),
		NewCommand(Config{Name: "c", Type: TypeCommand, Command: []string{"false"}, MaxSize: 100}),
	} {
		v, err := c.Classify(context.Background(), big)
		if err != nil || !v.Skipped || v.Spam || v.Classifier != c.Name() {
			t.Errorf("%s: Classify(%d bytes) = %+v, %v; want Skipped", c.Name(), len(big), v, err)
		}
		if c.MaxSize() != 100 {
			t.Errorf("%s: MaxSize() = %d, want 100", c.Name(), c.MaxSize())
		}
	}
	if hits.Load() != 0 {
		t.Errorf("rspamd got %d requests for a message over max_size", hits.Load())
	}
}

// TestCommandConcurrencyLimit runs a command that records when each run
// starts and ends, and checks that no more than the limit overlapped.
func TestCommandConcurrencyLimit(t *testing.T) {
	const limit, requests = 2, 8
	dir := t.TempDir()
	script := writeScript(t, "slow", `cat > /dev/null
f=$(mktemp "`+dir+`/run.XXXXXX")
echo "$(date +%s%N)" > "$f"
sleep 0.2
echo "$(date +%s%N)" >> "$f"
exit 1
`)
	c := NewCommand(Config{Name: "slow", Type: TypeCommand, Command: []string{script}, Concurrency: limit})
	var wg sync.WaitGroup
	for i := 0; i < requests; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.Classify(context.Background(), plainMessage); err != nil || v.Spam {
				t.Errorf("Classify = %+v, %v; want ham", v, err)
			}
		}()
	}
	wg.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "run.*"))
	if len(files) != requests {
		t.Fatalf("%d runs recorded, want %d", len(files), requests)
	}
	type event struct {
		at    int64
		delta int
	}
	var events []event
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var start, end int64
		if _, err := fmt.Sscan(string(data), &start, &end); err != nil {
			t.Fatalf("%s: %q: %v", f, data, err)
		}
		events = append(events, event{start, +1}, event{end, -1})
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at)*2 + cmp.Compare(a.delta, b.delta) })
	now, peak := 0, 0
	for _, e := range events {
		now += e.delta
		peak = max(peak, now)
	}
	if peak > limit || peak < 2 {
		t.Fatalf("at most %d commands ran at once, want %d", peak, limit)
	}
}
