// What learning remembers in the state database: per account and
// mailbox, how far new arrivals were looked at; per destination, the
// messages mailrules put there itself; per message, what it was learned
// as and whether it was seen in the junk folder.

package engine

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/imap"
)

var (
	// learnBucket holds one LearnState per account and mailbox.
	learnBucket = []byte("learn")
	// placedBucket holds, per account and destination (server name), the
	// actions.Placed of mailrules' own copies and moves there.
	placedBucket = []byte("placed")
	// learnedBucket holds one key per message (Message-ID, or a hash of
	// the message) and account: "learned as CLASS by CLASSIFIER" and "was
	// in the junk folder", each with the time it was recorded.
	learnedBucket = []byte("learned")
)

// LearnState is how far learning has looked at a mailbox's new arrivals.
type LearnState struct {
	UIDValidity uint32 `json:"uidvalidity"`
	// HighestUID is the highest UID looked at; messages above it are new.
	HighestUID uint32 `json:"highest_uid"`
	// Retry are messages at or below HighestUID whose learning failed (a
	// classifier unavailable): looked at again on the next passes.
	Retry imap.SeqSet `json:"retry,omitempty"`
}

// learnKey is the key of a mailbox's LearnState.
func learnKey(account, mailbox string) []byte { return stateKey(account, mailbox) }

// getLearn returns the learn state of a mailbox; ok is false when none was
// recorded.
func (s *Store) getLearn(account, mailbox string) (st LearnState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(learnBucket)
		if b == nil {
			return nil
		}
		v := b.Get(learnKey(account, mailbox))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return LearnState{}, false, fmt.Errorf("read learn state of %s/%s: %w", account, mailbox, err)
	}
	return st, ok, nil
}

// putLearn records the learn state of a mailbox.
func (s *Store) putLearn(account, mailbox string, st LearnState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode learn state of %s/%s: %w", account, mailbox, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(learnBucket)
		if err != nil {
			return err
		}
		return b.Put(learnKey(account, mailbox), v)
	})
	if err != nil {
		return fmt.Errorf("write learn state of %s/%s: %w", account, mailbox, err)
	}
	return nil
}

// addPlaced records that mailrules put messages into dest (a server
// mailbox name) with these UIDs. A different UIDVALIDITY replaces what was
// recorded.
func (s *Store) addPlaced(account, dest string, p actions.Placed) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(placedBucket)
		if err != nil {
			return err
		}
		key := stateKey(account, dest)
		var old actions.Placed
		if v := b.Get(key); v != nil {
			if err := json.Unmarshal(v, &old); err != nil {
				return err
			}
		}
		if old.UIDValidity == p.UIDValidity {
			p.UIDs = imap.SeqSetFromNums(append(old.UIDs.Nums(), p.UIDs.Nums()...)...)
		}
		v, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return b.Put(key, v)
	})
	if err != nil {
		return fmt.Errorf("record the messages put into %s/%s: %w", account, dest, err)
	}
	return nil
}

// placed returns what mailrules put into dest (a server mailbox name).
func (s *Store) placed(account, dest string) (actions.Placed, error) {
	var p actions.Placed
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(placedBucket)
		if b == nil {
			return nil
		}
		if v := b.Get(stateKey(account, dest)); v != nil {
			return json.Unmarshal(v, &p)
		}
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("read the messages put into %s/%s: %w", account, dest, err)
	}
	return p, nil
}

// dropPlaced forgets the placed UIDs at or below upTo, except those in
// keep: learning has looked at them.
func (s *Store) dropPlaced(account, dest string, uidValidity, upTo uint32, keep imap.SeqSet) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(placedBucket)
		if b == nil {
			return nil
		}
		key := stateKey(account, dest)
		v := b.Get(key)
		if v == nil {
			return nil
		}
		var p actions.Placed
		if err := json.Unmarshal(v, &p); err != nil {
			return err
		}
		if p.UIDValidity != uidValidity {
			return nil
		}
		var left []uint32
		for uid := range p.UIDs.All() {
			if uid > upTo || keep.Contains(uid) {
				left = append(left, uid)
			}
		}
		if len(left) == 0 {
			return b.Delete(key)
		}
		p.UIDs = imap.SeqSetFromNums(left...)
		nv, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return b.Put(key, nv)
	})
	if err != nil {
		return fmt.Errorf("prune the messages put into %s/%s: %w", account, dest, err)
	}
	return nil
}

// learnedKey is the key of one fact about a message: "spam/rspamd",
// "ham/rspamd" or "junk".
func learnedKey(account, msgKey, fact string) []byte {
	return []byte(account + "\x00" + msgKey + "\x00" + fact)
}

func learnedFact(c classify.Class, classifier string) string { return c.String() + "/" + classifier }

// junkFact marks a message that was seen in the junk folder.
const junkFact = "junk"

// hasLearned reports whether a fact about a message was recorded.
func (s *Store) hasLearned(account, msgKey, fact string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(learnedBucket); b != nil {
			ok = b.Get(learnedKey(account, msgKey, fact)) != nil
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read what was learned: %w", err)
	}
	return ok, nil
}

// recordLearned records facts about a message, durably.
func (s *Store) recordLearned(account, msgKey string, facts ...string) error {
	now, _ := time.Now().UTC().MarshalText()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(learnedBucket)
		if err != nil {
			return err
		}
		for _, f := range facts {
			if err := b.Put(learnedKey(account, msgKey, f), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record what was learned: %w", err)
	}
	return nil
}

// pendingInto returns the lowest UID from which a batch of the account
// that has not finished (a journal in some mailbox's state) may have put
// messages into dest, a server mailbox name, under uidValidity; ok is
// false when no batch in flight copies there. Until the batch is done
// and has recorded what it put there, learning holds those UIDs back:
// they may be mailrules' own.
func (s *Store) pendingInto(account, dest string, uidValidity uint32) (from uint32, ok bool, err error) {
	prefix := []byte(account + "\x00")
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(stateBucket).Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			var st MailboxState
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			if st.Pending == nil {
				continue
			}
			mark, copies := st.Pending.copyFloor(dest)
			if !copies || (mark.UIDValidity != 0 && mark.UIDValidity != uidValidity) {
				continue
			}
			if !ok || mark.UIDNext < from {
				from, ok = max(mark.UIDNext, 1), true
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("read the batches in flight of %s: %w", account, err)
	}
	return from, ok, nil
}
