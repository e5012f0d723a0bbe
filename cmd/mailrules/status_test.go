package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/engine"
)

func TestPrintStatus(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 30, 0, time.Local)
	st := &engine.Status{Source: engine.SourcePublished, Path: "/var/lib/mailrules/state.status.json", PID: 42, Published: now.Add(-5 * time.Second),
		Mailboxes: []engine.MailboxStatus{
			{Account: "home", Mailbox: "INBOX", Known: true, UIDValidity: 9, HighestUID: 120,
				LastPass: &engine.LastPass{Time: now.Add(-30 * time.Second), Result: engine.ResultError, Error: "select \"INBOX\":\n NO gone", Examined: 0},
				Pending:  &engine.PendingStatus{From: 121, HighestUID: 130, Destinations: []string{"Junk"}, Attempts: 1},
				Retry:    []engine.RetryStatus{{UIDs: "3:4", Attempts: 2, Error: "NO [TRYCREATE]"}}},
			{Account: "home", Mailbox: "Lists/go"},
			{Account: "work", Mailbox: "INBOX", Known: true, UIDValidity: 1, HighestUID: 7, FullPass: true,
				LastPass: &engine.LastPass{Time: now.Add(-time.Minute), Result: engine.ResultOK, Examined: 12, Actions: 3}},
		}}
	var b bytes.Buffer
	printStatus(&b, st, now)
	want := `source: /var/lib/mailrules/state.status.json, published by the running mailrules (pid 42) at 2026-12-01 10:00:25 (5s ago)

ACCOUNT  MAILBOX   LAST PASS                       RESULT  EXAMINED  ACTIONS  FAILED  UIDVALIDITY  HIGHEST UID  IN FLIGHT  RETRY
home     INBOX     2026-12-01 10:00:00 (30s ago)   error   0         0        0       9            120          121:130    3:4
home     Lists/go  never                           -       -         -        -       -            -            -          -
work     INBOX     2026-12-01 09:59:30 (1m0s ago)  ok      12        3        0       1            7            -          -

home/INBOX: last pass failed: select "INBOX": NO gone
home/INBOX: batch in flight over UIDs 121:130, copying into Junk (resumed 1 time so far); the next pass completes it
home/INBOX: UIDs 3:4 refused 2 times: NO [TRYCREATE]
work/INBOX: a pass over every message (run --all) is not complete yet
`
	if got := b.String(); got != want {
		t.Errorf("printStatus:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(b.String(), "never") {
		t.Errorf("a mailbox without state is not shown as never passed")
	}
}
