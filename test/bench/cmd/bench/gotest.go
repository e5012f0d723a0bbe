package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailrules/mailrules/test/bench/internal/rawimap"
)

// streamEnv names the recorded FETCH stream for the parser benchmarks.
const streamEnv = "MAILRULES_BENCH_FETCH_STREAM"

// recordStream saves the untagged responses of one
// UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])
// over the smallest mailbox: what the parser benchmarks parse.
func (b *runner) recordStream(ctx context.Context) (string, error) {
	a := b.smallest()
	p := filepath.Join(b.cfg.cacheDir, fmt.Sprintf("fetch-headers-%s.imap", a.name()))
	if fileExists(p) {
		return p, nil
	}
	if err := b.restore(ctx, a); err != nil {
		return "", err
	}
	c, err := rawimap.Login(ctx, b.srv.Addr(), a.user.Name, a.user.Password, "INBOX")
	if err != nil {
		return "", err
	}
	defer c.Close()
	var out bytes.Buffer
	n := 0
	err = c.Command(ctx, "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])", func(resp []byte) error {
		if bytes.Contains(resp[:min(len(resp), 32)], []byte(" FETCH (")) {
			out.Write(resp)
			n++
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := c.Logout(ctx); err != nil {
		return "", err
	}
	if err := os.WriteFile(p+".tmp", out.Bytes(), 0o644); err != nil {
		return "", err
	}
	b.factf("recorded FETCH stream: %d messages' headers, %.1f MB (%s)", n, float64(out.Len())/1e6, filepath.Base(p))
	return p, os.Rename(p+".tmp", p)
}

// benchLine is one parsed `go test -bench` result line.
type benchLine struct {
	name    string
	metrics map[string]float64 // by unit: ns/op, MB/s, allocs/msg, ...
}

// goBench runs `go test -run ^$ -bench pattern -benchmem` in dir on pkg and
// returns the result lines.
func (b *runner) goBench(ctx context.Context, dir, pkg, pattern string, env ...string) ([]benchLine, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", "1", pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	b.logf("go test -bench %s in %s: %.1fs", pattern, dir, time.Since(t0).Seconds())
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s (%s): %w\n%s", pattern, dir, err, out)
	}
	var lines []benchLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		l := benchLine{name: f[0], metrics: make(map[string]float64)}
		if i := strings.LastIndexByte(l.name, '-'); i > 0 {
			l.name = l.name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				l.metrics[f[i+1]] = v
			}
		}
		lines = append(lines, l)
	}
	return lines, nil
}

func findBench(lines []benchLine, name string) (benchLine, bool) {
	for _, l := range lines {
		if l.name == name {
			return l, true
		}
	}
	return benchLine{}, false
}

// parser runs workload 5: the parser benchmarks in the separate module
// test/bench/parser, our imap package against go-imap v2's client on the
// same recorded bytes.
func (b *runner) parser(ctx context.Context) error {
	stream, err := b.recordStream(ctx)
	if err != nil {
		return err
	}
	lines, err := b.goBench(ctx, "test/bench/parser", ".", ".", streamEnv+"="+stream)
	if err != nil {
		b.factf("parser benchmarks failed: %v", firstLine(err.Error()))
		b.add(row{workload: "FETCH parser MB/s", mailrules: notAvailable, floor: "-", ratio: "-", target: "(report)", verdict: "n/a"})
		return nil
	}
	ours, okOurs := findBench(lines, "BenchmarkParseFetch/mailrules")
	peer, okPeer := findBench(lines, "BenchmarkParseFetch/go-imap-v2")
	cell := func(ok bool, l benchLine, unit, format string) string {
		if !ok {
			return notAvailable
		}
		return fmt.Sprintf(format, l.metrics[unit])
	}
	ratio := "-"
	if okOurs && okPeer && peer.metrics["MB/s"] > 0 {
		ratio = fmt.Sprintf("%.2fx", ours.metrics["MB/s"]/peer.metrics["MB/s"])
	}
	b.add(row{workload: "FETCH parser throughput", mailrules: cell(okOurs, ours, "MB/s", "%.0f MB/s"),
		floor: cell(okPeer, peer, "MB/s", "%.0f MB/s (go-imap v2)"), ratio: ratio, target: "(report)", verdict: "info"})
	ratio = "-"
	if okOurs && okPeer && peer.metrics["allocs/msg"] > 0 {
		ratio = fmt.Sprintf("%.2fx", ours.metrics["allocs/msg"]/peer.metrics["allocs/msg"])
	}
	b.add(row{workload: "FETCH parser allocs/message", mailrules: cell(okOurs, ours, "allocs/msg", "%.1f"),
		floor: cell(okPeer, peer, "allocs/msg", "%.1f (go-imap v2)"), ratio: ratio, target: "(report)", verdict: "info"})
	return nil
}

// rulesBench runs workload 6: rule evaluation time per message for the
// bench rule set and the 50-rule set (test/bench/rules_test.go).
func (b *runner) rulesBench(ctx context.Context) error {
	lines, err := b.goBench(ctx, ".", "./test/bench/", "^BenchmarkEvaluate")
	for _, set := range []struct{ name, label string }{{"BenchmarkEvaluate/bench-7", "bench rules (7)"}, {"BenchmarkEvaluate/rules-50", "50 rules"}} {
		r := row{workload: "rule evaluation, " + set.label, floor: "-", ratio: "-", target: "(report)", verdict: "info"}
		l, ok := findBench(lines, set.name)
		if err != nil || !ok {
			r.mailrules, r.verdict = notAvailable, "n/a"
		} else {
			r.mailrules = fmt.Sprintf("%.2f µs/msg, %.1f allocs/msg", l.metrics["ns/msg"]/1000, l.metrics["allocs/msg"])
		}
		b.add(r)
	}
	if err != nil {
		b.factf("rules benchmarks failed: %v", firstLine(err.Error()))
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
