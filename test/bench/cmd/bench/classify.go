package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/test/bench/corpus"
	"github.com/mailrules/mailrules/test/rspamdtest"
)

// rspamcPath is rspamd's own client (Debian's rspamd package).
const rspamcPath = "/usr/bin/rspamc"

// classifyTimeout is the per-message timeout of both clients.
const classifyTimeout = 60 * time.Second

// classifyMessages returns the corpus messages as a classifier should see
// them: without the X-Spam-Flag header the corpus loader prepends to spam
// (rspamd has a rule on it, which would tell it the answer).
func classifyMessages(base []corpus.Message) [][]byte {
	out := make([][]byte, len(base))
	for i, m := range base {
		out[i] = bytes.TrimPrefix(m.Data, []byte("X-Spam-Flag: YES\r\n"))
	}
	return out
}

// classifyAll is the mailrules side of the classify workload: every
// message through one classify.Classifier, n at a time, as a pass with an
// rspamd rule does it. It returns the verdicts in message order (nil
// where a message got none) and the number of failures.
//
// The rules integration (lazy classify() in conditions) is built on its
// own branch; once it is in, this is the function to replace with a full
// `mailrules run --all` over a mailbox holding the same messages and a
// rule that calls the classifier, timed the same way.
func classifyAll(ctx context.Context, c classify.Classifier, msgs [][]byte, n int) ([]*classify.Verdict, int, error) {
	verdicts := make([]*classify.Verdict, len(msgs))
	next := make(chan int)
	var failed int
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				v, err := c.Classify(ctx, msgs[i])
				if err != nil {
					mu.Lock()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				verdicts[i] = v
			}
		}()
	}
	for i := range msgs {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, failed, ctx.Err()
	}
	return verdicts, failed, firstErr
}

// rspamcAll runs `rspamc -n n -j` over the message files in dir and
// returns the action rspamd answered for each file, by index.
func rspamcAll(ctx context.Context, url, dir string, count, n int) (map[int]string, time.Duration, error) {
	host := strings.TrimPrefix(url, "http://")
	cmd := exec.CommandContext(ctx, rspamcPath, "-h", host, "-n", strconv.Itoa(n),
		"-t", strconv.Itoa(int(classifyTimeout/time.Second)), "-j", "--compact", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	elapsed := time.Since(t0)
	if err != nil {
		return nil, 0, fmt.Errorf("rspamc: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	actions := make(map[int]string, count)
	dec := json.NewDecoder(&stdout)
	for {
		var r struct {
			Filename string  `json:"filename"`
			Action   *string `json:"action"`
			Error    string  `json:"error"`
		}
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, 0, fmt.Errorf("rspamc output: %w", err)
		}
		i, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(r.Filename), ".eml"))
		if err != nil || r.Action == nil {
			continue
		}
		actions[i] = *r.Action
	}
	if len(actions) != count {
		return nil, 0, fmt.Errorf("rspamc answered for %d of %d messages", len(actions), count)
	}
	return actions, elapsed, nil
}

// classifyBench runs the classify workload: the corpus through
// mailrules' rspamd client and through rspamc, against one throwaway
// rspamd, with the same concurrency, alternately, median of the runs.
func (b *runner) classifyBench(ctx context.Context) error {
	const name = "classify 6k via rspamd (msgs/s)"
	missing := rspamdtest.Available()
	if missing == "" && !fileExists(rspamcPath) {
		missing = rspamcPath + " is not installed"
	}
	if missing != "" {
		b.add(row{name, notAvailable, notAvailable, "-", "≥ 0.9x rspamc", "n/a"})
		b.factf("classify: %s", missing)
		return nil
	}
	msgs := classifyMessages(b.base)
	dir, err := os.MkdirTemp("", "mailrules-bench-classify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for i, m := range msgs {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d.eml", i)), m, 0o644); err != nil {
			return err
		}
	}
	t0 := time.Now()
	srv, err := rspamdtest.Start(&rspamdtest.Options{Workers: b.cfg.classifyWorkers})
	if err != nil {
		return fmt.Errorf("start rspamd: %w", err)
	}
	defer srv.Close()
	b.logf("rspamd started in %.1fs on %s", time.Since(t0).Seconds(), srv.URL())
	n := b.cfg.classifyConcurrency
	client := classify.NewRspamd(classify.Config{Name: "rspamd", Type: classify.TypeRspamd, URL: srv.URL(),
		Concurrency: n, Timeout: classifyTimeout})

	// Warm up: rspamd compiles its regular expressions in the background
	// after it starts, and scans slowly until that is done.
	warm := msgs[:min(len(msgs), 500)]
	if _, _, err := classifyAll(ctx, client, warm, n); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}

	var mine, theirs []time.Duration
	var mineCPU, theirsCPU []time.Duration // rspamd's CPU time per run
	var verdicts []*classify.Verdict
	var actions map[int]string
	for i := 0; i < b.cfg.runs; i++ {
		sides := []string{"rspamc", "mailrules"}
		if i%2 == 1 {
			slices.Reverse(sides)
		}
		for _, side := range sides {
			cpu0 := workerCPU(srv.URL())
			switch side {
			case "rspamc":
				a, d, err := rspamcAll(ctx, srv.URL(), dir, len(msgs), n)
				if err != nil {
					return err
				}
				actions = a
				theirs = append(theirs, d)
				theirsCPU = append(theirsCPU, workerCPU(srv.URL())-cpu0)
				b.logf("classify run %d rspamc: %s", i+1, secs(d))
			case "mailrules":
				t0 := time.Now()
				v, failed, err := classifyAll(ctx, client, msgs, n)
				d := time.Since(t0)
				if err != nil {
					return fmt.Errorf("mailrules classify: %d of %d failed: %w", failed, len(msgs), err)
				}
				verdicts = v
				mine = append(mine, d)
				mineCPU = append(mineCPU, workerCPU(srv.URL())-cpu0)
				b.logf("classify run %d mailrules: %s", i+1, secs(d))
			}
		}
	}
	rate := func(d time.Duration) float64 { return float64(len(msgs)) / d.Seconds() }
	mr, rc := rate(median(mine)), rate(median(theirs))
	ratio := mr / rc
	b.add(row{fmt.Sprintf("classify %s via rspamd, %d at a time (msgs/s)", scaleName(1, len(msgs)), n),
		fmt.Sprintf("%.0f msg/s", mr), fmt.Sprintf("%.0f msg/s (rspamc -n %d)", rc, n),
		fmt.Sprintf("%.2fx", ratio), "≥ 0.9x rspamc", verdict(ratio >= 0.9)})

	// Agreement with the corpus labels, and with rspamc, from the last runs.
	var agree, spam, caught, ham, kept, sameAction int
	for i, m := range b.base {
		v := verdicts[i]
		if v.Spam == m.Spam {
			agree++
		}
		if m.Spam {
			spam++
			if v.Spam {
				caught++
			}
		} else {
			ham++
			if !v.Spam {
				kept++
			}
		}
		if actions[i] == v.Action {
			sameAction++
		}
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	b.add(row{"  verdicts agree with corpus labels", fmt.Sprintf("%.1f%%", pct(agree, len(msgs))),
		fmt.Sprintf("spam caught %.1f%%, ham kept %.1f%%", pct(caught, spam), pct(kept, ham)), "-", "(information)", "info"})
	b.factf("classify: %d messages (%d spam, %d ham), rspamd %s with %d normal workers, offline (network modules off, short TLD list, Bayes untrained); runs (s): mailrules %s, rspamc %s",
		len(msgs), spam, ham, "3.4", max(b.cfg.classifyWorkers, 1), durations(mine), durations(theirs))
	if busy := func(cpu, wall []time.Duration) string {
		if median(cpu) == 0 {
			return "unknown"
		}
		return fmt.Sprintf("%.0f%%", 100*median(cpu).Seconds()/median(wall).Seconds())
	}; len(mineCPU) > 0 {
		b.factf("classify: rspamd's workers' CPU time over wall time (median runs; 100%% = one core): mailrules %s, rspamc %s; rspamd CPU s per run: mailrules %s, rspamc %s",
			busy(mineCPU, mine), busy(theirsCPU, theirs), durations(mineCPU), durations(theirsCPU))
	}
	b.factf("classify: mailrules and rspamc got the same action for %d of %d messages (%.1f%%)", sameAction, len(msgs), pct(sameAction, len(msgs)))
	return nil
}

// workerCPU returns the CPU time rspamd's normal workers on the address of
// url have used so far, from /proc (0 where there is no /proc). Its growth
// over a run says how busy a client kept rspamd.
func workerCPU(url string) time.Duration {
	title := "rspamd: normal process (" + strings.TrimPrefix(url, "http://") + ")"
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var ticks int64
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(cmdline, []byte(title)) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if err != nil {
			continue
		}
		// The fields after the parenthesized command name; utime and
		// stime are the 14th and 15th of the whole line.
		rest := stat[bytes.LastIndexByte(stat, ')')+2:]
		f := strings.Fields(string(rest))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}
