package imap_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// TestDovecotNotifySetAgain: a second NOTIFY SET (a changed mailbox list)
// keeps STATUS notifications coming for the mailboxes it names.
func TestDovecotNotifySetAgain(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	ctx := context.Background()
	log := newUpdateLog()
	watcher := connect(t, srv, u, "plain", &imap.Options{UpdateHandler: log.add})
	writer := connect(t, srv, u, "plain", nil)
	for _, f := range []string{"A", "B"} {
		if err := writer.Create(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	set := func(boxes ...string) {
		t.Helper()
		err := watcher.NotifySet(ctx, &imap.NotifyOptions{Groups: []imap.NotifyGroup{
			{Filter: imap.NotifySelected, Events: []imap.NotifyEvent{imap.EventMessageNew, imap.EventMessageExpunge, imap.EventFlagChange}},
			{Filter: imap.NotifyMailboxes, Mailboxes: boxes, Events: []imap.NotifyEvent{imap.EventMessageNew, imap.EventMessageExpunge, imap.EventFlagChange}},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	set("INBOX", "A")
	if _, err := watcher.Select(ctx, "A", nil); err != nil {
		t.Fatal(err)
	}
	set("INBOX", "B")
	if _, err := watcher.Select(ctx, "B", nil); err != nil {
		t.Fatal(err)
	}
	idleCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- watcher.Idle(idleCtx, log.add) }()
	time.Sleep(100 * time.Millisecond)
	if _, err := writer.Append(ctx, "INBOX", nil, time.Time{}, strings.NewReader("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	_, ok := log.waitFor(5*time.Second, statusOf("INBOX"))
	stop()
	<-done
	if !ok {
		t.Fatalf("no STATUS INBOX after a second NOTIFY SET; updates %+v", log.u)
	}
}
