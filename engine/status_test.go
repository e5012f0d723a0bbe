package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
)

func TestStatusPath(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/mailrules/state.db": "/var/lib/mailrules/state.status.json",
		"dir/state":                   "dir/state.status.json",
	} {
		if got := StatusPath(in); got != want {
			t.Errorf("StatusPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadStatusDirectLockedAndPublished(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	if _, err := ReadStatus(path, nil, 50*time.Millisecond); !errors.Is(err, ErrNoState) {
		t.Fatalf("ReadStatus without a state = %v, want ErrNoState", err)
	}
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	st := MailboxState{UIDValidity: 7, HighestUID: 42,
		Pending: &Journal{UIDValidity: 7, From: 43, HighestUID: 50, Attempts: 1,
			Copies: map[string]actions.DestMark{"Lists.go": {UIDNext: 3}, "Archive": {UIDNext: 9}}},
		Retry: []Retry{{UIDs: imap.SeqSetFromNums(3, 4, 9), Attempts: 2, Error: "UID COPY: NO"}}}
	if err := s.Put("work", "INBOX", st); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("home", "INBOX", MailboxState{UIDValidity: 1, HighestUID: 5}); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sum := &PassSummary{Examined: 4, Failed: 1, Actions: map[string]int{"move": 2, "flag": 1}}
	if err := s.PutPass("work", "INBOX", newLastPass(sum, nil, end, 1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPass("home", "INBOX", newLastPass(nil, errors.New("select: NO"), end, 0)); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Accounts: []*config.Account{{Name: "work", Mailboxes: []string{"INBOX", "Lists/go"}}}}

	// Held by this process's store: locked, and nothing published yet.
	if _, err := ReadStatus(path, cfg, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "not published") {
		t.Fatalf("ReadStatus of a locked state without a status file = %v", err)
	}
	var pub publisher
	if err := pub.publish(s, StatusPath(path)); err != nil {
		t.Fatalf("publish = %v", err)
	}
	if fi, err := os.Stat(StatusPath(path)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("status file: %v, %v; want mode 0600", fi, err)
	}
	published, err := ReadStatus(path, cfg, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("ReadStatus of a locked state = %v", err)
	}
	if published.Source != SourcePublished || published.PID != os.Getpid() || time.Since(published.Published) > time.Minute {
		t.Errorf("published status: source %q pid %d at %v", published.Source, published.PID, published.Published)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	direct, err := ReadStatus(path, cfg, time.Second)
	if err != nil {
		t.Fatalf("ReadStatus = %v", err)
	}
	if direct.Source != SourceState || direct.Path != path {
		t.Errorf("direct status: source %q path %q", direct.Source, direct.Path)
	}
	for _, got := range []*Status{published, direct} {
		var names []string
		for _, m := range got.Mailboxes {
			names = append(names, m.Account+"/"+m.Mailbox)
		}
		if strings.Join(names, " ") != "home/INBOX work/INBOX work/Lists/go" {
			t.Fatalf("%s: mailboxes %v", got.Source, names)
		}
		home, work, unknown := got.Mailboxes[0], got.Mailboxes[1], got.Mailboxes[2]
		if home.LastPass == nil || home.LastPass.Result != ResultError || home.LastPass.Error != "select: NO" {
			t.Errorf("%s: home last pass %+v", got.Source, home.LastPass)
		}
		want := LastPass{Time: end, Result: ResultOK, Examined: 4, Actions: 3, Failed: 1, DurationSeconds: 1.5}
		if work.LastPass == nil || *work.LastPass != want {
			t.Errorf("%s: work last pass %+v, want %+v", got.Source, work.LastPass, want)
		}
		if !work.Known || work.UIDValidity != 7 || work.HighestUID != 42 {
			t.Errorf("%s: work %+v", got.Source, work)
		}
		if p := work.Pending; p == nil || p.From != 43 || p.HighestUID != 50 || strings.Join(p.Destinations, ",") != "Archive,Lists.go" || p.Attempts != 1 {
			t.Errorf("%s: pending %+v", got.Source, work.Pending)
		}
		if len(work.Retry) != 1 || work.Retry[0] != (RetryStatus{UIDs: "3:4,9", Attempts: 2, Error: "UID COPY: NO"}) {
			t.Errorf("%s: retry %+v", got.Source, work.Retry)
		}
		if unknown.Known || unknown.LastPass != nil {
			t.Errorf("%s: a mailbox without state: %+v", got.Source, unknown)
		}
	}
}

// TestStatusJSONFieldNames pins the names scripts read.
func TestStatusJSONFieldNames(t *testing.T) {
	st := Status{Source: SourceState, Path: "s.db", Mailboxes: []MailboxStatus{{
		Account: "a", Mailbox: "INBOX", Known: true, UIDValidity: 1, HighestUID: 2,
		LastPass: &LastPass{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Result: "ok", Examined: 1, Actions: 2, Failed: 3, DurationSeconds: 0.5},
		Pending:  &PendingStatus{From: 3, HighestUID: 4, Destinations: []string{"Junk"}, Attempts: 1},
		Retry:    []RetryStatus{{UIDs: "5", Attempts: 1, Error: "NO"}},
	}}}
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"source":"state","path":"s.db","mailboxes":[{"account":"a","mailbox":"INBOX","known":true,"uidvalidity":1,"highest_uid":2,` +
		`"last_pass":{"time":"2026-01-02T03:04:05Z","result":"ok","examined":1,"actions":2,"failed":3,"duration_seconds":0.5},` +
		`"pending":{"from":3,"highest_uid":4,"destinations":["Junk"],"attempts":1},"retry":[{"uids":"5","attempts":1,"error":"NO"}]}]}`
	if string(data) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", data, want)
	}
}

// fakeNotifier collects notifications.
type fakeNotifier struct {
	mu   sync.Mutex
	msgs []string
}

func (f *fakeNotifier) Notify(state string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, state)
	return nil
}

func (f *fakeNotifier) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

func TestNotifyReadyOnceEveryMailboxPassed(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := &fakeNotifier{}
	e := New(&config.Config{}, s, zap.NewNop(), &Options{Notifier: n})
	ctx, cancel := context.WithCancel(context.Background())
	stop := e.startService(ctx)
	e.watching("a", "INBOX")
	e.watching("a", "Spam")
	e.allWatching()
	e.passEnded("a", "INBOX", &PassSummary{Actions: map[string]int{"move": 2}}, nil, time.Millisecond)
	e.watchFailed("a", "Spam")
	e.passEnded("a", "Spam", &PassSummary{Actions: map[string]int{"move": 1, "flag": 3}}, nil, time.Millisecond)
	e.passEnded("a", "Spam", &PassSummary{}, errors.New("boom"), time.Millisecond)
	cancel()
	stop()
	want := []string{
		"STATUS=starting: 0 of 2 mailboxes watched; 0 failing",
		"STATUS=starting: 1 of 2 mailboxes watched; 0 failing",
		"STATUS=starting: 1 of 2 mailboxes watched; 1 failing",
		"READY=1\nSTATUS=watching 2 mailboxes; 4 actions in the last pass; 0 failing",
		"STATUS=watching 2 mailboxes; 0 actions in the last pass; 1 failing",
		"STOPPING=1",
	}
	if got := n.all(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("notifications:\n%q\nwant:\n%q", got, want)
	}
}

func TestWatchdogOnlyWhileHealthy(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := &fakeNotifier{}
	m := NewMetrics()
	e := New(&config.Config{}, s, zap.NewNop(), &Options{Notifier: n, WatchdogInterval: 40 * time.Millisecond, Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := e.startService(ctx)
	defer stop()
	m.watch("a", "INBOX", time.Hour)
	time.Sleep(100 * time.Millisecond)
	if got := n.all(); len(got) != 0 {
		t.Fatalf("before the first pass: %q, want nothing", got)
	}
	m.setConnected("a", "INBOX", true, nil)
	m.observePass("a", "INBOX", &PassSummary{}, nil, time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(strings.Join(n.all(), "|"), "WATCHDOG=1") {
		if time.Now().After(deadline) {
			t.Fatalf("no WATCHDOG=1 while healthy: %q", n.all())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPublishCoalesces: passes in quick succession share one snapshot, the
// one put off is written a publishEvery later, and flush writes it at once.
func TestPublishCoalesces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	status := StatusPath(path)
	var pub publisher
	if err := pub.publish(s, status); err != nil {
		t.Fatalf("publish = %v", err)
	}
	if _, err := os.Stat(status); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("work", "INBOX", MailboxState{UIDValidity: 1}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := pub.publish(s, status); err != nil {
			t.Fatalf("publish = %v", err)
		}
	}
	if data, _ := os.ReadFile(status); strings.Contains(string(data), `"work"`) {
		t.Fatalf("a publish within %v of the last one wrote at once:\n%s", publishEvery, data)
	}
	if err := pub.flush(s, status); err != nil {
		t.Fatalf("flush = %v", err)
	}
	data, err := os.ReadFile(status)
	if err != nil || !strings.Contains(string(data), `"work"`) {
		t.Fatalf("after flush the status file lacks the pass: %v\n%s", err, data)
	}
	// Put off and not flushed: written by the timer.
	time.Sleep(publishEvery + 100*time.Millisecond)
	if err := s.Put("work", "Lists/go", MailboxState{UIDValidity: 1}); err != nil {
		t.Fatal(err)
	}
	pub.publish(s, status) // at once: the last write is old
	if err := s.Put("home", "INBOX", MailboxState{UIDValidity: 1}); err != nil {
		t.Fatal(err)
	}
	pub.publish(s, status) // put off
	if !waitUntil(3*time.Second, func() bool {
		data, _ := os.ReadFile(status)
		return strings.Contains(string(data), `"home"`)
	}) {
		t.Fatal("a put-off publish was never written")
	}
}

func waitUntil(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
