package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailrules/mailrules/test/bench"
	"github.com/mailrules/mailrules/test/bench/corpus"
	"github.com/mailrules/mailrules/test/bench/internal/rawimap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// maxSetLen bounds the sequence set in one command so that a command line
// stays under 8 KB (RFC 7162 section 4 recommends servers accept 8192).
const maxSetLen = 7900

// account is one Dovecot user loaded with the corpus at one scale.
type account struct {
	scale    int
	count    int
	user     *dovecottest.User
	pristine string // snapshot of the loaded, warmed-up Maildir
	delim    string
	expect   map[string]placement // by Message-ID
	plan     floorPlan
	rules    string // the config's tables after the account; "" means bench.RulesTOML
}

// placement is where a message should be after the bench rules ran.
type placement struct {
	mailbox string // wire name
	flagged bool
}

// floorPlan is the commands a full pass sends, computed before timing.
type floorPlan struct {
	fetch   string
	creates []string
	stores  []string
	moves   []string
}

// fetchItems is the one UID FETCH of exactly what the bench rules need:
// rules.Set.Needs for rules.toml is the header fields in bench.Needs plus
// INTERNALDATE.
func fetchItems() string {
	return "UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (" + strings.Join(bench.Needs, " ") + ")]"
}

func (a *account) name() string { return scaleName(a.scale, a.count) }

func (b *runner) setupAccount(ctx context.Context, scale int) (*account, error) {
	msgs := corpus.Scale(b.base, scale)
	a := &account{scale: scale, count: len(msgs)}
	var err error
	a.user, err = b.srv.AddUser(fmt.Sprintf("bench%dx", scale))
	if err != nil {
		return nil, err
	}
	a.pristine = filepath.Join(b.cfg.cacheDir, fmt.Sprintf("pristine-%dx", scale))
	dm := make([]dovecottest.Message, len(msgs))
	size := 0
	for i, m := range msgs {
		dm[i] = dovecottest.Message{Data: m.Data, InternalDate: m.InternalDate}
		size += len(m.Data)
	}
	msgs = nil
	t0 := time.Now()
	if err := b.srv.AddMessages(a.user, "INBOX", dm); err != nil {
		return nil, err
	}
	dm = nil
	load := time.Since(t0)

	t1 := time.Now()
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "INBOX")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	firstSelect := time.Since(t1)
	if err := c.Command(ctx, `LIST "" ""`, func(resp []byte) error {
		// * LIST (\Noselect) "." ""
		f := strings.SplitN(string(resp), `"`, 3)
		if len(f) == 3 && strings.HasPrefix(f[0], "* LIST ") {
			a.delim = f[1]
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if a.delim == "" {
		return nil, errors.New("no hierarchy delimiter in LIST \"\" \"\"")
	}

	// Decisions and identities, from the same header fields the rules read.
	dec := bench.NewDecider()
	fields := append(slices.Clone(bench.Needs), "MESSAGE-ID")
	slices.Sort(fields)
	a.expect = make(map[string]placement, a.count)
	var flagged []uint32
	moves := make(map[string][]uint32)
	t2 := time.Now()
	err = c.Command(ctx, "UID FETCH 1:* (UID INTERNALDATE BODY.PEEK[HEADER.FIELDS ("+strings.Join(fields, " ")+")])", func(resp []byte) error {
		d, err := rawimap.ParseFetch(resp)
		if errors.Is(err, rawimap.ErrNotFetch) {
			return nil
		}
		if err != nil {
			return err
		}
		id := corpus.HeaderValue(d.Literal, "Message-ID")
		if _, dup := a.expect[id]; dup || id == "" {
			return fmt.Errorf("uid %d: Message-ID %q missing or not unique", d.UID, id)
		}
		decision := dec.Decide(d.Literal, d.InternalDate)
		p := placement{mailbox: "INBOX", flagged: decision.Flag}
		if decision.Flag {
			flagged = append(flagged, d.UID)
		}
		if decision.Move != "" {
			p.mailbox = a.wireName(decision.Move)
			moves[decision.Move] = append(moves[decision.Move], d.UID)
		}
		a.expect[id] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("setup fetch: %w", err)
	}
	setupFetch := time.Since(t2)
	if len(a.expect) != a.count {
		return nil, fmt.Errorf("setup fetch: %d messages, loaded %d", len(a.expect), a.count)
	}

	a.plan.fetch = "UID FETCH 1:* (" + fetchItems() + ")"
	moved := 0
	for _, dest := range bench.Destinations() {
		a.plan.creates = append(a.plan.creates, "CREATE "+rawimap.Quote(a.wireName(dest)))
		uids := moves[dest]
		slices.Sort(uids)
		moved += len(uids)
		for _, set := range rawimap.FormatSet(uids, maxSetLen) {
			a.plan.moves = append(a.plan.moves, "UID MOVE "+set+" "+rawimap.Quote(a.wireName(dest)))
		}
	}
	slices.Sort(flagged)
	for _, set := range rawimap.FormatSet(flagged, maxSetLen) {
		a.plan.stores = append(a.plan.stores, "UID STORE "+set+" +FLAGS.SILENT ("+bench.FlagKeyword+")")
	}

	// Warm-up: the first fetch of a header-field set fills Dovecot's cache
	// (NOTES.md); the snapshot keeps the warm cache so every run starts
	// from the same state.
	t3 := time.Now()
	if err := c.Command(ctx, a.plan.fetch, nil); err != nil {
		return nil, fmt.Errorf("warm-up fetch: %w", err)
	}
	warm := time.Since(t3)
	if err := c.Logout(ctx); err != nil {
		return nil, err
	}
	if err := b.waitIdle(ctx, a); err != nil {
		return nil, err
	}
	t4 := time.Now()
	if err := cloneTree(a.user.Maildir, a.pristine); err != nil {
		return nil, err
	}
	snap := time.Since(t4)
	b.factf("%s: loaded %d messages (%.0f MB) in %.1fs (%.0f msg/s); first SELECT %.2fs; setup fetch %.2fs; warm-up fetch %.2fs; snapshot %.2fs",
		a.name(), a.count, float64(size)/1e6, load.Seconds(), float64(a.count)/load.Seconds(), firstSelect.Seconds(), setupFetch.Seconds(), warm.Seconds(), snap.Seconds())
	b.factf("%s: the bench rules file %d of %d messages (%d to move, %d to flag) in %d MOVE and %d STORE commands",
		a.name(), moved, a.count, moved, len(flagged), len(a.plan.moves), len(a.plan.stores))
	return a, nil
}

// wireName turns a "/"-separated mailbox path into the server's name.
func (a *account) wireName(path string) string { return strings.ReplaceAll(path, "/", a.delim) }

// waitIdle waits until no IMAP process serves the account, so that its
// Maildir can be replaced.
func (b *runner) waitIdle(ctx context.Context, a *account) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := b.srv.Sessions(a.user)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d IMAP sessions still open", a.user.Name, n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// restore puts the pristine Maildir back.
func (b *runner) restore(ctx context.Context, a *account) error {
	if err := b.srv.KillSessions(a.user); err != nil {
		return err
	}
	if err := b.waitIdle(ctx, a); err != nil {
		return err
	}
	if err := cloneTree(a.pristine, a.user.Maildir); err != nil {
		return err
	}
	// Start each timed run with the same page cache state as far as we can:
	// the files were just touched by the clone.
	return nil
}

// floorPass is the full pass of the floor client: log in, select, one
// UID FETCH of the rules' items read to the end and dropped, then the
// CREATE, UID STORE and UID MOVE commands the rules imply, precomputed.
func (b *runner) floorPass(ctx context.Context, a *account) (time.Duration, error) {
	t0 := time.Now()
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "INBOX")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Command(ctx, a.plan.fetch, nil); err != nil {
		return 0, err
	}
	for _, cmd := range a.plan.creates {
		if err := c.Command(ctx, cmd, nil); err != nil && !alreadyExists(err) {
			return 0, err
		}
	}
	for _, cmds := range [][]string{a.plan.stores, a.plan.moves} {
		for _, cmd := range cmds {
			if err := c.Command(ctx, cmd, nil); err != nil {
				return 0, err
			}
		}
	}
	if err := c.Logout(ctx); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

func alreadyExists(err error) bool {
	var se *rawimap.StatusError
	return errors.As(err, &se) && strings.Contains(se.Line, "[ALREADYEXISTS]")
}

// verify checks where every message is after a pass: each Message-ID in
// the mailbox and with the flag the bench rules give it, nothing lost and
// nothing duplicated. It returns a description of the first problems.
func (b *runner) verify(ctx context.Context, a *account) error {
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return err
	}
	defer c.Close()
	found := make(map[string]placement, a.count)
	var problems []string
	note := func(format string, args ...any) {
		if len(problems) < 5 {
			problems = append(problems, fmt.Sprintf(format, args...))
		} else if len(problems) == 5 {
			problems = append(problems, "...")
		}
	}
	boxes := []string{"INBOX"}
	for _, d := range bench.Destinations() {
		boxes = append(boxes, a.wireName(d))
	}
	for _, box := range boxes {
		if err := c.Command(ctx, "EXAMINE "+rawimap.Quote(box), nil); err != nil {
			continue // not created: nothing was to go there, checked below
		}
		err := c.Command(ctx, "UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", func(resp []byte) error {
			d, err := rawimap.ParseFetch(resp)
			if errors.Is(err, rawimap.ErrNotFetch) {
				return nil
			}
			if err != nil {
				return err
			}
			id := corpus.HeaderValue(d.Literal, "Message-ID")
			if prev, dup := found[id]; dup {
				note("%s in both %s and %s", id, prev.mailbox, box)
			}
			found[id] = placement{mailbox: box, flagged: strings.Contains(d.Flags, bench.FlagKeyword)}
			return nil
		})
		if err != nil {
			return fmt.Errorf("verify %s: %w", box, err)
		}
	}
	for id, want := range a.expect {
		got, ok := found[id]
		switch {
		case !ok:
			note("%s missing (want %s)", id, want.mailbox)
		case got != want:
			note("%s in %s flagged=%v, want %s flagged=%v", id, got.mailbox, got.flagged, want.mailbox, want.flagged)
		}
	}
	if len(found) > len(a.expect) {
		note("%d messages found, %d expected", len(found), len(a.expect))
	}
	if err := c.Logout(ctx); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", a.name(), strings.Join(problems, "; "))
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
