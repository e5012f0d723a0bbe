// The second phase of a pass: messages whose rules reached classify()
// are fetched whole, classified, and evaluated again with the verdicts.

package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// classifyBatch is how many undecided messages are fetched whole at once
// and then classified together: it bounds the memory held (at most this
// many messages of up to the largest max_size) while keeping the
// classifiers busy.
const classifyBatch = 32

// classifyConcurrency bounds the classifier calls in flight from one pass;
// each classifier bounds its own further (its concurrency setting).
const classifyConcurrency = 8

// deferredRetryInterval is how soon watch passes over a quiet mailbox again
// while messages in it wait for a classifier's verdict.
const deferredRetryInterval = 2 * time.Minute

// waiting reports whether messages of the mailbox wait for a verdict.
func (e *Engine) waiting(account, mailbox string) bool {
	st, ok, err := e.store.Get(account, mailbox)
	return err == nil && ok && len(st.Deferred)+len(st.DeferredOld) > 0
}

// undecided is a message whose evaluation needs a verdict.
type undecided struct {
	uid   uint32
	isNew bool
	size  int64 // RFC822.SIZE
}

// classifyBatchBytes bounds the bytes of one batch of whole messages (a
// message larger than it makes a batch of its own).
const classifyBatchBytes = 64 << 20

// Classifiers makes the clients of cfg's [[classifier]] tables, in file
// order.
func Classifiers(cfg *config.Config) ([]classify.Classifier, error) {
	if len(cfg.Classifiers) == 0 {
		return nil, nil
	}
	set, err := cfg.NewClassifiers()
	if err != nil {
		return nil, fmt.Errorf("classifiers: %w", err)
	}
	var out []classify.Classifier
	for _, name := range set.Names() {
		c, _ := set.Get(name)
		out = append(out, c)
	}
	return out, nil
}

// builtClassifiers are the clients made for one configuration.
type builtClassifiers struct {
	cfg  *config.Config
	list []classify.Classifier
}

// classifiers returns the classifiers passes use: Options.Classifiers when
// set, else those of the configuration in force, made once for it (a
// reload makes new ones). Clients that cannot be made are logged, and the
// messages whose rules call them wait for a later pass.
func (e *Engine) classifiers() []classify.Classifier {
	if e.opts.Classifiers != nil {
		return e.opts.Classifiers
	}
	cfg := e.config()
	if b := e.built.Load(); b != nil && b.cfg == cfg {
		return b.list
	}
	e.buildMu.Lock()
	defer e.buildMu.Unlock()
	if b := e.built.Load(); b != nil && b.cfg == cfg {
		return b.list
	}
	list, err := Classifiers(cfg)
	if err != nil {
		e.log.Error("cannot make the classifiers", zap.Error(err))
	}
	e.built.Store(&builtClassifiers{cfg: cfg, list: list})
	return list
}

// classifier returns the classifier of that name, or nil.
func (e *Engine) classifier(name string) classify.Classifier {
	for _, c := range e.classifiers() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// wholeMessageLimit is how much of a message the second phase fetches: one
// byte more than the largest max_size of the classifiers the rules call
// (a message above a classifier's max_size is not sent to it anyway), and
// at least what rules reading the body get.
func (e *Engine) wholeMessageLimit(names []string) int64 {
	limit := int64(bodyLimit)
	for _, name := range names {
		if c := e.classifier(name); c != nil {
			limit = max(limit, c.MaxSize()+1)
		}
	}
	return limit
}

// heldMessage is a message of the second phase, copied out of the fetch
// buffer.
type heldMessage struct {
	undecided
	flags        []string
	internalDate time.Time
	size         int64
	raw          []byte
	verdicts     map[string]*classify.Verdict
	failed       error // the classifier error that leaves it undecided
	failedBy     string
}

// decideUndecided fetches the undecided messages whole (BODY.PEEK[], which
// leaves \Seen alone), asks the classifiers their rules reach, evaluates
// them again with the verdicts and adds the decisions to builder. A
// message for which a classifier gives no verdict is deferred: nothing at
// all is done to it in this pass (no rule's action), and it is evaluated
// again on the next pass (MailboxState.Deferred). A verdict is never
// made up.
func (p *mailboxPass) decideUndecided(ctx context.Context, builder *actions.Builder, items []imap.FetchItem) error {
	if len(p.undecided) == 0 {
		return nil
	}
	e := p.e
	whole := []imap.FetchItem{}
	for _, it := range items {
		if !isBodySection(it) && it != imap.FetchRFC822Size {
			whole = append(whole, it)
		}
	}
	whole = append(whole, imap.FetchRFC822Size, imap.FetchSection("", true, 0, e.wholeMessageLimit(p.rules.Classifiers())))
	limit := e.wholeMessageLimit(p.rules.Classifiers())
	byUID := make(map[uint32]undecided, len(p.undecided))
	uids := make([]uint32, 0, len(p.undecided))
	for _, u := range p.undecided {
		byUID[u.uid] = u
		uids = append(uids, u.uid)
	}
	slices.Sort(uids)
	// Batches of at most classifyBatch messages and classifyBatchBytes.
	var batches [][]uint32
	var bytes int64
	for i, uid := range uids {
		size := min(byUID[uid].size, limit)
		if i == 0 || len(batches[len(batches)-1]) == classifyBatch || bytes+size > classifyBatchBytes {
			batches = append(batches, nil)
			bytes = 0
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], uid)
		bytes += size
	}
	// The next batch is fetched while the classifiers work on this one:
	// at most one classifyHeld runs at a time, and the fetch touches
	// nothing it uses, so two batches are in memory at the most.
	flagsKnown := slices.Contains(whole, imap.FetchFlags)
	classifying := make(chan struct{})
	close(classifying)
	defer func() { <-classifying }()
	for _, batch := range batches {
		var held []*heldMessage
		err := p.client.UIDFetch(ctx, imap.SeqSetFromNums(batch...), whole, func(m *imap.FetchMessage) error {
			u, ok := byUID[m.UID]
			if !ok || len(m.Sections) == 0 {
				return nil
			}
			held = append(held, &heldMessage{undecided: u, flags: slices.Clone(m.Flags), internalDate: m.InternalDate,
				size: m.Size, raw: slices.Clone(m.Sections[0].Data), verdicts: map[string]*classify.Verdict{}})
			return nil
		})
		if err != nil {
			return p.note(fmt.Errorf("fetch whole messages to classify from %q: %w", p.server, err))
		}
		<-classifying
		// One the server sent no body for (expunged meanwhile, say) is
		// tried again next pass, where it is dropped if it is gone.
		for _, uid := range batch {
			if !slices.ContainsFunc(held, func(h *heldMessage) bool { return h.uid == uid }) {
				p.defer1(&heldMessage{undecided: byUID[uid], failedBy: "-", failed: errors.New("the server sent no body for it")})
			}
		}
		done := make(chan struct{})
		classifying = done
		go func() {
			defer close(done)
			p.classifyHeld(ctx, builder, held, flagsKnown)
		}()
	}
	return nil
}

func isBodySection(it imap.FetchItem) bool {
	return strings.HasPrefix(string(it), "BODY")
}

// classifyHeld evaluates held messages, classifying them with each
// classifier a rule reaches until every one is decided or has no verdict
// to be had. flagsKnown says whether the messages' flags were fetched.
func (p *mailboxPass) classifyHeld(ctx context.Context, builder *actions.Builder, held []*heldMessage, flagsKnown bool) {
	msg := rules.Message{Account: p.acct.Name, Mailbox: p.mailbox, MailboxExists: p.exists}
	pending := held
	// Each round adds one verdict to every message still pending, so the
	// number of classifiers bounds the rounds; the +1 is the last
	// evaluation.
	for round := 0; len(pending) > 0 && round <= len(p.e.classifiers())+1; round++ {
		type job struct {
			h    *heldMessage
			name string
		}
		var jobs []job
		for _, h := range pending {
			msg.UID, msg.Flags, msg.InternalDate, msg.Size, msg.New = h.uid, h.flags, h.internalDate, h.size, h.isNew
			msg.Header, msg.Raw, msg.Verdicts = nil, h.raw, h.verdicts
			res := p.rules.Evaluate(&msg, p.now)
			if res.Need == "" {
				p.record(h.uid, h.raw, h.flags, flagsKnown, res, builder)
				continue
			}
			if _, asked := h.verdicts[res.Need]; asked {
				// Cannot happen with a verdict in the map; guard the loop.
				h.failed, h.failedBy = fmt.Errorf("rule asked again for %q", res.Need), res.Need
				p.defer1(h)
				continue
			}
			jobs = append(jobs, job{h, res.Need})
		}
		var (
			wg  sync.WaitGroup
			sem = make(chan struct{}, classifyConcurrency)
		)
		for _, j := range jobs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				v, err := p.classify(ctx, j.name, j.h)
				if err != nil {
					j.h.failed, j.h.failedBy = err, j.name
					return
				}
				j.h.verdicts[j.name] = v
			}()
		}
		wg.Wait()
		pending = pending[:0]
		for _, j := range jobs {
			p.countClassify(j.name, j.h.failed)
			if j.h.failed != nil {
				p.defer1(j.h)
				continue
			}
			pending = append(pending, j.h)
		}
	}
	for _, h := range pending {
		h.failed, h.failedBy = errors.New("rules kept asking for verdicts"), "?"
		p.defer1(h)
	}
}

// classify asks the classifier name about h. A message larger than the
// classifier's max_size is not sent: its verdict says Skipped.
func (p *mailboxPass) classify(ctx context.Context, name string, h *heldMessage) (*classify.Verdict, error) {
	c := p.e.classifier(name)
	if c == nil {
		return nil, fmt.Errorf("classifier %q is not configured: %w", name, classify.ErrUnavailable)
	}
	if h.size > c.MaxSize() || int64(len(h.raw)) > c.MaxSize() {
		return &classify.Verdict{Classifier: name, Skipped: true, Symbols: []string{}}, nil
	}
	v, err := c.Classify(ctx, h.raw)
	if err != nil {
		return nil, fmt.Errorf("classify with %q: %w", name, err)
	}
	if v == nil {
		return nil, fmt.Errorf("classify with %q: no verdict: %w", name, classify.ErrUnavailable)
	}
	if v.Classifier == "" {
		v.Classifier = name
	}
	return v, nil
}

// countClassify counts one classifier call in the pass summary.
func (p *mailboxPass) countClassify(name string, err error) {
	if err != nil {
		p.sum.ClassifyErrors[name]++
		return
	}
	p.sum.Classified[name]++
}

// defer1 leaves a message for the next pass: no verdict, no action.
func (p *mailboxPass) defer1(h *heldMessage) {
	if h.isNew {
		p.deferred = append(p.deferred, h.uid)
	} else {
		p.deferredOld = append(p.deferredOld, h.uid)
	}
	p.sum.Deferred++
	p.log.Warn("no verdict from the classifier: the message is left where it is, untouched by every rule, and tried again on the next pass",
		zap.Uint32("uid", h.uid), zap.String("classifier", h.failedBy), zap.Error(h.failed))
}
