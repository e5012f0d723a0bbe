package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
)

// How `mailrules status` reads the state while `watch` runs: bbolt lets
// one process have the file open for writing, and locks it (flock) for
// as long as it is open, so a reader cannot open it next to the daemon.
// Instead, every process that writes the state (run and watch) also
// publishes a snapshot of it, as JSON, in a status file next to it
// (StatusPath), written to a temporary file and renamed over the old one
// after each pass, so that a reader sees the previous snapshot or the new
// one, never half of one. ReadStatus opens the state itself, read-only,
// when nobody holds it, and falls back on the published file when it is
// locked, saying which source it used and when the file was written.

// passBucket holds one JSON-encoded LastPass per account and mailbox (the
// keys of stateBucket), apart from MailboxState so that recording a pass
// never rewrites the progress a pass depends on.
var passBucket = []byte("passes")

// Where a Status came from.
const (
	// SourceState means the state database was read directly.
	SourceState = "state"
	// SourcePublished means the state database was locked by a running
	// mailrules, and its published status file was read instead.
	SourcePublished = "published"
)

// Results of a pass, as LastPass.Result has them.
const (
	ResultOK    = "ok"
	ResultError = "error"
)

// LastPass is how the last pass over a mailbox ended.
type LastPass struct {
	// Time is when the pass ended.
	Time time.Time `json:"time"`
	// Result is ResultOK or ResultError; Error is the error's text.
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Examined counts the messages the rules were evaluated on; Actions
	// the messages acted on (over every kind of step); Failed the
	// messages whose actions the server refused.
	Examined int `json:"examined"`
	Actions  int `json:"actions"`
	Failed   int `json:"failed"`
	// DurationSeconds is the pass's wall time.
	DurationSeconds float64 `json:"duration_seconds"`
}

// newLastPass summarizes a pass that ended at end with sum (possibly
// partial) and err.
func newLastPass(sum *PassSummary, err error, end time.Time, elapsed time.Duration) LastPass {
	lp := LastPass{Time: end.UTC(), Result: ResultOK, DurationSeconds: elapsed.Seconds()}
	if err != nil {
		lp.Result, lp.Error = ResultError, err.Error()
	}
	if sum != nil {
		lp.Examined, lp.Failed = sum.Examined, sum.Failed
		for _, n := range sum.Actions {
			lp.Actions += n
		}
	}
	return lp
}

// Status is what `mailrules status` shows: the recorded state of every
// mailbox.
type Status struct {
	// Source is SourceState or SourcePublished; Path is the file read.
	Source string `json:"source"`
	Path   string `json:"path"`
	// Published is when the status file was written (SourcePublished),
	// and PID the process that wrote it.
	Published time.Time `json:"published,omitzero"`
	PID       int       `json:"pid,omitempty"`
	// Mailboxes are in account, then mailbox order.
	Mailboxes []MailboxStatus `json:"mailboxes"`
}

// MailboxStatus is the recorded state of one mailbox.
type MailboxStatus struct {
	Account string `json:"account"`
	Mailbox string `json:"mailbox"`
	// Known is false for a configured mailbox that no pass has recorded
	// yet.
	Known bool `json:"known"`
	// UIDValidity and HighestUID are MailboxState's: messages up to
	// HighestUID are done.
	UIDValidity uint32 `json:"uidvalidity"`
	HighestUID  uint32 `json:"highest_uid"`
	// LastPass is nil when no pass was recorded (by mailrules before 0.3,
	// say).
	LastPass *LastPass `json:"last_pass,omitempty"`
	// Pending is the journaled batch in flight, if any.
	Pending *PendingStatus `json:"pending,omitempty"`
	// Retry lists the messages to try again.
	Retry []RetryStatus `json:"retry,omitempty"`
	// Deferred are the messages (an IMAP sequence set) that wait for a
	// classifier's verdict; every pass tries them again.
	Deferred string `json:"deferred,omitempty"`
	// FullPass is set while a run --all has not completed.
	FullPass bool `json:"full_pass,omitempty"`
	// FlagModSeq is the mod-sequence up to which flag rules have handled
	// changes (FlagState.ModSeq); 0 without flag rules or CONDSTORE.
	FlagModSeq uint64 `json:"flag_modseq,omitempty"`
	// Updated is when the state was last written.
	Updated time.Time `json:"updated,omitzero"`
}

// PendingStatus describes a journaled batch that was started and not
// confirmed (Journal).
type PendingStatus struct {
	// From and HighestUID bound the batch's UIDs.
	From       uint32 `json:"from"`
	HighestUID uint32 `json:"highest_uid"`
	// Destinations are the mailboxes (server names) it was copying into.
	Destinations []string `json:"destinations,omitempty"`
	// Attempts counts the passes that found it and tried again.
	Attempts int `json:"attempts"`
}

// RetryStatus is a group of messages whose actions the server refused.
type RetryStatus struct {
	// UIDs is an IMAP sequence set ("3:5,9").
	UIDs     string `json:"uids"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// mailboxStatus renders a recorded state and last pass.
func mailboxStatus(account, mailbox string, st *MailboxState, lp *LastPass) MailboxStatus {
	ms := MailboxStatus{Account: account, Mailbox: mailbox, LastPass: lp}
	if st == nil {
		return ms
	}
	ms.Known = true
	ms.UIDValidity, ms.HighestUID, ms.FullPass, ms.Updated = st.UIDValidity, st.HighestUID, st.FullPass, st.Updated
	if j := st.Pending; j != nil {
		ps := &PendingStatus{From: max(j.From, 1), HighestUID: j.HighestUID, Attempts: j.Attempts}
		for dest := range j.Copies {
			ps.Destinations = append(ps.Destinations, dest)
		}
		slices.Sort(ps.Destinations)
		ms.Pending = ps
	}
	for _, r := range st.Retry {
		ms.Retry = append(ms.Retry, RetryStatus{UIDs: r.UIDs.String(), Attempts: r.Attempts, Error: r.Error})
	}
	if st.Flags != nil {
		ms.FlagModSeq = st.Flags.ModSeq
	}
	if d := append(st.Deferred.Nums(), st.DeferredOld.Nums()...); len(d) > 0 {
		ms.Deferred = imap.SeqSetFromNums(d...).String()
	}
	return ms
}

// PutPass records how the last pass over a mailbox ended.
func (s *Store) PutPass(account, mailbox string, lp LastPass) error {
	v, err := json.Marshal(lp)
	if err != nil {
		return fmt.Errorf("encode last pass of %s/%s: %w", account, mailbox, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(passBucket)
		if err != nil {
			return err
		}
		return b.Put(stateKey(account, mailbox), v)
	})
	if err != nil {
		return fmt.Errorf("write last pass of %s/%s: %w", account, mailbox, err)
	}
	return nil
}

// Mailboxes returns the recorded state and last pass of every mailbox in
// the store, in account, then mailbox order.
func (s *Store) Mailboxes() ([]MailboxStatus, error) {
	var out []MailboxStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		passes := tx.Bucket(passBucket)
		lastPass := func(k []byte) (*LastPass, error) {
			if passes == nil {
				return nil, nil
			}
			v := passes.Get(k)
			if v == nil {
				return nil, nil
			}
			var lp LastPass
			if err := json.Unmarshal(v, &lp); err != nil {
				return nil, fmt.Errorf("last pass of %q: %w", k, err)
			}
			return &lp, nil
		}
		states := tx.Bucket(stateBucket)
		if states == nil {
			return nil
		}
		return states.ForEach(func(k, v []byte) error {
			account, mailbox, ok := strings.Cut(string(k), "\x00")
			if !ok {
				return nil
			}
			var st MailboxState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("state of %s/%s: %w", account, mailbox, err)
			}
			lp, err := lastPass(k)
			if err != nil {
				return err
			}
			out = append(out, mailboxStatus(account, mailbox, &st, lp))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	sortMailboxes(out)
	return out, nil
}

func sortMailboxes(ms []MailboxStatus) {
	slices.SortFunc(ms, func(a, b MailboxStatus) int {
		if c := strings.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		return strings.Compare(a.Mailbox, b.Mailbox)
	})
}

// StatusPath is where the status of the state database at statePath is
// published: next to it, "state.db" giving "state.status.json".
func StatusPath(statePath string) string {
	return strings.TrimSuffix(statePath, filepath.Ext(statePath)) + ".status.json"
}

// ErrNoState is returned by ReadStatus when there is no state database yet.
var ErrNoState = errors.New("no state yet: neither run nor watch has recorded a pass")

// ReadStatus returns the status of the state database at statePath: read
// directly, read-only, when no other process holds it, else (it is locked
// for longer than wait) from the status file the running mailrules
// published next to it. When cfg is given, its mailboxes that nothing was
// recorded for yet are listed too, with Known false.
func ReadStatus(statePath string, cfg *config.Config, wait time.Duration) (*Status, error) {
	st, err := readState(statePath, wait)
	if errors.Is(err, bolterrors.ErrTimeout) {
		st, err = readPublished(StatusPath(statePath))
	}
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		have := map[[2]string]bool{}
		for _, m := range st.Mailboxes {
			have[[2]string{m.Account, m.Mailbox}] = true
		}
		for _, acct := range cfg.Accounts {
			for _, mailbox := range acct.Mailboxes {
				if !have[[2]string{acct.Name, mailbox}] {
					st.Mailboxes = append(st.Mailboxes, MailboxStatus{Account: acct.Name, Mailbox: mailbox})
				}
			}
		}
		sortMailboxes(st.Mailboxes)
	}
	return st, nil
}

// readState opens the state database read-only (a shared lock, which a
// running mailrules's exclusive one excludes) and reads every mailbox.
func readState(path string, wait time.Duration) (*Status, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNoState)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: wait})
	if err != nil {
		return nil, fmt.Errorf("open state %s read-only: %w", path, err)
	}
	defer db.Close()
	ms, err := (&Store{db: db}).Mailboxes()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Status{Source: SourceState, Path: path, Mailboxes: nonNil(ms)}, nil
}

// readPublished reads a status file that a running mailrules published.
func readPublished(path string) (*Status, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the state is locked by a running mailrules that has not published its status at %s yet (it does after each pass)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read published status: %w", err)
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("published status %s: %w", path, err)
	}
	st.Source, st.Path, st.Mailboxes = SourcePublished, path, nonNil(st.Mailboxes)
	return &st, nil
}

func nonNil(ms []MailboxStatus) []MailboxStatus {
	if ms == nil {
		return []MailboxStatus{}
	}
	return ms
}

// publisher writes the status file; its mutex keeps concurrent passes
// (watch has one per mailbox) from racing on the temporary file.
type publisher struct {
	mu    sync.Mutex
	last  time.Time   // when the file was last written
	timer *time.Timer // a publish put off to publishEvery after last
	// warn reports a failure of a publish that was put off.
	warn func(error)
}

// publishEvery bounds how often the status file is written: a snapshot
// reads every mailbox of the store, so passes over many mailboxes in a row
// share one.
const publishEvery = time.Second

// publish writes a snapshot of store to path, at once when the last one is
// older than publishEvery, else once that much after the last one.
func (p *publisher) publish(store *Store, path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if wait := publishEvery - time.Since(p.last); wait > 0 {
		if p.timer == nil {
			p.timer = time.AfterFunc(wait, func() {
				p.mu.Lock()
				defer p.mu.Unlock()
				p.timer = nil
				if err := p.write(store, path); err != nil && p.warn != nil {
					p.warn(err)
				}
			})
		}
		return nil
	}
	return p.write(store, path)
}

// flush writes a publish that was put off now.
func (p *publisher) flush(store *Store, path string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer == nil || !p.timer.Stop() {
		return nil
	}
	p.timer = nil
	return p.write(store, path)
}

// write writes a snapshot of store to path atomically: a temporary file
// in the same directory, renamed over path. p.mu is held.
func (p *publisher) write(store *Store, path string) error {
	p.last = time.Now()
	ms, err := store.Mailboxes()
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(Status{Published: time.Now().UTC(), PID: os.Getpid(), Mailboxes: nonNil(ms)}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	return writeAtomic(path, append(data, '\n'))
}

// writeAtomic replaces path with data so that readers see the old content
// or the new, never a mix; the file is private (0600). It is not synced:
// the snapshot is rewritten after every pass and the state database, not
// this file, is what must survive a crash.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("publish status: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("publish status: write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("publish status: close %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("publish status: %w", err)
	}
	return nil
}
