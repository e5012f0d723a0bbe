package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mailrules/mailrules/test/bench"
	"github.com/mailrules/mailrules/test/bench/corpus"
	"github.com/mailrules/mailrules/test/bench/internal/rawimap"
)

// newMessages returns n corpus messages made new by a Message-ID suffix,
// spread over the corpus so they mix spam, list and plain mail.
func (b *runner) newMessages(tag string, n int) []corpus.Message {
	out := make([]corpus.Message, n)
	step := len(b.base) / n
	for i := range out {
		out[i] = corpus.Copy(b.base[i*step], fmt.Sprintf("%s-%d", tag, i))
	}
	return out
}

// appendMessages APPENDs msgs to INBOX over one connection, as delivery
// would.
func (b *runner) appendMessages(ctx context.Context, a *account, msgs []corpus.Message) error {
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return err
	}
	defer c.Close()
	for _, m := range msgs {
		if err := c.CommandLiteral(ctx, "APPEND INBOX", m.Data); err != nil {
			return err
		}
	}
	return c.Logout(ctx)
}

// incremental runs workload 2: on a mailbox that mailrules has processed,
// 10 new messages arrive and `mailrules run` handles them; the time at the
// largest scale must be within 1.2x of the time at the smallest. The floor
// client handles another 10 new messages in the same state with the bare
// commands (SELECT, UID FETCH of the new mail, one UID MOVE per destination,
// UID STORE), alternating with mailrules, so the table shows how much of the
// growth is the server's own.
func (b *runner) incremental(ctx context.Context, mr bool) error {
	big, small := b.largest(), b.smallest()
	r := row{workload: fmt.Sprintf("incremental pass, 10 new (%s vs %s)", big.name(), small.name()), target: "≤ 1.2x"}
	if !mr {
		r.mailrules, r.floor, r.ratio, r.verdict = notAvailable, "-", "-", "n/a"
		b.add(r)
		return nil
	}
	times := make(map[*account][]time.Duration)
	floors := make(map[*account][]time.Duration)
	for _, a := range []*account{small, big} {
		if err := b.restore(ctx, a); err != nil {
			return err
		}
		os.Remove(b.statePath(a))
		if _, err := b.runMailrules(ctx, a, "run", "--all"); err != nil {
			return err
		}
	}
	for i := 0; i < b.cfg.runs; i++ {
		for _, a := range []*account{small, big} {
			if err := b.appendMessages(ctx, a, b.newMessages(fmt.Sprintf("incr%d", i), 10)); err != nil {
				return err
			}
			res, err := b.runMailrules(ctx, a, "run")
			if err != nil {
				return err
			}
			times[a] = append(times[a], res.elapsed)

			// The floor: the next 10 new messages, the bare commands.
			next, err := b.uidNext(ctx, a)
			if err != nil {
				return err
			}
			if err := b.appendMessages(ctx, a, b.newMessages(fmt.Sprintf("floor%d", i), 10)); err != nil {
				return err
			}
			d, err := b.floorIncremental(ctx, a, next)
			if err != nil {
				return err
			}
			floors[a] = append(floors[a], d)
		}
	}
	b.factf("incremental pass times (s): mailrules %s %s, %s %s; floor %s %s, %s %s",
		small.name(), durations(times[small]), big.name(), durations(times[big]),
		small.name(), durations(floors[small]), big.name(), durations(floors[big]))
	ratio := median(times[big]).Seconds() / median(times[small]).Seconds()
	r.mailrules = secs(median(times[big])) + " at " + big.name()
	r.floor = secs(median(times[small])) + " at " + small.name()
	r.ratio, r.verdict = fmt.Sprintf("%.2fx", ratio), verdict(ratio <= 1.2)
	b.add(r)
	floorRatio := median(floors[big]).Seconds() / median(floors[small]).Seconds()
	b.add(row{workload: fmt.Sprintf("  same, floor client (%s vs %s)", big.name(), small.name()),
		mailrules: secs(median(floors[big])) + " at " + big.name(), floor: secs(median(floors[small])) + " at " + small.name(),
		ratio: fmt.Sprintf("%.2fx", floorRatio), target: "(server's own growth)", verdict: "-"})
	for _, a := range []*account{small, big} {
		over := median(times[a]) - median(floors[a])
		b.add(row{workload: fmt.Sprintf("  mailrules over floor, incremental %s", a.name()),
			mailrules: secs(median(times[a])), floor: secs(median(floors[a])),
			ratio: fmt.Sprintf("+%.0fms", over.Seconds()*1000), target: "(constant)", verdict: "-"})
	}
	return nil
}

// uidNext asks the server for INBOX's UIDNEXT, before timing starts.
func (b *runner) uidNext(ctx context.Context, a *account) (uint32, error) {
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var next uint32
	err = c.Command(ctx, "STATUS INBOX (UIDNEXT)", func(resp []byte) error {
		s := string(resp)
		if i := strings.Index(s, "UIDNEXT "); i >= 0 {
			v := s[i+len("UIDNEXT "):]
			if j := strings.IndexAny(v, " )"); j >= 0 {
				n, err := strconv.ParseUint(v[:j], 10, 32)
				if err != nil {
					return fmt.Errorf("UIDNEXT %q: %w", v[:j], err)
				}
				next = uint32(n)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if next == 0 {
		return 0, fmt.Errorf("STATUS INBOX gave no UIDNEXT")
	}
	return next, c.Logout(ctx)
}

// floorIncremental is the incremental pass of the floor client: log in,
// select, fetch the rules' items of the messages from UID next on, then one
// UID MOVE per destination and one UID STORE for the flag, as decided by the
// plain-Go copy of the rules.
func (b *runner) floorIncremental(ctx context.Context, a *account, next uint32) (time.Duration, error) {
	decider := bench.NewDecider()
	t0 := time.Now()
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "INBOX")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	moves := map[string][]uint32{}
	var flag []uint32
	err = c.Command(ctx, fmt.Sprintf("UID FETCH %d:* (%s)", next, fetchItems()), func(resp []byte) error {
		d, err := rawimap.ParseFetch(resp)
		if err != nil || d.UID < next {
			return nil
		}
		dec := decider.Decide(d.Literal, d.InternalDate)
		if dec.Flag {
			flag = append(flag, d.UID)
		}
		if dec.Move != "" {
			moves[dec.Move] = append(moves[dec.Move], d.UID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(flag) > 0 {
		for _, set := range rawimap.FormatSet(flag, maxSetLen) {
			if err := c.Command(ctx, "UID STORE "+set+` +FLAGS.SILENT (\Flagged)`, nil); err != nil {
				return 0, err
			}
		}
	}
	for dest, uids := range moves {
		for _, set := range rawimap.FormatSet(uids, maxSetLen) {
			if err := c.Command(ctx, "UID MOVE "+set+" "+rawimap.Quote(a.wireName(dest)), nil); err != nil {
				return 0, err
			}
		}
	}
	if err := c.Logout(ctx); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// processed restores the account's pristine Maildir and lets mailrules
// process it once (run --all), as a mailbox in daily use would be.
func (b *runner) processed(ctx context.Context, a *account) error {
	if err := b.restore(ctx, a); err != nil {
		return err
	}
	os.Remove(b.statePath(a))
	_, err := b.runMailrules(ctx, a, "run", "--all")
	return err
}
