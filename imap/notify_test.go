package imap

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestNotifyUpdates checks what the connection's NOTIFY handlers make of
// the responses RFC 5465 defines: STATUS of another mailbox, LIST with
// OLDNAME and \NonExistent, and NOTIFICATIONOVERFLOW, which also ends the
// routing of STATUS.
func TestNotifyUpdates(t *testing.T) {
	input := "* STATUS Work (MESSAGES 3 UIDNEXT 7)\r\n" +
		"* LIST (\\HasNoChildren) \".\" Older (\"OLDNAME\" (\"Old\"))\r\n" +
		"* LIST (\\NonExistent) \".\" Gone\r\n" +
		"* OK [NOTIFICATIONOVERFLOW] too many\r\n" +
		"* STATUS Work (MESSAGES 4)\r\n" +
		"A1 OK done\r\n"
	var updates []Update
	c := parseClient(t, input, &Options{UpdateHandler: func(u Update) { updates = append(updates, u) }})
	c.notifyRoutes(true)
	for {
		kind, err := c.readResponse()
		if err != nil {
			t.Fatalf("readResponse: %v", err)
		}
		if kind == respTagged {
			break
		}
	}
	var kinds []UpdateKind
	for _, u := range updates {
		kinds = append(kinds, u.Kind)
	}
	if want := []UpdateKind{UpdateStatus, UpdateMailbox, UpdateMailbox, UpdateOverflow}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("update kinds = %v, want %v (%+v)", kinds, want, updates)
	}
	if s := updates[0].Status; s.Mailbox != "Work" || *s.Messages != 3 || *s.UIDNext != 7 {
		t.Errorf("STATUS update = %+v", s)
	}
	if l := updates[1].List; l.Name != "Older" || l.OldName != "Old" {
		t.Errorf("LIST update = %+v, want Older with OLDNAME Old", l)
	}
	if l := updates[2].List; !l.HasAttr(`\NonExistent`) || l.OldName != "" {
		t.Errorf("LIST update = %+v, want \\NonExistent", l)
	}
}

// TestNotifySetCommand checks the command line NotifySet sends and its
// local checks (RFC 5465 section 8).
func TestNotifySetCommand(t *testing.T) {
	var sent strings.Builder
	c := parseClient(t, "A1 OK NOTIFY completed\r\n", nil)
	c.caps[CapNotify] = struct{}{}
	c.bw.Reset(&sent)
	err := c.NotifySet(context.Background(), &NotifyOptions{Groups: []NotifyGroup{
		{Filter: NotifySelected, Events: []NotifyEvent{EventMessageNew, EventMessageExpunge}, FetchAtt: []string{"UID"}},
		{Filter: NotifyMailboxes, Mailboxes: []string{"Work", "Entwürfe"}, Events: []NotifyEvent{EventMessageNew, EventMessageExpunge, EventFlagChange}},
		{Filter: NotifyPersonal, Events: []NotifyEvent{EventMailboxName}},
		{Filter: NotifySubscribed},
	}})
	if err != nil {
		t.Fatalf("NotifySet = %v", err)
	}
	want := "A1 NOTIFY SET (selected (MessageNew (UID) MessageExpunge)) (mailboxes (Work Entw&APw-rfe) (MessageNew MessageExpunge FlagChange)) (personal (MailboxName)) (subscribed NONE)\r\n"
	if sent.String() != want {
		t.Errorf("NotifySet sent %q, want %q", sent.String(), want)
	}
	for _, bad := range []NotifyGroup{
		{Filter: NotifyMailboxes, Events: []NotifyEvent{EventMailboxName}},
		{Filter: NotifyPersonal, Mailboxes: []string{"X"}},
		{Filter: NotifyPersonal, Events: []NotifyEvent{EventFlagChange}},
		{Filter: NotifyPersonal, Events: []NotifyEvent{EventMessageNew, EventMessageExpunge}, FetchAtt: []string{"UID"}},
		{Filter: "subtree-one", Mailboxes: []string{"X"}},
	} {
		if err := checkNotify(&NotifyOptions{Groups: []NotifyGroup{bad}}); err == nil {
			t.Errorf("checkNotify(%+v) = nil, want an error", bad)
		}
	}
}
