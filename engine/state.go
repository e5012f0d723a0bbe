package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/imap"
)

// stateBucket holds one JSON-encoded MailboxState per account and mailbox.
var stateBucket = []byte("mailboxes")

// MailboxState is what mailrules remembers about one mailbox of one account
// between passes.
type MailboxState struct {
	// UIDValidity is the mailbox's UIDVALIDITY when HighestUID was recorded.
	// A different value on the server means every UID was renumbered
	// (RFC 3501 section 2.3.1.1), so HighestUID no longer means anything.
	UIDValidity uint32 `json:"uidvalidity"`
	// HighestUID is the highest UID whose actions are complete: messages
	// with a UID at or below it are never treated as new again, except
	// those in Retry.
	HighestUID uint32 `json:"highest_uid"`
	// Pending is the journal of a batch whose actions were started but not
	// all confirmed; nil when the last batch finished.
	Pending *Journal `json:"pending,omitempty"`
	// Retry holds messages at or below HighestUID whose actions the server
	// refused: the next passes evaluate them again, a bounded number of
	// times (maxAttempts).
	Retry []Retry `json:"retry,omitempty"`
	// Deferred holds messages at or below HighestUID that no rule has
	// decided yet because a classifier gave no verdict (unreachable,
	// timeout, garbage): nothing was done to them, and every pass
	// evaluates them again, without limit, until one is had.
	Deferred imap.SeqSet `json:"deferred,omitempty"`
	// DeferredOld are deferred messages that were not new when deferred
	// (a scope = "all" sweep reached them): evaluated again as old mail.
	DeferredOld imap.SeqSet `json:"deferred_old,omitempty"`
	// FullPass is set while a pass over every message (run --all) has not
	// completed: the next pass goes over every message too.
	FullPass bool `json:"full_pass,omitempty"`
	// Dests are the destinations this mailbox's messages were copied or
	// moved into, each with the UIDNEXT it had reached after (COPYUID):
	// where a later batch's copies begin at the least, known without a
	// STATUS.
	Dests map[string]actions.DestMark `json:"dests,omitempty"`
	// Flags is where the mailbox's flag passes stand (flagstate.go); nil
	// until the first one, or without flag rules.
	Flags *FlagState `json:"flags,omitempty"`
	// Updated is when this record was last written.
	Updated time.Time `json:"updated"`
}

// Journal records a batch in flight that puts messages into other mailboxes
// (see actions.Plan.NeedsJournal). A pass that dies half way leaves it; the
// next pass evaluates the same messages again and, before copying or
// moving any of them, compares them with what each destination received
// from the UID recorded here on, so that nothing lands there twice.
// Nothing is replayed: the rules as they are now decide.
type Journal struct {
	UIDValidity uint32 `json:"uidvalidity"`
	// From and HighestUID bound the UIDs the batch covered.
	From       uint32 `json:"from,omitempty"`
	HighestUID uint32 `json:"highest_uid"`
	// Copies maps each destination (its server name) that the batch
	// started copying into to where it stood just before: its UIDNEXT
	// then, or a lower one known from an earlier pass (MailboxState.Dests).
	Copies map[string]actions.DestMark `json:"copies,omitempty"`
	// Attempts counts the passes that found the journal and tried again.
	Attempts int `json:"attempts,omitempty"`
	// Plan and Done are what journals of mailrules before 0.2 held: the
	// plan and its confirmed steps. Such a journal is not replayed; its
	// copies are checked against every destination from its first UID.
	Plan json.RawMessage `json:"plan,omitempty"`
	Done []int           `json:"done,omitempty"`
}

// covers reports whether the batch may have acted on the message uid.
func (j *Journal) covers(uid uint32) bool {
	return j != nil && uid >= max(j.From, 1) && uid <= j.HighestUID
}

// copyFloor returns the mark of dest from whose UIDNEXT on the interrupted batch may
// have put messages there; ok is false when it put nothing into dest.
func (j *Journal) copyFloor(dest string) (mark actions.DestMark, ok bool) {
	if j == nil {
		return actions.DestMark{}, false
	}
	if len(j.Plan) > 0 {
		return actions.DestMark{UIDNext: 1}, true // an old journal: it did not record where
	}
	mark, ok = j.Copies[dest]
	return mark, ok
}

// Retry is a group of messages whose actions the server refused, with the
// number of passes that tried them and the last refusal.
type Retry struct {
	UIDs     imap.SeqSet `json:"uids"`
	Attempts int         `json:"attempts"`
	Error    string      `json:"error,omitempty"`
}

// Store is the embedded state database (bbolt). It is safe for concurrent
// use by several goroutines; only one process may have it open at a time.
type Store struct {
	db *bolt.DB
}

// OpenStore opens (creating if needed) the state database at path. It fails
// after a few seconds if another mailrules process holds the file.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open state %s: locked by another mailrules process", path)
		}
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	// Create the bucket only when missing: an update commit costs a sync.
	var exists bool
	err = db.View(func(tx *bolt.Tx) error {
		exists = tx.Bucket(stateBucket) != nil
		return nil
	})
	if err == nil && !exists {
		err = db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(stateBucket)
			return err
		})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialize state %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// DefaultStatePath is $XDG_STATE_HOME/mailrules/state.db, falling back to
// ~/.local/state/mailrules/state.db.
func DefaultStatePath() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "mailrules", "state.db")
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

func stateKey(account, mailbox string) []byte {
	return []byte(account + "\x00" + mailbox)
}

// Get returns the state of a mailbox; ok is false when nothing was recorded.
func (s *Store) Get(account, mailbox string) (st MailboxState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(stateBucket).Get(stateKey(account, mailbox))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return MailboxState{}, false, fmt.Errorf("read state of %s/%s: %w", account, mailbox, err)
	}
	return st, ok, nil
}

// Put records the state of a mailbox durably (bbolt syncs each commit).
func (s *Store) Put(account, mailbox string, st MailboxState) error {
	st.Updated = time.Now().UTC()
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state of %s/%s: %w", account, mailbox, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(stateBucket).Put(stateKey(account, mailbox), v)
	})
	if err != nil {
		return fmt.Errorf("write state of %s/%s: %w", account, mailbox, err)
	}
	return nil
}
