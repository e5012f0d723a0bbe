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
	"github.com/mailrules/mailrules/test/bench/internal/rawimap"
	"github.com/mailrules/mailrules/test/dovecottest"
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

// classifyAll sends every message through one classify.Classifier, n at
// a time: mailrules' client path alone, without IMAP (the warm-up, and an
// information line beside the full pass). It returns the verdicts in
// message order (nil where a message got none) and the number of failures.
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

// classifyRulesTOML is the mailrules side's config after the account: one
// rspamd classifier with n requests in flight, and one rule that files
// what it calls spam into Junk.
func classifyRulesTOML(url string, n int) string {
	return fmt.Sprintf(`[[classifier]]
name = "rspamd"
type = "rspamd"
url = %q
concurrency = %d
timeout = "%s"

[[rule]]
name = "spam by rspamd"
when = 'classify("rspamd").spam'
move = "Junk"
`, url, n, classifyTimeout)
}

// setupClassifyAccount loads msgs into the INBOX of a new Dovecot user,
// creates its Junk, reads every message once (so that the timed passes
// find Dovecot's index and cache, and the page cache, warm) and keeps a
// snapshot of the Maildir for restore.
func (b *runner) setupClassifyAccount(ctx context.Context, msgs [][]byte) (*account, error) {
	a := &account{scale: 1, count: len(msgs)}
	var err error
	a.user, err = b.srv.AddUser("classify")
	if err != nil {
		return nil, err
	}
	a.pristine = filepath.Join(b.cfg.cacheDir, "pristine-classify")
	dm := make([]dovecottest.Message, len(msgs))
	for i, m := range msgs {
		dm[i] = dovecottest.Message{Data: m, InternalDate: b.base[i].InternalDate}
	}
	t0 := time.Now()
	if err := b.srv.AddMessages(a.user, "INBOX", dm); err != nil {
		return nil, err
	}
	load := time.Since(t0)
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "INBOX")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Command(ctx, `CREATE "Junk"`, nil); err != nil && !alreadyExists(err) {
		return nil, fmt.Errorf("create Junk: %w", err)
	}
	for _, cmd := range []string{"UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)", "UID FETCH 1:* (UID BODY.PEEK[])"} {
		if err := c.Command(ctx, cmd, nil); err != nil {
			return nil, fmt.Errorf("warm-up %s: %w", cmd, err)
		}
	}
	if err := c.Logout(ctx); err != nil {
		return nil, err
	}
	if err := b.waitIdle(ctx, a); err != nil {
		return nil, err
	}
	if err := cloneTree(a.user.Maildir, a.pristine); err != nil {
		return nil, err
	}
	b.logf("classify: loaded %d messages into %s's INBOX in %.1fs", len(msgs), a.user.Name, load.Seconds())
	return a, nil
}

// classifyPlacement reads where a pass left the messages: the Message-IDs
// in Junk, and how many messages INBOX and Junk hold together.
func (b *runner) classifyPlacement(ctx context.Context, a *account) (map[string]bool, int, error) {
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "")
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	junk := make(map[string]bool)
	total := 0
	for _, box := range []string{"INBOX", "Junk"} {
		if err := c.Command(ctx, "EXAMINE "+rawimap.Quote(box), nil); err != nil {
			return nil, 0, fmt.Errorf("examine %s: %w", box, err)
		}
		err := c.Command(ctx, "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", func(resp []byte) error {
			d, err := rawimap.ParseFetch(resp)
			if errors.Is(err, rawimap.ErrNotFetch) {
				return nil
			}
			if err != nil {
				return err
			}
			total++
			if box == "Junk" {
				junk[corpus.HeaderValue(d.Literal, "Message-ID")] = true
			}
			return nil
		})
		if err != nil {
			return nil, 0, fmt.Errorf("fetch %s: %w", box, err)
		}
	}
	return junk, total, c.Logout(ctx)
}

// classifyBench runs the classify workload: the corpus through a full
// `mailrules run --all` with an rspamd rule over a Dovecot mailbox, and
// through rspamc over the same messages as files, against one throwaway
// rspamd, with the same concurrency, alternately, median of the runs.
func (b *runner) classifyBench(ctx context.Context) error {
	const name = "classify 6k via rspamd (msgs/s)"
	missing := rspamdtest.Available()
	if missing == "" && !fileExists(rspamcPath) {
		missing = rspamcPath + " is not installed"
	}
	if missing == "" && !b.mailrulesAvailable() {
		missing = "no mailrules binary (make build)"
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
	if b.srv == nil {
		b.srv, err = dovecottest.Start(nil)
		if err != nil {
			return fmt.Errorf("start dovecot: %w", err)
		}
		defer func() { b.srv.Close(); b.srv = nil }()
	}
	a, err := b.setupClassifyAccount(ctx, msgs)
	if err != nil {
		return fmt.Errorf("classify setup: %w", err)
	}
	t0 := time.Now()
	srv, err := rspamdtest.Start(&rspamdtest.Options{Workers: b.cfg.classifyWorkers})
	if err != nil {
		return fmt.Errorf("start rspamd: %w", err)
	}
	defer srv.Close()
	b.logf("rspamd started in %.1fs on %s", time.Since(t0).Seconds(), srv.URL())
	n := b.cfg.classifyConcurrency
	a.rules = classifyRulesTOML(srv.URL(), n)
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
	var junk map[string]bool
	var actions map[int]string
	for i := 0; i < b.cfg.runs; i++ {
		sides := []string{"rspamc", "mailrules"}
		if i%2 == 1 {
			slices.Reverse(sides)
		}
		for _, side := range sides {
			if side == "mailrules" {
				// Outside the timing: the pristine mailbox back, no state.
				if err := b.restore(ctx, a); err != nil {
					return err
				}
				os.Remove(b.statePath(a))
			}
			cpu0 := workerCPU(srv.URL())
			switch side {
			case "rspamc":
				acts, d, err := rspamcAll(ctx, srv.URL(), dir, len(msgs), n)
				if err != nil {
					return err
				}
				actions = acts
				theirs = append(theirs, d)
				theirsCPU = append(theirsCPU, workerCPU(srv.URL())-cpu0)
				b.logf("classify run %d rspamc: %s", i+1, secs(d))
			case "mailrules":
				res, err := b.runMailrules(ctx, a, "run", "--all")
				if err != nil {
					return fmt.Errorf("classify pass: %w", err)
				}
				mine = append(mine, res.elapsed)
				mineCPU = append(mineCPU, workerCPU(srv.URL())-cpu0)
				j, total, err := b.classifyPlacement(ctx, a)
				if err != nil {
					return fmt.Errorf("classify pass: %w", err)
				}
				if total != len(msgs) {
					return fmt.Errorf("classify pass left %d messages in INBOX and Junk, want %d", total, len(msgs))
				}
				junk = j
				b.logf("classify run %d mailrules: %s (%d to Junk)", i+1, secs(res.elapsed), len(j))
			}
		}
	}
	rate := func(d time.Duration) float64 { return float64(len(msgs)) / d.Seconds() }
	mr, rc := rate(median(mine)), rate(median(theirs))
	ratio := mr / rc
	b.add(row{fmt.Sprintf("classify %s, run --all with an rspamd rule, %d at a time (msgs/s)", scaleName(1, len(msgs)), n),
		fmt.Sprintf("%.0f msg/s", mr), fmt.Sprintf("%.0f msg/s (rspamc -n %d)", rc, n),
		fmt.Sprintf("%.2fx", ratio), "≥ 0.9x rspamc", verdict(ratio >= 0.9)})

	// Agreement with the corpus labels, from where the last mailrules
	// pass filed each message, and with rspamc's last run.
	var agree, spam, caught, ham, kept, sameVerdict int
	for i, m := range b.base {
		filed := junk[m.MessageID]
		if filed == m.Spam {
			agree++
		}
		if m.Spam {
			spam++
			if filed {
				caught++
			}
		} else {
			ham++
			if !filed {
				kept++
			}
		}
		if rspamdSpam(actions[i]) == filed {
			sameVerdict++
		}
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	b.add(row{"  filed as the corpus labels say (Junk = spam)", fmt.Sprintf("%.1f%%", pct(agree, len(msgs))),
		fmt.Sprintf("spam to Junk %.1f%%, ham kept %.1f%%", pct(caught, spam), pct(kept, ham)), "-", "(information)", "info"})

	// The client path alone (no IMAP), once, for comparison.
	cpu0 := workerCPU(srv.URL())
	t1 := time.Now()
	if _, failed, err := classifyAll(ctx, client, msgs, n); err != nil {
		return fmt.Errorf("client path: %d of %d failed: %w", failed, len(msgs), err)
	}
	client1, clientCPU := time.Since(t1), workerCPU(srv.URL())-cpu0
	b.add(row{"  client path only (classify.Rspamd, no IMAP), 1 run", fmt.Sprintf("%.0f msg/s", rate(client1)), "-",
		fmt.Sprintf("%.2fx", rate(client1)/rc), "(information)", "info"})

	b.factf("classify: %d messages (%d spam, %d ham), rspamd %s with %d normal workers, offline (network modules off, short TLD list, Bayes untrained, autolearn off); runs (s): mailrules run --all %s, rspamc %s; client path alone %s",
		len(msgs), spam, ham, "3.4", max(b.cfg.classifyWorkers, 1), durations(mine), durations(theirs), secs(client1))
	if busy := func(cpu, wall []time.Duration) string {
		if median(cpu) == 0 {
			return "unknown"
		}
		return fmt.Sprintf("%.0f%%", 100*median(cpu).Seconds()/median(wall).Seconds())
	}; len(mineCPU) > 0 {
		b.factf("classify: rspamd's workers' CPU time over wall time (median runs; 100%% = one core): mailrules %s, rspamc %s, client path %s; rspamd CPU s per run: mailrules %s, rspamc %s, client path %s",
			busy(mineCPU, mine), busy(theirsCPU, theirs), busy([]time.Duration{clientCPU}, []time.Duration{client1}),
			durations(mineCPU), durations(theirsCPU), secs(clientCPU))
	}
	b.factf("classify: mailrules filed %d of %d messages as rspamc's verdict says (%.1f%%)", sameVerdict, len(msgs), pct(sameVerdict, len(msgs)))
	return nil
}

// rspamdSpam reports whether an rspamd action is spam, as classify.Rspamd
// decides it.
func rspamdSpam(action string) bool {
	switch action {
	case "reject", "add header", "rewrite subject":
		return true
	}
	return false
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
