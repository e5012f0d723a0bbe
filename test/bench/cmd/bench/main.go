// Command bench runs the mailrules benchmarks (make bench): it starts a
// throwaway Dovecot (test/dovecottest), loads the SpamAssassin public corpus
// into Maildirs at 1x and 10x, and measures mailrules against the bare work
// the server has to do, printing one table. See BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/test/bench/corpus"
	"github.com/mailrules/mailrules/test/dovecottest"
)

type config struct {
	cacheDir  string
	mailrules string
	scales    []int
	runs      int
	workloads map[string]bool
	markdown  bool
	verbose   bool
	// classify workload: client concurrency (both sides) and rspamd's
	// normal worker processes
	classifyConcurrency int
	classifyWorkers     int
}

func main() {
	var cfg config
	var scales, workloads string
	flag.StringVar(&cfg.cacheDir, "cache", "test/bench/cache", "cache directory (corpus, pristine Maildirs, recorded FETCH stream)")
	flag.StringVar(&cfg.mailrules, "mailrules", "bin/mailrules", "mailrules binary (make build)")
	flag.StringVar(&scales, "scale", "1,10", "corpus scales to load (1 = 6k messages, 10 = 60k)")
	flag.IntVar(&cfg.runs, "runs", 3, "timed runs per side for the full and incremental passes (median reported)")
	flag.StringVar(&workloads, "workloads", "full,incremental,latency,memory,parser,rules", "workloads to run (also: classify, which make bench-classify runs)")
	flag.BoolVar(&cfg.markdown, "markdown", false, "print the table as Markdown")
	flag.BoolVar(&cfg.verbose, "v", false, "log progress")
	flag.IntVar(&cfg.classifyConcurrency, "classify-concurrency", classify.DefaultConcurrency, "classify workload: requests in flight, for mailrules and rspamc -n alike")
	flag.IntVar(&cfg.classifyWorkers, "classify-workers", 2, "classify workload: rspamd normal worker processes")
	flag.Parse()
	for _, s := range strings.Split(scales, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatalf("bad -scale %q", scales)
		}
		cfg.scales = append(cfg.scales, n)
	}
	cfg.workloads = make(map[string]bool)
	for _, w := range strings.Split(workloads, ",") {
		cfg.workloads[strings.TrimSpace(w)] = true
	}
	if cfg.runs < 1 {
		fatalf("-runs must be at least 1")
	}
	abs, err := filepath.Abs(cfg.cacheDir)
	if err != nil {
		fatalf("cache: %v", err)
	}
	cfg.cacheDir = abs

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &runner{cfg: cfg, start: time.Now()}
	err = b.run(ctx)
	b.printTable(os.Stdout)
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

// runner is one run of the benchmarks.
type runner struct {
	cfg      config
	start    time.Time
	srv      *dovecottest.Server
	base     []corpus.Message
	accounts map[int]*account // by scale
	rows     []row
	facts    []string // measured context printed under the table
}

func (b *runner) logf(format string, args ...any) {
	if b.cfg.verbose {
		fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
	}
}

func (b *runner) factf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	b.facts = append(b.facts, s)
	b.logf("%s", s)
}

func (b *runner) run(ctx context.Context) error {
	var err error
	t0 := time.Now()
	b.base, err = corpus.Load(ctx, b.cfg.cacheDir, b.logf)
	if err != nil {
		return err
	}
	size := 0
	for _, m := range b.base {
		size += len(m.Data)
	}
	b.factf("corpus: %d messages, %.1f MB (%s, ready in %.1fs)", len(b.base), float64(size)/1e6, corpus.Package, time.Since(t0).Seconds())

	needServer := false
	for _, w := range []string{"full", "incremental", "latency", "memory", "parser"} {
		needServer = needServer || b.cfg.workloads[w]
	}
	if needServer {
		b.srv, err = dovecottest.Start(nil)
		if err != nil {
			return fmt.Errorf("start dovecot: %w", err)
		}
		defer b.srv.Close()
		b.accounts = make(map[int]*account)
		for _, scale := range b.cfg.scales {
			a, err := b.setupAccount(ctx, scale)
			if err != nil {
				return err
			}
			b.accounts[scale] = a
		}
	}
	mr := false
	for _, w := range []string{"full", "incremental", "latency", "memory"} {
		if b.cfg.workloads[w] {
			mr = b.mailrulesAvailable()
			break
		}
	}
	if b.cfg.workloads["full"] || b.cfg.workloads["memory"] {
		if err := b.fullPass(ctx, mr); err != nil {
			return err
		}
	}
	if b.cfg.workloads["incremental"] {
		if err := b.incremental(ctx, mr); err != nil {
			return err
		}
	}
	if b.cfg.workloads["latency"] {
		if err := b.latency(ctx, mr); err != nil {
			return err
		}
	}
	if b.cfg.workloads["parser"] {
		if err := b.parser(ctx); err != nil {
			return err
		}
	}
	if b.cfg.workloads["rules"] {
		if err := b.rulesBench(ctx); err != nil {
			return err
		}
	}
	if b.cfg.workloads["classify"] {
		if err := b.classifyBench(ctx); err != nil {
			return err
		}
	}
	b.factf("total bench time %.0fs", time.Since(b.start).Seconds())
	return nil
}

// largest returns the account of the largest loaded scale, and of the
// smallest.
func (b *runner) largest() *account {
	var best *account
	for _, a := range b.accounts {
		if best == nil || a.scale > best.scale {
			best = a
		}
	}
	return best
}

func (b *runner) smallest() *account {
	var best *account
	for _, a := range b.accounts {
		if best == nil || a.scale < best.scale {
			best = a
		}
	}
	return best
}
