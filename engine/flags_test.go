package engine

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/rules"
)

func TestSameFlags(t *testing.T) {
	tests := []struct {
		a, b []string
		want bool
	}{
		{nil, nil, true},
		{nil, []string{`\Recent`}, true},
		{[]string{`\Seen`, `$Done`}, []string{`$done`, `\SEEN`}, true},
		{[]string{`\Seen`}, []string{`\Seen`, `\Flagged`}, false},
		{[]string{`\Seen`, `\Seen`}, []string{`\Seen`}, true},
		{[]string{`$A`}, []string{`$B`}, false},
	}
	for _, tt := range tests {
		if got := sameFlags(tt.a, tt.b); got != tt.want {
			t.Errorf("sameFlags(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestFlagsAfter(t *testing.T) {
	res := rules.Result{
		AddFlags:    []rules.FlagChange{{Flag: "$Done"}, {Flag: `\Seen`}},
		RemoveFlags: []rules.FlagChange{{Flag: `\Flagged`}},
	}
	got := flagsAfter([]string{`\flagged`, `\Seen`, `$Other`}, res)
	if want := []string{`\Seen`, `$Other`, `$Done`}; !reflect.DeepEqual(got, want) {
		t.Errorf("flagsAfter = %q, want %q", got, want)
	}
}

// TestFlagStateCompatible: a state file written before flag rules has no
// flags record, which decodes as nil (a first flag pass: start from now);
// the flags record and the fallback's flag map survive a round trip.
func TestFlagStateCompatible(t *testing.T) {
	var old MailboxState
	if err := json.Unmarshal([]byte(`{"uidvalidity":7,"highest_uid":42,"updated":"2026-01-02T03:04:05Z"}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Flags != nil || old.HighestUID != 42 {
		t.Fatalf("old state decoded as %+v, want HighestUID 42 and no Flags", old)
	}
	s, err := OpenStore(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m, err := s.GetFlagMap("a", "INBOX"); err != nil || m != nil {
		t.Fatalf("GetFlagMap on a store without the bucket = %v, %v; want nil, nil", m, err)
	}
	want := MailboxState{UIDValidity: 7, HighestUID: 42, Flags: &FlagState{UIDValidity: 7, ModSeq: 1234, HighestUID: 40,
		Own: map[uint32][]string{3: {`\Flagged`, "$Done"}}}}
	if err := s.Put("a", "INBOX", want); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Get("a", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Flags, want.Flags) {
		t.Errorf("Get().Flags = %+v, want %+v", got.Flags, want.Flags)
	}
	m := FlagMap{1: nil, 2: {`\Seen`}}
	if err := s.PutFlagMap("a", "INBOX", m); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetFlagMap("a", "INBOX"); err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("GetFlagMap = %v, %v; want %v", got, err, m)
	}
	if err := s.PutFlagMap("a", "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetFlagMap("a", "INBOX"); err != nil || got != nil {
		t.Errorf("GetFlagMap after PutFlagMap(nil) = %v, %v; want nil", got, err)
	}
}

// TestObserveFlagPass: a flag pass adds to the mailbox's counters but is no
// pass of its own.
func TestObserveFlagPass(t *testing.T) {
	m, _ := newTestMetrics()
	m.observePass("work", "INBOX", &PassSummary{Examined: 1, Matched: map[string]int{"spam": 1}, Actions: map[string]int{"move": 1}}, nil, time.Millisecond)
	m.observeFlagPass("work", "INBOX", &PassSummary{Examined: 2, Matched: map[string]int{"done": 2}, Actions: map[string]int{"add-flags": 2}})
	m.observeFlagPass("work", "INBOX", nil)
	mm := m.get("work", "INBOX")
	if mm.passesOK != 1 || mm.examined != 3 || mm.matches["done"] != 2 || mm.matches["spam"] != 1 || mm.actions["add-flags"] != 2 {
		t.Errorf("after a pass and a flag pass: passes %d, examined %d, matches %v, actions %v; want 1, 3, done=2 spam=1, add-flags=2",
			mm.passesOK, mm.examined, mm.matches, mm.actions)
	}
}

// TestStatusShowsFlagModSeq: mailrules status --json says where the flag
// rules stand.
func TestStatusShowsFlagModSeq(t *testing.T) {
	st := &MailboxState{UIDValidity: 1, HighestUID: 9, Flags: &FlagState{UIDValidity: 1, ModSeq: 77, HighestUID: 9}}
	ms := mailboxStatus("a", "INBOX", st, nil)
	data, err := json.Marshal(ms)
	if err != nil {
		t.Fatal(err)
	}
	if ms.FlagModSeq != 77 || !strings.Contains(string(data), `"flag_modseq":77`) {
		t.Errorf("mailboxStatus with flag state = %s, want flag_modseq 77", data)
	}
}
