package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailrules/mailrules/test/bench/corpus"
	"github.com/mailrules/mailrules/test/bench/internal/rawimap"
)

const (
	latencyMessages = 200
	latencyInterval = 50 * time.Millisecond
)

// observer is a plain IMAP client on INBOX with QRESYNC enabled, so that
// expunges arrive as VANISHED with UIDs (RFC 7162 section 3.2.10). It
// records when each appended message shows up (EXISTS) and when it leaves
// (VANISHED). In IDLE mode it waits in IDLE (RFC 2177), so it sees changes
// when Dovecot's notification delay lets it; in poll mode it sends NOOP
// every pollInterval, so it sees a change within that interval.
type observer struct {
	c     *rawimap.Conn
	tag   string // IDLE mode: the IDLE command's tag
	poll  bool
	stopc chan struct{}
	done  chan error

	mu       sync.Mutex
	count    int             // messages in INBOX as the observer knows them
	pending  []uint32        // appended UIDs not yet announced, in order
	appended map[uint32]bool // every appended UID
	exists   map[uint32]time.Time
	gone     map[uint32]time.Time
	unseen   int // EXISTS beyond the known appends (should stay 0)
}

// pollInterval is how often a poll-mode observer sends NOOP.
const pollInterval = 5 * time.Millisecond

func (b *runner) startObserver(ctx context.Context, a *account, poll bool) (*observer, error) {
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return nil, err
	}
	o := &observer{c: c, poll: poll, stopc: make(chan struct{}), done: make(chan error, 1),
		appended: make(map[uint32]bool), exists: make(map[uint32]time.Time), gone: make(map[uint32]time.Time)}
	if err := c.Command(ctx, "ENABLE QRESYNC", nil); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Command(ctx, "SELECT INBOX", func(resp []byte) error {
		if n, ok := existsCount(resp); ok {
			o.count = n
		}
		return nil
	}); err != nil {
		c.Close()
		return nil, err
	}
	if poll {
		go o.pollLoop(ctx)
		return o, nil
	}
	o.tag, err = c.Send("IDLE")
	if err != nil {
		c.Close()
		return nil, err
	}
	resp, err := c.ReadResponse()
	if err != nil || !bytes.HasPrefix(resp, []byte("+")) {
		c.Close()
		return nil, fmt.Errorf("observer IDLE: %q %v", resp, err)
	}
	go o.idleLoop()
	return o, nil
}

// noteAppended tells the observer the UID of a message just appended, so
// that the EXISTS announcing it can be matched to it.
func (o *observer) noteAppended(uid uint32) {
	o.mu.Lock()
	o.pending = append(o.pending, uid)
	o.appended[uid] = true
	o.mu.Unlock()
}

// handle records one untagged response received at now. A message
// appended and moved away between two of the observer's syncs is never
// announced by EXISTS: its VANISHED only takes it off the pending list.
func (o *observer) handle(resp []byte, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n, ok := existsCount(resp); ok {
		for ; o.count < n; o.count++ {
			if len(o.pending) == 0 {
				o.unseen++
				continue
			}
			o.exists[o.pending[0]] = now
			o.pending = o.pending[1:]
		}
		o.count = n
		return
	}
	rest, ok := bytes.CutPrefix(resp, []byte("* VANISHED "))
	if !ok {
		return
	}
	rest = bytes.TrimPrefix(rest, []byte("(EARLIER) "))
	for _, uid := range parseUIDSet(string(bytes.TrimSpace(rest))) {
		if _, seen := o.gone[uid]; seen {
			continue
		}
		o.gone[uid] = now
		if _, announced := o.exists[uid]; announced || !o.appended[uid] {
			o.count--
			continue
		}
		for i, p := range o.pending {
			if p == uid {
				o.pending = append(o.pending[:i], o.pending[i+1:]...)
				break
			}
		}
	}
}

func (o *observer) idleLoop() {
	for {
		resp, err := o.c.ReadResponse()
		now := time.Now()
		if err != nil {
			o.done <- err
			return
		}
		if bytes.HasPrefix(resp, []byte(o.tag+" ")) {
			o.done <- nil
			return
		}
		o.handle(resp, now)
	}
}

func (o *observer) pollLoop(ctx context.Context) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-o.stopc:
			o.done <- nil
			return
		case <-tick.C:
		}
		err := o.c.Command(ctx, "NOOP", func(resp []byte) error {
			o.handle(resp, time.Now())
			return nil
		})
		if err != nil {
			o.done <- err
			return
		}
	}
}

func (o *observer) stop(ctx context.Context) error {
	o.c.SetDeadline(time.Now().Add(10 * time.Second))
	if o.poll {
		close(o.stopc)
	} else if err := o.c.SendLine("DONE"); err != nil {
		return err
	}
	err := <-o.done
	if err == nil {
		err = o.c.Logout(ctx)
	}
	o.c.Close()
	return err
}

func existsCount(resp []byte) (int, bool) {
	s, ok := bytes.CutPrefix(resp, []byte("* "))
	if !ok {
		return 0, false
	}
	num, rest, ok := bytes.Cut(s, []byte(" "))
	if !ok || !bytes.HasPrefix(rest, []byte("EXISTS")) {
		return 0, false
	}
	n, err := strconv.Atoi(string(num))
	return n, err == nil
}

func parseUIDSet(s string) []uint32 {
	var out []uint32
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			continue
		}
		z := a
		if isRange {
			if z, err = strconv.ParseUint(hi, 10, 32); err != nil {
				continue
			}
			if z < a {
				a, z = z, a
			}
		}
		for u := a; u <= z; u++ {
			out = append(out, uint32(u))
		}
	}
	return out
}

// appendUID reads the UID from "OK [APPENDUID validity uid] ..." (RFC 4315).
func appendUID(status string) (uint32, error) {
	_, rest, ok := strings.Cut(status, "[APPENDUID ")
	if !ok {
		return 0, fmt.Errorf("no APPENDUID in %q", status)
	}
	f := strings.Fields(strings.TrimSuffix(strings.SplitN(rest, "]", 2)[0], "]"))
	if len(f) != 2 {
		return 0, fmt.Errorf("bad APPENDUID in %q", status)
	}
	uid, err := strconv.ParseUint(f[1], 10, 32)
	return uint32(uid), err
}

// driveAppends APPENDs msgs one every interval and returns each one's
// APPEND-OK time by UID.
func (b *runner) driveAppends(ctx context.Context, a *account, obs []*observer, msgs []corpus.Message) (map[uint32]time.Time, error) {
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	okAt := make(map[uint32]time.Time, len(msgs))
	tick := time.NewTicker(latencyInterval)
	defer tick.Stop()
	for _, m := range msgs {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		if err := c.CommandLiteral(ctx, "APPEND INBOX", m.Data); err != nil {
			return nil, err
		}
		now := time.Now()
		uid, err := appendUID(c.LastStatus())
		if err != nil {
			return nil, err
		}
		okAt[uid] = now
		for _, o := range obs {
			o.noteAppended(uid)
		}
	}
	return okAt, c.Logout(ctx)
}

// latencyPhase is one APPEND series. Without a mover, a plain IDLE
// observer measures the floor: when any IDLE client learns of a new message
// (Dovecot delays IDLE notifications, NOTES.md). With a mover (the floor
// client or mailrules watch), a polling observer measures when each message
// left INBOX; an IDLE observer would add its own notification delay to
// that, and misses messages appended and moved within one of its delays.
type latencyPhase struct {
	exists  []time.Duration // APPEND OK -> EXISTS at the IDLE observer (no mover)
	gone    []time.Duration // APPEND OK -> VANISHED at the polling observer (mover)
	missing int             // appended messages never seen (EXISTS or leaving) and still in INBOX
	fast    int             // appended and moved between two polls, so never seen: not timed
}

func (b *runner) runLatencyPhase(ctx context.Context, a *account, tag string, byMailrules bool, startMover func() (stop func() error, err error)) (*latencyPhase, error) {
	// Every phase starts from the same processed mailbox: the pristine one
	// after a full pass, by the floor client or, for mailrules (which
	// must know what it processed), by mailrules run --all.
	if byMailrules {
		if err := b.processed(ctx, a); err != nil {
			return nil, err
		}
	} else {
		if err := b.restore(ctx, a); err != nil {
			return nil, err
		}
		if _, err := b.floorPass(ctx, a); err != nil {
			return nil, err
		}
	}
	o, err := b.startObserver(ctx, a, startMover != nil)
	if err != nil {
		return nil, err
	}
	stopMover := func() error { return nil }
	if startMover != nil {
		if stopMover, err = startMover(); err != nil {
			o.stop(ctx)
			return nil, err
		}
	}
	var msgs []corpus.Message
	for i := 0; len(msgs) < latencyMessages; i++ {
		m := b.base[i%len(b.base)]
		if m.Spam {
			msgs = append(msgs, corpus.Copy(m, fmt.Sprintf("%s-%d", tag, len(msgs))))
		}
	}
	okAt, err := b.driveAppends(ctx, a, []*observer{o}, msgs)
	if err != nil {
		stopMover()
		o.stop(ctx)
		return nil, err
	}
	// Let the last notifications and moves happen.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		n := len(o.gone)
		if startMover == nil {
			n = len(o.exists)
		}
		o.mu.Unlock()
		if n >= len(okAt) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	moverErr := stopMover()
	if err := o.stop(ctx); err != nil {
		return nil, fmt.Errorf("observer: %w", err)
	}
	if moverErr != nil {
		return nil, moverErr
	}
	p := &latencyPhase{}
	for uid, t := range okAt {
		if startMover == nil {
			if e, ok := o.exists[uid]; ok {
				p.exists = append(p.exists, e.Sub(t))
			} else {
				p.missing++
			}
		} else if g, ok := o.gone[uid]; ok {
			p.gone = append(p.gone, g.Sub(t))
		} else {
			p.missing++
		}
	}
	if startMover != nil && p.missing > 0 {
		// Dovecot reports no VANISHED for a message this client was never
		// told of: one appended and moved between two NOOPs. Count those
		// that did leave INBOX as fast, the rest as missing.
		var unseen []uint32
		for uid := range okAt {
			if _, ok := o.gone[uid]; !ok {
				unseen = append(unseen, uid)
			}
		}
		left, err := b.stillInInbox(ctx, a, unseen)
		if err != nil {
			return nil, err
		}
		p.fast, p.missing = len(unseen)-left, left
	}
	if o.unseen > 0 {
		b.logf("latency %s: the observer saw %d EXISTS it could not match to an APPEND", tag, o.unseen)
	}
	return p, nil
}

// stillInInbox counts how many of uids are still in INBOX.
func (b *runner) stillInInbox(ctx context.Context, a *account, uids []uint32) (int, error) {
	if len(uids) == 0 {
		return 0, nil
	}
	slices.Sort(uids)
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Command(ctx, "EXAMINE INBOX", nil); err != nil {
		return 0, err
	}
	n := 0
	for _, set := range rawimap.FormatSet(uids, maxSetLen) {
		err := c.Command(ctx, "UID SEARCH UID "+set, func(resp []byte) error {
			if rest, ok := bytes.CutPrefix(resp, []byte("* SEARCH")); ok {
				n += len(strings.Fields(string(rest)))
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, c.Logout(ctx)
}

// floorMover is the floor for filing new mail: a raw client in IDLE that,
// on EXISTS, leaves IDLE, fetches the new messages' rule items and moves
// them with one UID MOVE, then idles again. It files every new message to
// Junk (all the appended messages are spam).
func (b *runner) floorMover(ctx context.Context, a *account) (func() error, error) {
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return nil, err
	}
	var next uint32
	if err := c.Command(ctx, "SELECT INBOX", func(resp []byte) error {
		if _, rest, ok := bytes.Cut(resp, []byte("[UIDNEXT ")); ok {
			n, _, _ := bytes.Cut(rest, []byte("]"))
			v, err := strconv.ParseUint(string(n), 10, 32)
			next = uint32(v)
			return err
		}
		return nil
	}); err != nil {
		c.Close()
		return nil, err
	}
	junk := rawimap.Quote(a.wireName("Junk"))
	if err := c.Command(ctx, "CREATE "+junk, nil); err != nil && !alreadyExists(err) {
		c.Close()
		return nil, err
	}
	stopping := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			// more is set when an EXISTS arrived in the responses to the
			// mover's own commands: Dovecot will not announce those messages
			// again in IDLE, so fetch before idling.
			more := false
			onResp := func(resp []byte) {
				if _, ok := existsCount(resp); ok {
					more = true
				}
			}
			for {
				if !more {
					tag, err := c.Send("IDLE")
					if err != nil {
						return err
					}
					woke := false
					for !woke {
						resp, err := c.ReadResponse()
						if err != nil {
							select {
							case <-stopping:
								return nil
							default:
							}
							return err
						}
						if _, ok := existsCount(resp); ok {
							woke = true
						}
					}
					if err := c.SendLine("DONE"); err != nil {
						return err
					}
					if err := c.Wait(tag, "IDLE", nil); err != nil {
						return err
					}
				}
				more = false
				var uids []uint32
				err := c.Command(ctx, fmt.Sprintf("UID FETCH %d:* (%s)", next, fetchItems()), func(resp []byte) error {
					onResp(resp)
					d, err := rawimap.ParseFetch(resp)
					if err == nil && d.UID >= next {
						uids = append(uids, d.UID)
					}
					return nil
				})
				if err != nil {
					return err
				}
				if len(uids) == 0 {
					continue
				}
				for _, set := range rawimap.FormatSet(uids, maxSetLen) {
					if err := c.Command(ctx, "UID MOVE "+set+" "+junk, func(resp []byte) error {
						onResp(resp)
						return nil
					}); err != nil {
						return err
					}
				}
				next = uids[len(uids)-1] + 1
			}
		}()
	}()
	return func() error {
		close(stopping)
		c.Close()
		return <-done
	}, nil
}

// latency runs workload 3 on the largest mailbox, in three phases from the
// same pristine state: the IDLE floor (no mover), the floor mover, and
// mailrules watch.
func (b *runner) latency(ctx context.Context, mr bool) error {
	a := b.largest()
	idle, err := b.runLatencyPhase(ctx, a, "latidle", false, nil)
	if err != nil {
		return fmt.Errorf("latency IDLE floor: %w", err)
	}
	mover, err := b.runLatencyPhase(ctx, a, "latfloor", false, func() (func() error, error) { return b.floorMover(ctx, a) })
	if err != nil {
		return fmt.Errorf("latency floor mover: %w", err)
	}
	b.factf("latency %s, %d APPENDs %v apart: IDLE observer APPEND->EXISTS p50 %s p99 %s max %s (%d unseen); floor mover (IDLE, fetch, UID MOVE) APPEND->gone p50 %s p99 %s max %s (%d moved between two polls, untimed; %d left in INBOX)",
		a.name(), latencyMessages, latencyInterval,
		msec(percentile(idle.exists, 50)), msec(percentile(idle.exists, 99)), msec(percentile(idle.exists, 100)), idle.missing,
		msec(percentile(mover.gone, 50)), msec(percentile(mover.gone, 99)), msec(percentile(mover.gone, 100)), mover.fast, mover.missing)
	var mine *latencyPhase
	if mr {
		mine, err = b.runLatencyPhase(ctx, a, "latmailrules", true, func() (func() error, error) { return b.startWatch(ctx, a) })
		if err != nil {
			return fmt.Errorf("latency mailrules: %w", err)
		}
		b.factf("latency mailrules watch: APPEND->gone p50 %s p99 %s max %s (%d moved between two polls, untimed; %d left in INBOX)",
			msec(percentile(mine.gone, 50)), msec(percentile(mine.gone, 99)), msec(percentile(mine.gone, 100)), mine.fast, mine.missing)
	}
	for _, q := range []struct {
		p     float64
		limit time.Duration
	}{{50, 20 * time.Millisecond}, {99, 100 * time.Millisecond}} {
		base := percentile(idle.exists, q.p)
		r := row{
			workload: fmt.Sprintf("new-mail latency p%.0f (%s, watch)", q.p, a.name()),
			floor:    fmt.Sprintf("%s (IDLE floor; mover %s)", msec(base), msec(percentile(mover.gone, q.p))),
			target:   fmt.Sprintf("≤ IDLE floor + %.0fms", float64(q.limit)/float64(time.Millisecond)),
		}
		if mine == nil {
			r.mailrules, r.ratio, r.verdict = notAvailable, "-", "n/a"
		} else {
			got := percentile(mine.gone, q.p)
			r.mailrules = msec(got)
			r.ratio = fmt.Sprintf("%+.1fms", float64(got-base)/float64(time.Millisecond))
			r.verdict = verdict(got-base <= q.limit && mine.missing == 0)
		}
		b.add(r)
	}
	return nil
}

// startWatch starts mailrules watch on a processed mailbox and waits until
// it has a session open and has settled.
func (b *runner) startWatch(ctx context.Context, a *account) (func() error, error) {
	before, err := b.srv.Sessions(a.user)
	if err != nil {
		return nil, err
	}
	cmd, logFile, err := b.mailrulesCmd(ctx, a, "watch")
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("mailrules watch: %w", err)
	}
	stop := func() error {
		defer logFile.Close()
		cmd.Cancel()
		err := cmd.Wait()
		var ee interface{ ExitCode() int }
		if err != nil && errors.As(err, &ee) && ee.ExitCode() <= 0 {
			return nil // ended by our SIGTERM
		}
		if err != nil {
			return fmt.Errorf("mailrules watch: %w (log %s)", err, logFile.Name())
		}
		return nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := b.srv.Sessions(a.user)
		if err == nil && n > before {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("mailrules watch opened no session in 60s (log %s)", logFile.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Its first pass over a processed mailbox and entering IDLE.
	time.Sleep(3 * time.Second)
	return stop, nil
}
