package engine

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
)

func TestStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.db")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatalf("OpenStore(%q) = %v", path, err)
	}
	if _, ok, err := s.Get("acct", "INBOX"); err != nil || ok {
		t.Fatalf("Get on empty store = ok %v, err %v; want false, nil", ok, err)
	}
	want := MailboxState{UIDValidity: 7, HighestUID: 42, FullPass: true, Pending: &Journal{
		UIDValidity: 7, HighestUID: 50, Copies: map[string]actions.DestMark{"Lists.go": {UIDValidity: 3, UIDNext: 12}}, Attempts: 1,
	}, Retry: []Retry{{UIDs: imap.SeqSetFromNums(3, 4, 9), Attempts: 2, Error: "imap: UID COPY: NO"}}}
	if err := s.Put("acct", "INBOX", want); err != nil {
		t.Fatalf("Put = %v", err)
	}
	// Another mailbox and another account with a prefix-sharing name must not collide.
	if err := s.Put("acc", "tINBOX", MailboxState{HighestUID: 1}); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	s, err = OpenStore(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, ok, err := s.Get("acct", "INBOX")
	if err != nil || !ok {
		t.Fatalf("Get = ok %v, err %v", ok, err)
	}
	got.Updated = time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
}

// TestJournalCopyFloor: a journal says from which UID of a destination the
// interrupted batch may have copied; one written before Copies existed
// (with a Plan) says "from the first".
func TestJournalCopyFloor(t *testing.T) {
	var none *Journal
	if _, ok := none.copyFloor("A"); ok {
		t.Fatalf("nil journal: copyFloor ok")
	}
	j := &Journal{Copies: map[string]actions.DestMark{"A": {UIDValidity: 3, UIDNext: 7}}}
	if mark, ok := j.copyFloor("A"); mark.UIDNext != 7 || mark.UIDValidity != 3 || !ok {
		t.Fatalf("copyFloor(A) = %+v, %v, want 3/7, true", mark, ok)
	}
	if _, ok := j.copyFloor("B"); ok {
		t.Fatalf("copyFloor(B) ok, want false: nothing was copied there")
	}
	old := &Journal{Plan: json.RawMessage(`{"steps":[]}`), Done: []int{0}}
	if mark, ok := old.copyFloor("B"); mark.UIDNext != 1 || !ok {
		t.Fatalf("old journal copyFloor(B) = %+v, %v, want 1, true", mark, ok)
	}
}

func TestStoreLockedByAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the lock timeout")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt's flock is per open file description, so a second open in the
	// same process contends like a second process would.
	_, err = OpenStore(path)
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second OpenStore = %v, want a 'locked' error", err)
	}
}
