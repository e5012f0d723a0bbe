package imap_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// updateLog collects the updates a watcher receives from the reader
// goroutine while the test reads them.
type updateLog struct {
	mu sync.Mutex
	u  []imap.Update
	ch chan struct{}
}

func newUpdateLog() *updateLog { return &updateLog{ch: make(chan struct{}, 100)} }

func (l *updateLog) add(u imap.Update) {
	l.mu.Lock()
	l.u = append(l.u, u)
	l.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
	default:
	}
}

// waitFor waits for an update that matches, up to timeout.
func (l *updateLog) waitFor(timeout time.Duration, match func(imap.Update) bool) (imap.Update, bool) {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		for _, u := range l.u {
			if match(u) {
				l.mu.Unlock()
				return u, true
			}
		}
		l.mu.Unlock()
		select {
		case <-l.ch:
		case <-deadline:
			return imap.Update{}, false
		}
	}
}

func statusOf(mailbox string) func(imap.Update) bool {
	return func(u imap.Update) bool {
		return u.Kind == imap.UpdateStatus && u.Status != nil && u.Status.Mailbox == mailbox
	}
}

// TestDovecotNotify: with NOTIFY SET, one connection that has INBOX
// selected and waits in IDLE hears about new mail in other mailboxes
// (STATUS with MESSAGES and UIDNEXT), mailbox renames (LIST with
// OLDNAME), and nothing after NOTIFY NONE.
func TestDovecotNotify(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	ctx := context.Background()
	log := newUpdateLog()
	watcher := connect(t, srv, u, "plain", &imap.Options{UpdateHandler: log.add})
	writer := connect(t, srv, u, "plain", nil)
	if !watcher.Has(imap.CapNotify) {
		t.Fatalf("Dovecot does not advertise NOTIFY: %v", watcher.Caps())
	}
	folders := []string{"Lists", "Lists.go", "Work", "Old"}
	for _, f := range folders {
		if err := writer.Create(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := watcher.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	err := watcher.NotifySet(ctx, &imap.NotifyOptions{Status: true, Groups: []imap.NotifyGroup{
		{Filter: imap.NotifySelected, Events: []imap.NotifyEvent{imap.EventMessageNew, imap.EventMessageExpunge, imap.EventFlagChange}},
		{Filter: imap.NotifyMailboxes, Mailboxes: []string{"Work", "Old"}, Events: []imap.NotifyEvent{imap.EventMessageNew, imap.EventMessageExpunge, imap.EventFlagChange, imap.EventMailboxName}},
		{Filter: imap.NotifySubtree, Mailboxes: []string{"Lists"}, Events: []imap.NotifyEvent{imap.EventMessageNew, imap.EventMessageExpunge}},
		{Filter: imap.NotifyPersonal, Events: []imap.NotifyEvent{imap.EventMailboxName}},
	}})
	if err != nil {
		t.Fatalf("NotifySet = %v", err)
	}
	// STATUS asked the server for the current state of every mailbox of
	// the non-selected groups.
	for _, f := range []string{"Work", "Old", "Lists", "Lists.go"} {
		if _, ok := log.waitFor(5*time.Second, statusOf(f)); !ok {
			t.Errorf("NOTIFY SET STATUS: no STATUS for %s; updates %+v", f, log.u)
		}
	}

	idleCtx, stopIdle := context.WithCancel(ctx)
	idleDone := make(chan error, 1)
	go func() { idleDone <- watcher.Idle(idleCtx, log.add) }()
	time.Sleep(100 * time.Millisecond)

	for _, f := range []string{"Work", "Lists.go"} {
		log.mu.Lock()
		log.u = nil
		log.mu.Unlock()
		start := time.Now()
		if _, err := writer.Append(ctx, f, nil, time.Time{}, strings.NewReader("Subject: new\r\n\r\nhi\r\n")); err != nil {
			t.Fatal(err)
		}
		up, ok := log.waitFor(10*time.Second, statusOf(f))
		if !ok {
			t.Fatalf("no STATUS for %s after APPEND during IDLE; updates %+v", f, log.u)
		}
		if up.Status.Messages == nil || *up.Status.Messages != 1 || up.Status.UIDNext == nil || *up.Status.UIDNext != 2 {
			t.Errorf("STATUS %s = %+v, want MESSAGES 1 UIDNEXT 2", f, up.Status)
		}
		t.Logf("STATUS %s seen %v after APPEND", f, time.Since(start).Round(time.Millisecond))
	}
	// A rename of a watched mailbox: LIST with OLDNAME.
	if err := writer.Rename(ctx, "Old", "Older"); err != nil {
		t.Fatal(err)
	}
	up, ok := log.waitFor(10*time.Second, func(u imap.Update) bool { return u.Kind == imap.UpdateMailbox })
	if !ok {
		t.Fatalf("no LIST after RENAME; updates %+v", log.u)
	}
	if up.List.Name != "Older" || up.List.OldName != "Old" {
		t.Errorf("LIST after RENAME = %+v, want Older with OLDNAME Old", up.List)
	}
	stopIdle()
	if err := <-idleDone; err != nil {
		t.Fatalf("Idle = %v", err)
	}

	// A STATUS command while NOTIFY is on still returns its own mailbox.
	st, err := watcher.Status(ctx, "Work")
	if err != nil || st.Mailbox != "Work" || st.Messages == nil || *st.Messages != 1 {
		t.Fatalf("Status(Work) with NOTIFY = %+v, %v", st, err)
	}

	if err := watcher.NotifyNone(ctx); err != nil {
		t.Fatalf("NotifyNone = %v", err)
	}
	log.mu.Lock()
	log.u = nil
	log.mu.Unlock()
	if _, err := writer.Append(ctx, "Work", nil, time.Time{}, strings.NewReader("Subject: new\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	idleCtx, stopIdle = context.WithTimeout(ctx, 1500*time.Millisecond)
	defer stopIdle()
	if err := watcher.Idle(idleCtx, log.add); err != nil {
		t.Fatal(err)
	}
	if up, ok := log.waitFor(0, statusOf("Work")); ok {
		t.Errorf("STATUS after NOTIFY NONE: %+v", up.Status)
	}
}

// TestDovecotNotifyRejected: a NOTIFY SET the server refuses comes back as
// an *Error, and a malformed one is refused before anything is sent.
func TestDovecotNotifyRejected(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	ctx := context.Background()
	c := connect(t, srv, u, "plain", nil)
	err := c.NotifySet(ctx, &imap.NotifyOptions{Groups: []imap.NotifyGroup{
		{Filter: imap.NotifyPersonal, Events: []imap.NotifyEvent{"NoSuchEvent"}},
	}})
	var ie *imap.Error
	if !errors.As(err, &ie) {
		t.Fatalf("NotifySet(unknown event) = %v, want *imap.Error", err)
	}
	t.Logf("Dovecot says: %v", err)
	err = c.NotifySet(ctx, &imap.NotifyOptions{Groups: []imap.NotifyGroup{
		{Filter: imap.NotifyPersonal, Events: []imap.NotifyEvent{imap.EventMessageNew}},
	}})
	if err == nil || errors.As(err, &ie) {
		t.Fatalf("NotifySet(MessageNew without MessageExpunge) = %v, want a local error", err)
	}
	// The connection still works.
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestDovecotListStatus: one LIST ... RETURN (STATUS ...) answers for
// several mailboxes at once.
func TestDovecotListStatus(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	ctx := context.Background()
	c := connect(t, srv, u, "plain", nil)
	names := []string{"A", "B", "C.D"}
	for i, n := range names {
		if err := c.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
		for j := 0; j <= i; j++ {
			if _, err := c.Append(ctx, n, nil, time.Time{}, strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\nhi\r\n", j))); err != nil {
				t.Fatal(err)
			}
		}
	}
	lists, statuses, err := c.ListStatus(ctx, "", append(names, "Nonexistent"), imap.StatusMessages, imap.StatusUIDNext, imap.StatusUnseen)
	if err != nil {
		t.Fatalf("ListStatus = %v", err)
	}
	if len(lists) != 3 {
		t.Errorf("ListStatus lists = %d, want 3", len(lists))
	}
	got := map[string]uint32{}
	for _, s := range statuses {
		if s.Messages == nil || s.UIDNext == nil || s.Unseen == nil {
			t.Errorf("STATUS %s lacks an item: %+v", s.Mailbox, s)
			continue
		}
		got[s.Mailbox] = *s.Messages
	}
	for i, n := range names {
		if got[n] != uint32(i+1) {
			t.Errorf("ListStatus MESSAGES of %s = %d, want %d (all %v)", n, got[n], i+1, got)
		}
	}
	if keys := len(got); keys != 3 || slices.Contains(statusNames(statuses), "Nonexistent") {
		t.Errorf("ListStatus statuses = %v", statusNames(statuses))
	}
}

func statusNames(ss []*imap.StatusData) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Mailbox)
	}
	return out
}
