// Learning from the user's moves: a message the user moves into the junk
// folder is learned as spam, one moved out of it into a ham folder as ham.

package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/message"
)

// LearnSummary counts what learning did in one mailbox. Counts are per
// message and classifier.
type LearnSummary struct {
	Account, Mailbox string
	Class            classify.Class
	// Learned counts the lessons a classifier took (or, in a dry run,
	// would be given); Already those recorded before, which are not given
	// again; Failed those a classifier refused or could not take (tried
	// again on the next pass); Skipped those over a classifier's max_size.
	Learned, Already, Failed, Skipped int
	// Ours counts the messages mailrules put there itself, which are not
	// learned from.
	Ours int
}

// NotJunkFlag is the keyword set on a message the user moved out of the
// junk folder into a ham folder, once it is learned as ham.
const NotJunkFlag = "$NotJunk"

// learnCandidate is a message that learning looks at.
type learnCandidate struct {
	uid   uint32
	msgID string
	size  int64
	ours  bool
}

// messageKey identifies a message across mailboxes for the learned
// records: its Message-ID, or, without one, a hash of its bytes (a move
// keeps them).
func messageKey(msgID string, raw []byte) string {
	if msgID != "" {
		return "id:" + msgID
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// learnClassifiers returns the account's learn classifiers; a name with no
// classifier is an error (the config check prevents it).
func (e *Engine) learnClassifiers(lr *config.Learn) ([]classify.Classifier, error) {
	var out []classify.Classifier
	for _, name := range lr.Classifiers {
		c := e.classifier(name)
		if c == nil {
			return nil, fmt.Errorf("learn: classifier %q is not configured", name)
		}
		out = append(out, c)
	}
	return out, nil
}

// isLearnFolder reports whether mailbox is the account's junk or one of
// its ham folders.
func (s *session) isLearnFolder(mailbox string) bool {
	lr := s.acct.Learn
	return lr != nil && (lr.IsJunk(mailbox) || lr.IsHam(mailbox))
}

// learnNew learns from the messages that arrived in mailbox, a learn
// folder, since the last look; the first look only records where the
// mailbox stands. Messages mailrules put there itself are not learned
// from. A missing mailbox (no junk folder yet) is nothing to learn from.
func (s *session) learnNew(ctx context.Context, mailbox string) (*LearnSummary, error) {
	sum, err := s.learnMailbox(ctx, mailbox, false)
	s.e.opts.Metrics.observeLearn(sum)
	return sum, err
}

// watchRound is what watch does for a mailbox when it has news: learn
// from the user's moves when it is a learn folder (a failure is logged and
// tried again next time, unless the connection broke), then the flag pass
// and the pass (passes).
func (s *session) watchRound(ctx context.Context, mailbox string) (*PassSummary, error) {
	if s.isLearnFolder(mailbox) && !s.e.opts.All {
		if _, err := s.learnNew(ctx, mailbox); err != nil {
			if s.broken() {
				return nil, err
			}
			s.log.Error("learning failed", zap.String("mailbox", mailbox), zap.Error(err))
		}
	}
	return s.passes(ctx, mailbox) // flags.go: the flag pass, then pass
}

// recordPlaced records the UIDs that this pass's copies and moves got in
// the account's learn folders (COPYUID), so that learning does not take
// mailrules' own filing for the user's. A server without UIDPLUS reports
// none: its messages filed into Junk by rules are then learned as spam.
func (p *mailboxPass) recordPlaced(ctx context.Context, report *actions.Report) error {
	if p.acct.Learn == nil || len(report.Placed) == 0 {
		return nil
	}
	for _, mb := range p.acct.Learn.Mailboxes() {
		server, err := p.serverName(ctx, mb)
		if err != nil {
			return err
		}
		if placed, ok := report.Placed[server]; ok {
			if err := p.e.store.addPlaced(p.acct.Name, server, placed); err != nil {
				return err
			}
		}
	}
	return nil
}

// learnAndReport learns from mailbox's new arrivals and returns an error
// for the run's exit code when something failed (logged already).
func (s *session) learnAndReport(ctx context.Context, mailbox string) error {
	sum, err := s.learnNew(ctx, mailbox)
	if err != nil {
		s.log.Error("learning failed", zap.String("mailbox", mailbox), zap.Error(err))
		return fmt.Errorf("account %q mailbox %q: learn: %w", s.acct.Name, mailbox, err)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("account %q mailbox %q: %d lessons failed and are tried again on the next pass; see the log",
			s.acct.Name, mailbox, sum.Failed)
	}
	return nil
}

// learnMailbox looks at mailbox, the junk folder or a ham folder: every
// message in it (all, for mailrules learn) or its new arrivals.
//
// Junk: every message is recorded as seen in the junk folder, and those
// the user put there (not mailrules) are learned as spam. Ham folder: a
// new arrival that was seen in the junk folder is learned as ham; with all,
// every message is. A lesson is recorded after the classifier took it and
// never given twice; a crash between the two gives it once more, which
// the classifiers take as a repeat.
func (s *session) learnMailbox(ctx context.Context, mailbox string, all bool) (*LearnSummary, error) {
	e, lr := s.e, s.acct.Learn
	class := classify.Ham
	if lr.IsJunk(mailbox) {
		class = classify.Spam
	}
	sum := &LearnSummary{Account: s.acct.Name, Mailbox: mailbox, Class: class}
	log := s.log.With(zap.String("mailbox", mailbox), zap.Stringer("learn", class))
	classifiers, err := e.learnClassifiers(lr)
	if err != nil {
		return sum, err
	}
	server, err := s.serverName(ctx, mailbox)
	if err != nil {
		return sum, err
	}
	st, known, err := e.store.getLearn(s.acct.Name, mailbox)
	if err != nil {
		return sum, err
	}
	status, err := s.open(ctx, server)
	var ierr *imap.Error
	if errors.As(err, &ierr) && !errors.Is(err, imap.ErrAbort) {
		log.Debug("nothing to learn from: the mailbox cannot be opened", zap.Error(err))
		if !known && !all && !e.opts.DryRun {
			// Everything that arrives once it exists is new.
			return sum, e.store.putLearn(s.acct.Name, mailbox, LearnState{})
		}
		return sum, nil
	}
	if err != nil {
		return sum, err
	}
	if known && st.UIDValidity == 0 && st.HighestUID == 0 {
		st.UIDValidity = status.UIDValidity // created since the first look
	}
	if !all && (!known || st.UIDValidity != status.UIDValidity) {
		last, err := s.lastUID(ctx, status)
		if err != nil {
			return sum, err
		}
		log.Info("learning from this mailbox starts with the messages arriving from now on (mailrules learn teaches from what is there)",
			zap.Uint32("highest_uid", last))
		if e.opts.DryRun {
			return sum, nil
		}
		return sum, e.store.putLearn(s.acct.Name, mailbox, LearnState{UIDValidity: status.UIDValidity, HighestUID: last})
	}
	set := imap.SeqSet{{Start: 1, Stop: 0}}
	if !all {
		if status.UIDNext != 0 && status.UIDNext <= st.HighestUID+1 && len(st.Retry) == 0 {
			return sum, nil
		}
		set = append(slices.Clone(st.Retry), imap.SeqRange{Start: st.HighestUID + 1, Stop: 0})
	}
	placed, err := e.store.placed(s.acct.Name, server)
	if err != nil {
		return sum, err
	}
	if placed.UIDValidity != status.UIDValidity {
		placed.UIDs = nil
	}
	// A batch of ours still copying or moving here (another mailbox's
	// watcher, or an interrupted pass) may have put messages here that it
	// has not recorded yet: those wait for the next pass.
	holdFrom, hold, err := e.store.pendingInto(s.acct.Name, server, status.UIDValidity)
	if err != nil {
		return sum, err
	}
	var held []uint32

	// Phase one: which messages, with their Message-IDs.
	var cands []learnCandidate
	maxUID := st.HighestUID
	items := []imap.FetchItem{imap.FetchUID, imap.FetchRFC822Size, imap.FetchHeaderFields("MESSAGE-ID")}
	for _, piece := range set.Chunks(0) {
		err := s.client.UIDFetch(ctx, piece, items, func(m *imap.FetchMessage) error {
			if m.UID == 0 || (!all && m.UID <= st.HighestUID && !st.Retry.Contains(m.UID)) {
				return nil
			}
			maxUID = max(maxUID, m.UID)
			if hold && !all && m.UID >= holdFrom && !placed.UIDs.Contains(m.UID) {
				held = append(held, m.UID)
				return nil
			}
			var hdr []byte
			if len(m.Sections) > 0 {
				hdr = m.Sections[0].Data
			}
			cands = append(cands, learnCandidate{uid: m.UID, msgID: message.ID(hdr), size: m.Size, ours: placed.UIDs.Contains(m.UID)})
			return nil
		})
		if err != nil {
			return sum, s.note(fmt.Errorf("fetch from %q to learn: %w", server, err))
		}
	}

	// Which need the whole message: a lesson to give, or a key to make.
	var whole []learnCandidate
	for _, c := range cands {
		if c.ours && !all {
			sum.Ours++
			if class == classify.Spam && c.msgID != "" && !e.opts.DryRun {
				// Put there by a rule: not a lesson, but moved out by the
				// user later, it is one (as ham).
				if err := e.store.recordLearned(s.acct.Name, messageKey(c.msgID, nil), junkFact); err != nil {
					return sum, err
				}
			}
			if c.msgID != "" || class == classify.Ham {
				continue
			}
		}
		if c.msgID != "" {
			need, already, err := s.needsLesson(messageKey(c.msgID, nil), class, classifiers, all)
			sum.Already += already
			if err != nil {
				return sum, err
			}
			if !need {
				continue
			}
		}
		whole = append(whole, c)
	}

	// Phase two: fetch those whole and teach.
	var (
		mu      sync.Mutex
		failed  []uint32
		rescued []uint32 // moved out of Junk by the user and learned as ham
	)
	limit := int64(0)
	for _, c := range classifiers {
		limit = max(limit, c.MaxSize()+1)
	}
	wholeItems := []imap.FetchItem{imap.FetchUID, imap.FetchSection("", true, 0, limit)}
	byUID := make(map[uint32]learnCandidate, len(whole))
	uids := make([]uint32, 0, len(whole))
	for _, c := range whole {
		byUID[c.uid] = c
		uids = append(uids, c.uid)
	}
	for start := 0; start < len(uids); start += classifyBatch {
		batch := uids[start:min(start+classifyBatch, len(uids))]
		type held struct {
			learnCandidate
			raw []byte
		}
		var msgs []held
		err := s.client.UIDFetch(ctx, imap.SeqSetFromNums(batch...), wholeItems, func(m *imap.FetchMessage) error {
			c, ok := byUID[m.UID]
			if ok && len(m.Sections) > 0 {
				msgs = append(msgs, held{c, slices.Clone(m.Sections[0].Data)})
			}
			return nil
		})
		if err != nil {
			return sum, s.note(fmt.Errorf("fetch whole messages from %q to learn: %w", server, err))
		}
		var (
			wg  sync.WaitGroup
			sem = make(chan struct{}, classifyConcurrency)
		)
		for _, h := range msgs {
			key := messageKey(h.msgID, h.raw)
			if h.ours && !all {
				// Only here for its key (no Message-ID): mark it, teach nothing.
				if class == classify.Spam && !e.opts.DryRun {
					if err := e.store.recordLearned(s.acct.Name, key, junkFact); err != nil {
						return sum, err
					}
				}
				continue
			}
			if h.msgID == "" {
				need, already, err := s.needsLesson(key, class, classifiers, all)
				mu.Lock()
				sum.Already += already
				mu.Unlock()
				if err != nil {
					return sum, err
				}
				if !need {
					continue
				}
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				ok := s.teach(ctx, log, key, h.uid, h.size, h.raw, class, classifiers, sum, &mu)
				mu.Lock()
				if !ok {
					failed = append(failed, h.uid)
				} else if class == classify.Ham && !all {
					rescued = append(rescued, h.uid)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	if len(cands) > 0 || sum.Learned+sum.Failed > 0 {
		log.Info("learned from the user's moves", zap.Int("messages", len(cands)), zap.Int("learned", sum.Learned),
			zap.Int("already", sum.Already), zap.Int("failed", sum.Failed), zap.Int("skipped", sum.Skipped), zap.Int("ours", sum.Ours))
	}
	if all || e.opts.DryRun {
		return sum, nil
	}
	if len(rescued) > 0 {
		// The user's word, where rules and mail clients can see it
		// (Thunderbird and Apple Mail use the same keyword): a rule
		// with !hasFlag("$NotJunk") leaves the message where the user put it.
		if err := s.client.UIDStore(ctx, imap.SeqSetFromNums(rescued...), imap.StoreAdd, true, []string{NotJunkFlag}); err != nil {
			log.Warn("cannot flag messages taken out of Junk", zap.String("flag", NotJunkFlag), zap.Error(err))
		}
	}
	if len(held) > 0 {
		log.Debug("holding back messages a batch of ours in flight may have put here", zap.Int("messages", len(held)))
	}
	st = LearnState{UIDValidity: status.UIDValidity, HighestUID: maxUID, Retry: imap.SeqSetFromNums(append(failed, held...)...)}
	if err := e.store.putLearn(s.acct.Name, mailbox, st); err != nil {
		return sum, err
	}
	return sum, e.store.dropPlaced(s.acct.Name, server, status.UIDValidity, maxUID, st.Retry)
}

// needsLesson reports whether some classifier still has to learn the
// message with key as class. A ham lesson from a new arrival is only due
// when the message was seen in the junk folder (all: always). already
// counts the classifiers that learned it before.
func (s *session) needsLesson(key string, class classify.Class, classifiers []classify.Classifier, all bool) (need bool, already int, err error) {
	store := s.e.store
	if class == classify.Ham && !all {
		wasJunk, err := store.hasLearned(s.acct.Name, key, junkFact)
		if err != nil || !wasJunk {
			return false, 0, err
		}
	}
	for _, c := range classifiers {
		done, err := store.hasLearned(s.acct.Name, key, learnedFact(class, c.Name()))
		if err != nil {
			return false, already, err
		}
		if done {
			already++
		} else {
			need = true
		}
	}
	return need, already, nil
}

// teach gives the message to every classifier that has not learned it as
// class, recording each lesson taken. It reports false when some
// classifier failed (the message is then looked at again next pass).
func (s *session) teach(ctx context.Context, log *zap.Logger, key string, uid uint32, size int64, raw []byte,
	class classify.Class, classifiers []classify.Classifier, sum *LearnSummary, mu *sync.Mutex) bool {
	e := s.e
	ok := true
	for _, c := range classifiers {
		fact := learnedFact(class, c.Name())
		done, err := e.store.hasLearned(s.acct.Name, key, fact)
		if err != nil {
			log.Error("cannot read what was learned", zap.Error(err))
			return false
		}
		count := func(n *int) { mu.Lock(); *n++; mu.Unlock() }
		switch {
		case done:
			continue // counted by needsLesson
		case size > c.MaxSize() || int64(len(raw)) > c.MaxSize():
			count(&sum.Skipped)
			continue
		case e.opts.DryRun:
			count(&sum.Learned)
			continue
		}
		err = c.Learn(ctx, raw, class)
		already := errors.Is(err, classify.ErrAlreadyLearned)
		if err != nil && !already {
			count(&sum.Failed)
			ok = false
			log.Warn("learning failed; tried again on the next pass", zap.Uint32("uid", uid),
				zap.String("classifier", c.Name()), zap.Error(err))
			continue
		}
		facts := []string{fact}
		if class == classify.Spam {
			facts = append(facts, junkFact)
		}
		if err := e.store.recordLearned(s.acct.Name, key, facts...); err != nil {
			log.Error("cannot record a lesson; it may be given once more", zap.Error(err))
			return false
		}
		if already {
			// Given before a crash kept it from being recorded: the
			// classifier says so, and now it is recorded.
			count(&sum.Already)
			continue
		}
		count(&sum.Learned)
		log.Info("learned", zap.Uint32("uid", uid), zap.String("classifier", c.Name()), zap.Stringer("as", class))
	}
	return ok
}

// Learn teaches each account's classifiers from what its junk folder
// (spam) and ham folders (ham) hold now, like isbg's --teachonly: for
// `mailrules learn`. Messages learned before (recorded in the state) are
// not taught again. With Options.DryRun nothing is taught or recorded and
// Learned counts what would be. Accounts without a learn table are left
// out. The summaries come back per account and mailbox, in order, also
// when an error ends an account early.
func (e *Engine) Learn(ctx context.Context) ([]*LearnSummary, error) {
	var (
		out  []*LearnSummary
		errs []error
	)
	for _, acct := range e.config().Accounts {
		if acct.Learn == nil {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		s, err := e.connect(ctx, acct)
		if err != nil {
			errs = append(errs, fmt.Errorf("account %q: %w", acct.Name, err))
			continue
		}
		for _, mb := range acct.Learn.Mailboxes() {
			sum, err := s.learnMailbox(ctx, mb, true)
			out = append(out, sum)
			if err != nil {
				errs = append(errs, fmt.Errorf("account %q mailbox %q: %w", acct.Name, mb, err))
				if s.broken() {
					break
				}
			}
		}
		s.logout()
	}
	return out, errors.Join(errs...)
}
