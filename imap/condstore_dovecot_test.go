package imap_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// TestDovecotCondStore checks CONDSTORE and QRESYNC (RFC 7162) against the
// real Dovecot: HIGHESTMODSEQ on SELECT, FETCH (CHANGEDSINCE) returning
// exactly what another client changed, SEARCH MODSEQ, STORE
// (UNCHANGEDSINCE), VANISHED on UID FETCH and on SELECT (QRESYNC ...), and
// VANISHED instead of EXPUNGE once QRESYNC is enabled.
func TestDovecotCondStore(t *testing.T) {
	dovecottest.Require(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u := srv.NewUser(t)
	var (
		mu      sync.Mutex
		updates []imap.Update
	)
	c := connect(t, srv, u, "plain", &imap.Options{UpdateHandler: func(up imap.Update) {
		mu.Lock()
		updates = append(updates, up)
		mu.Unlock()
	}})
	other := connect(t, srv, u, "plain", nil)
	for i := 1; i <= 5; i++ {
		if _, err := other.Append(ctx, "INBOX", nil, time.Time{}, strings.NewReader(string(testMessage(i, "m")))); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	st, err := c.Select(ctx, "INBOX", &imap.SelectOptions{CondStore: true})
	if err != nil {
		t.Fatalf("Select(CONDSTORE): %v", err)
	}
	if st.HighestModSeq == 0 {
		t.Fatalf("Select(CONDSTORE).HighestModSeq = 0, want the mailbox's HIGHESTMODSEQ")
	}
	base := st.HighestModSeq

	// Another client flags messages 2 and 4.
	if _, err := other.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := other.UIDStore(ctx, imap.SeqSetFromNums(2, 4), imap.StoreAdd, true, []string{imap.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	type change struct {
		uid     uint32
		flagged bool
		modseq  uint64
	}
	var got []change
	_, err = c.UIDFetchWith(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchUID, imap.FetchFlags},
		&imap.FetchOptions{ChangedSince: base}, func(m *imap.FetchMessage) error {
			if m.UID == 0 {
				return nil // the server's unsolicited news of the same change, by sequence number
			}
			got = append(got, change{m.UID, m.HasFlag(imap.FlagFlagged), m.ModSeq})
			return nil
		})
	if err != nil {
		t.Fatalf("UIDFetchWith(CHANGEDSINCE %d): %v", base, err)
	}
	if len(got) != 2 || got[0].uid != 2 || got[1].uid != 4 || !got[0].flagged || !got[1].flagged {
		t.Fatalf("UIDFetchWith(CHANGEDSINCE %d) = %+v, want UIDs 2 and 4, flagged", base, got)
	}
	for _, g := range got {
		if g.modseq <= base {
			t.Errorf("MODSEQ of UID %d = %d, want above %d", g.uid, g.modseq, base)
		}
	}
	high := max(got[0].modseq, got[1].modseq)

	// SEARCH MODSEQ finds the same messages and their highest mod-sequence.
	sd, err := c.UIDSearchExtended(ctx, ptr(imap.ModSeqSince(base+1)), nil)
	if err != nil {
		t.Fatalf("UIDSearchExtended(MODSEQ %d): %v", base+1, err)
	}
	if want := imap.SeqSetFromNums(2, 4); sd.All.String() != want.String() || sd.ModSeq != high {
		t.Errorf("UIDSearchExtended(MODSEQ %d) = %v (MODSEQ %d), want %v (MODSEQ %d)", base+1, sd.All, sd.ModSeq, want, high)
	}

	// STORE (UNCHANGEDSINCE) leaves alone what changed since.
	modified, err := c.UIDStoreUnchangedSince(ctx, imap.SeqSetFromNums(1, 2), base, imap.StoreAdd, true, []string{"$Mine"})
	if err != nil {
		t.Fatalf("UIDStoreUnchangedSince: %v", err)
	}
	if modified.String() != "2" {
		t.Errorf("UIDStoreUnchangedSince(1,2 since %d) modified = %v, want 2", base, modified)
	}

	// QRESYNC: expunges come as VANISHED, by UID.
	if err := c.EnableQResync(ctx); err != nil {
		t.Fatalf("EnableQResync: %v", err)
	}
	st, err = c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	before := st.HighestModSeq
	uidValidity := st.UIDValidity
	if err := other.UIDStore(ctx, imap.SeqSetFromNums(3), imap.StoreAdd, true, []string{imap.FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.UIDExpunge(ctx, imap.SeqSetFromNums(3)); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	var live *imap.VanishedData
	for _, up := range updates {
		if up.Kind == imap.UpdateVanished && !up.Vanished.Earlier {
			live = up.Vanished
		}
		if up.Kind == imap.UpdateExpunge {
			t.Errorf("EXPUNGE update after ENABLE QRESYNC, want VANISHED")
		}
	}
	mu.Unlock()
	if live == nil || live.UIDs.String() != "3" {
		t.Errorf("updates after another client's expunge: VANISHED %+v, want UID 3", live)
	}
	if n := c.Mailbox().Exists; n != 4 {
		t.Errorf("Mailbox().Exists after VANISHED = %d, want 4", n)
	}
	// Asked again, the expunge the client has seen comes as VANISHED (EARLIER).
	vanished, err := c.UIDFetchWith(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchFlags},
		&imap.FetchOptions{ChangedSince: before, Vanished: true}, func(*imap.FetchMessage) error { return nil })
	if err != nil {
		t.Fatalf("UIDFetchWith(VANISHED): %v", err)
	}
	if vanished.String() != "3" {
		t.Errorf("UIDFetchWith(CHANGEDSINCE %d VANISHED) vanished = %v, want 3", before, vanished)
	}

	// A reconnect resynchronises with SELECT (QRESYNC ...): what vanished
	// and what changed since the remembered state, nothing else.
	if err := other.UIDStore(ctx, imap.SeqSetFromNums(5), imap.StoreAdd, true, []string{imap.FlagSeen}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	updates = nil
	mu.Unlock()
	if err := c.Unselect(ctx); err != nil {
		t.Fatal(err)
	}
	st, err = c.Select(ctx, "INBOX", &imap.SelectOptions{QResync: &imap.QResyncState{UIDValidity: uidValidity, ModSeq: before}})
	if err != nil {
		t.Fatalf("Select(QRESYNC): %v", err)
	}
	if st.Vanished.String() != "3" {
		t.Errorf("Select(QRESYNC (%d %d)).Vanished = %v, want 3", uidValidity, before, st.Vanished)
	}
	var changed []uint32
	mu.Lock()
	for _, up := range updates {
		if up.Kind == imap.UpdateFetch {
			changed = append(changed, up.Message.UID)
		}
	}
	mu.Unlock()
	slices.Sort(changed)
	if !slices.Equal(changed, []uint32{5}) {
		t.Errorf("FETCH updates on Select(QRESYNC) for UIDs %v, want [5]", changed)
	}
}

// TestCondStoreNeedsCapability checks that the CONDSTORE commands say what
// is missing on a server without it, rather than sending what it would
// reject.
func TestCondStoreNeedsCapability(t *testing.T) {
	dovecottest.Require(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := dovecottest.Start(&dovecottest.Options{Capability: "IMAP4rev1 IDLE UIDPLUS ENABLE"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Close()
	u := s.NewUser(t)
	c := connect(t, s, u, "plain", nil)
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.UIDFetchWith(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchFlags},
		&imap.FetchOptions{ChangedSince: 1}, func(*imap.FetchMessage) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "CONDSTORE") {
		t.Errorf("UIDFetchWith(CHANGEDSINCE) without CONDSTORE = %v, want an error naming CONDSTORE", err)
	}
	if err := c.EnableQResync(ctx); err == nil {
		t.Errorf("EnableQResync without QRESYNC = nil, want an error")
	}
}

func ptr[T any](v T) *T { return &v }
