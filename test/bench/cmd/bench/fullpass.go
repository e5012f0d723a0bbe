package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// fullPass runs workload 1 (mailrules run --all against the floor client,
// alternately, median of the runs) at every loaded scale, and from the same
// mailrules runs workload 4 (peak RSS).
func (b *runner) fullPass(ctx context.Context, mr bool) error {
	scales := make([]int, 0, len(b.accounts))
	for s := range b.accounts {
		scales = append(scales, s)
	}
	slices.Sort(scales)
	rss := make(map[int]int64)
	for _, scale := range scales {
		a := b.accounts[scale]
		var floor, mine []time.Duration
		var peak int64
		for i := 0; i < b.cfg.runs; i++ {
			sides := []string{"floor", "mailrules"}
			if i%2 == 1 {
				slices.Reverse(sides)
			}
			for _, side := range sides {
				if side == "mailrules" && !mr {
					continue
				}
				if err := b.restore(ctx, a); err != nil {
					return err
				}
				switch side {
				case "floor":
					d, err := b.floorPass(ctx, a)
					if err != nil {
						return fmt.Errorf("%s floor pass: %w", a.name(), err)
					}
					floor = append(floor, d)
				case "mailrules":
					os.Remove(b.statePath(a))
					res, err := b.runMailrules(ctx, a, "run", "--all")
					if err != nil {
						return err
					}
					mine = append(mine, res.elapsed)
					peak = max(peak, res.maxRSS)
				}
				b.logf("%s full pass %s run %d: %s", a.name(), side, i+1, secs(lastOf(floor, mine, side)))
				if i == 0 {
					if err := b.verify(ctx, a); err != nil {
						b.factf("%s full pass by %s left wrong results: %v", a.name(), side, err)
						if side == "floor" {
							return fmt.Errorf("floor client is wrong: %w", err)
						}
						mine = nil // not a valid pass; reported as FAIL below
					}
				}
			}
		}
		b.factf("%s full pass times (s): floor %s; mailrules %s", a.name(), durations(floor), durations(mine))
		r := row{workload: fmt.Sprintf("full pass %s (run --all)", a.name()), floor: secs(median(floor)), target: "≤ 1.15x floor"}
		if a != b.largest() {
			r.target = "(reference)"
		}
		switch {
		case !mr:
			r.mailrules, r.ratio, r.verdict = notAvailable, "-", "n/a"
		case len(mine) == 0:
			r.mailrules, r.ratio, r.verdict = "wrong results", "-", "FAIL"
		default:
			ratio := median(mine).Seconds() / median(floor).Seconds()
			r.mailrules, r.ratio = secs(median(mine)), fmt.Sprintf("%.2fx", ratio)
			r.verdict = "info"
			if a == b.largest() {
				r.verdict = verdict(ratio <= 1.15)
			}
			rss[scale] = peak
		}
		if b.cfg.workloads["full"] {
			b.add(r)
		}
	}
	if !b.cfg.workloads["memory"] {
		return nil
	}
	big, small := b.largest(), b.smallest()
	r := row{workload: fmt.Sprintf("peak RSS, full pass %s", big.name()), floor: "-", ratio: "-", target: "< 48 MB"}
	if !mr || rss[big.scale] == 0 {
		r.mailrules, r.verdict = notAvailable, "n/a"
	} else {
		mb := float64(rss[big.scale]) / (1 << 20)
		r.mailrules, r.verdict = fmt.Sprintf("%.1f MB", mb), verdict(mb < 48)
	}
	b.add(r)
	if big != small {
		r := row{workload: fmt.Sprintf("peak RSS growth %s -> %s", small.name(), big.name()), target: "≤ 1.5x"}
		if !mr || rss[big.scale] == 0 || rss[small.scale] == 0 {
			r.mailrules, r.floor, r.ratio, r.verdict = notAvailable, "-", "-", "n/a"
		} else {
			g := float64(rss[big.scale]) / float64(rss[small.scale])
			r.mailrules = fmt.Sprintf("%.1f MB", float64(rss[big.scale])/(1<<20))
			r.floor = fmt.Sprintf("%.1f MB at %s", float64(rss[small.scale])/(1<<20), small.name())
			r.ratio, r.verdict = fmt.Sprintf("%.2fx", g), verdict(g <= 1.5)
		}
		b.add(r)
	}
	return nil
}

func lastOf(floor, mine []time.Duration, side string) time.Duration {
	s := floor
	if side == "mailrules" {
		s = mine
	}
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}
