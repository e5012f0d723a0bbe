package main

import (
	"context"
	"fmt"
	"os"
	"time"

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
// largest scale must be within 1.2x of the time at the smallest.
func (b *runner) incremental(ctx context.Context, mr bool) error {
	big, small := b.largest(), b.smallest()
	r := row{workload: fmt.Sprintf("incremental pass, 10 new (%s vs %s)", big.name(), small.name()), target: "≤ 1.2x"}
	if !mr {
		r.mailrules, r.floor, r.ratio, r.verdict = notAvailable, "-", "-", "n/a"
		b.add(r)
		return nil
	}
	times := make(map[*account][]time.Duration)
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
		}
	}
	b.factf("incremental pass times (s): %s %s; %s %s", small.name(), durations(times[small]), big.name(), durations(times[big]))
	ratio := median(times[big]).Seconds() / median(times[small]).Seconds()
	r.mailrules = secs(median(times[big])) + " at " + big.name()
	r.floor = secs(median(times[small])) + " at " + small.name()
	r.ratio, r.verdict = fmt.Sprintf("%.2fx", ratio), verdict(ratio <= 1.2)
	b.add(r)
	return nil
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
