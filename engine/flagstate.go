package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// flagsBucket holds, for mailboxes whose server has no CONDSTORE, the flags
// of every message as the last flag pass left them (FlagMap, JSON), apart
// from MailboxState because it grows with the mailbox.
var flagsBucket = []byte("flags")

// FlagState is where the flag passes of a mailbox stand (see flags.go). A
// state file from before flag rules has none: the next flag pass records
// one and evaluates nothing, so that no flag rule fires for every existing
// message after an upgrade.
type FlagState struct {
	// UIDValidity is the mailbox's UIDVALIDITY when the state was
	// recorded; another one means starting from now again.
	UIDValidity uint32 `json:"uidvalidity"`
	// ModSeq is the mailbox's mod-sequence (RFC 7162) up to which flag
	// changes have been handled; 0 without CONDSTORE (the flags are then
	// compared with the FlagMap).
	ModSeq uint64 `json:"modseq,omitempty"`
	// HighestUID is the highest UID flag passes know: a message above it
	// is new to them, and its flags so far are not a change.
	HighestUID uint32 `json:"highest_uid"`
	// Own holds, by UID, the flags mailrules' own actions left on
	// messages since the last flag pass: a change that ends in exactly
	// these flags is mailrules' own and triggers nothing (no loops).
	Own map[uint32][]string `json:"own,omitempty"`
	// NoModSeq is set for a mailbox of a CONDSTORE server that keeps no
	// mod-sequences (NOMODSEQ): its flags are compared like a server's
	// without CONDSTORE.
	NoModSeq bool `json:"nomodseq,omitempty"`
	// Pending is the journal of a flag pass's batch that copies or moves,
	// while it runs: a flag pass that dies half way leaves it, and the
	// next one, which evaluates the same changes again, checks its copies
	// against the destinations first (as Journal does for arrival passes).
	Pending *Journal `json:"pending,omitempty"`
}

// FlagMap is every message's flags by UID, for the flag passes of a server
// without CONDSTORE.
type FlagMap map[uint32][]string

// GetFlagMap returns the FlagMap recorded for a mailbox, or nil.
func (s *Store) GetFlagMap(account, mailbox string) (FlagMap, error) {
	var m FlagMap
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(flagsBucket)
		if b == nil {
			return nil
		}
		v := b.Get(stateKey(account, mailbox))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &m)
	})
	if err != nil {
		return nil, fmt.Errorf("read the flags of %s/%s: %w", account, mailbox, err)
	}
	return m, nil
}

// PutFlagMap records a mailbox's FlagMap durably; nil removes it.
func (s *Store) PutFlagMap(account, mailbox string, m FlagMap) error {
	var v []byte
	if m != nil {
		var err error
		if v, err = json.Marshal(m); err != nil {
			return fmt.Errorf("encode the flags of %s/%s: %w", account, mailbox, err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(flagsBucket)
		if err != nil {
			return err
		}
		if v == nil {
			return b.Delete(stateKey(account, mailbox))
		}
		return b.Put(stateKey(account, mailbox), v)
	})
	if err != nil {
		return fmt.Errorf("write the flags of %s/%s: %w", account, mailbox, err)
	}
	return nil
}

// sameFlags reports whether a and b hold the same flags, in any order,
// ignoring case (RFC 3501 section 2.3.2) and \Recent, which only the
// server changes.
func sameFlags(a, b []string) bool {
	return slices.Equal(normalFlags(a), normalFlags(b))
}

func normalFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if strings.EqualFold(f, `\Recent`) {
			continue
		}
		out = append(out, strings.ToLower(f))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
