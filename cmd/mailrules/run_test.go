package main

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/mailrules/mailrules/rules"
)

// TestStampedWriterConcurrent writes from several goroutines, as the
// connections of several accounts do, and checks every line arrives whole
// with its time stamp (and, under -race, that the writer is safe).
func TestStampedWriterConcurrent(t *testing.T) {
	var out bytes.Buffer
	w := &stampedWriter{w: &out}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				line := strings.Repeat(string(rune('a'+g)), 10+i%7) + "\n"
				if n, err := w.Write([]byte(line)); err != nil || n != len(line) {
					t.Errorf("Write = %d, %v; want %d, nil", n, err, len(line))
				}
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("got %d lines, want 800", len(lines))
	}
	stamp := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{6} ([a-h]+)$`)
	for _, l := range lines {
		m := stamp.FindStringSubmatch(l)
		if m == nil || strings.Trim(m[1], m[1][:1]) != "" || len(m[1]) < 10 || len(m[1]) > 16 {
			t.Fatalf("line %q is not one time-stamped write", l)
		}
	}
}

func TestDescribeSweep(t *testing.T) {
	for _, tc := range []struct {
		f    *rules.Filter
		want string
	}{
		{nil, "sweeps the whole mailbox"},
		{&rules.Filter{Op: rules.FilterAll}, "sweeps the whole mailbox"},
		{&rules.Filter{Op: rules.FilterNone}, "sweeps no old mail"},
		{&rules.Filter{Op: rules.FilterFlag, Flag: `\Flagged`}, "UID SEARCH"},
	} {
		if got := describeSweep(tc.f); !strings.Contains(got, tc.want) {
			t.Errorf("describeSweep(%v) = %q, want it to contain %q", tc.f, got, tc.want)
		}
	}
}
