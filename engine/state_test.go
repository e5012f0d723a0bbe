package engine

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
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
	want := MailboxState{UIDValidity: 7, HighestUID: 42, Pending: &Journal{
		UIDValidity: 7, HighestUID: 50, Plan: json.RawMessage(`{"steps":[]}`), Done: []int{0, 2},
	}}
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
	if got.UIDValidity != 7 || got.HighestUID != 42 || got.Pending == nil || got.Pending.HighestUID != 50 {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
	if !got.Pending.IsDone(2) || got.Pending.IsDone(1) {
		t.Fatalf("Pending.Done = %v, want [0 2]", got.Pending.Done)
	}
	if string(got.Pending.Plan) != `{"steps":[]}` {
		t.Fatalf("Pending.Plan = %s", got.Pending.Plan)
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
