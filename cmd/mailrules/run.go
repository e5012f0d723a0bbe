package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/engine"
)

// engineFlags are the flags run and watch share.
type engineFlags struct {
	config    *string
	state     string
	dryRun    bool
	logFormat string
	logLevel  string
	trace     string
	// listen is watch's --listen address for /metrics and /healthz.
	listen string
	// watch is set for watch, which speaks sd_notify (service.go).
	watch bool
}

func (f *engineFlags) register(fs *flag.FlagSet) {
	f.config = configFlag(fs)
	fs.StringVar(&f.state, "state", "", "state database `file` (default: the config's state, else $XDG_STATE_HOME/mailrules/state.db)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be done; change nothing (mailboxes are opened read-only)")
	fs.StringVar(&f.logFormat, "log-format", "", "log `format`: console or json (default: console on a terminal, json otherwise)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&f.trace, "trace", os.Getenv("MAILRULES_TRACE"), "write the IMAP protocol trace (credentials redacted, lines time-stamped) to `file` (default $MAILRULES_TRACE)")
}

// runFlags registers run's flags on fs.
func runFlags(fs *flag.FlagSet) (f *engineFlags, all *bool) {
	f = new(engineFlags)
	f.register(fs)
	all = fs.Bool("all", false, "apply the rules to every message, not only to mail that arrived since the last pass")
	return f, all
}

// cmdRun is `mailrules run`: one pass over every account and mailbox, for cron.
func cmdRun(args []string) int {
	fs := newFlagSet("run", nil)
	f, all := runFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	return runEngine(f, fs.Args(), func(ctx context.Context, e *engine.Engine) error { return e.Run(ctx) }, *all)
}

// watchFlags registers watch's flags on fs.
func watchFlags(fs *flag.FlagSet) *engineFlags {
	f := new(engineFlags)
	f.register(fs)
	fs.StringVar(&f.listen, "listen", "", "serve Prometheus metrics at http://`ADDR`/metrics and a health check at /healthz (200 \"ok\" while every watched mailbox is connected, its last pass succeeded and it showed life, by a pass, a NOOP poll or waiting in IDLE, within 3 x max(poll_interval, idle_restart) and at least 30m; else 503 with a reason per mailbox), e.g. 127.0.0.1:9464; no authentication, so keep it on loopback or a trusted network (default: off)")
	return f
}

// cmdWatch is `mailrules watch`: the daemon.
func cmdWatch(args []string) int {
	fs := newFlagSet("watch", nil)
	f := watchFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	f.watch = true
	return runEngine(f, fs.Args(), func(ctx context.Context, e *engine.Engine) error {
		reloadOnHUP(ctx, e)
		return e.Watch(ctx)
	}, false)
}

// reloadOnHUP makes SIGHUP reload e's configuration until ctx ends. A
// rejected configuration is logged by Reload and leaves watch running as
// it was.
func reloadOnHUP(ctx context.Context, e *engine.Engine) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				e.Reload(ctx) //nolint:errcheck // Reload logs why it failed
			}
		}
	}()
}

func exitUsage(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitConfig
}

// runEngine loads the configuration, opens the state and the log, and runs
// fn until it returns or SIGINT/SIGTERM asks it to stop (the batch in
// flight is finished first).
func runEngine(f *engineFlags, rest []string, fn func(context.Context, *engine.Engine) error, all bool) int {
	if len(rest) > 0 {
		fmt.Fprintf(os.Stderr, "mailrules: unexpected arguments %q\n", rest)
		return exitConfig
	}
	cfg, ok := loadConfig(*f.config, os.Stderr)
	if !ok {
		return exitConfig
	}
	log, err := engine.NewLogger(&engine.LogOptions{Format: f.logFormat, Level: f.logLevel})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mailrules: %v\n", err)
		return exitConfig
	}
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit

	statePath := f.state
	if statePath == "" {
		statePath = cfg.StatePath
	}
	if statePath == "" {
		statePath = engine.DefaultStatePath()
	}
	store, err := engine.OpenStore(statePath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mailrules: %v\n", err)
		return exitFailure
	}
	defer store.Close()

	var trace io.Writer
	if f.trace != "" {
		tf, err := os.OpenFile(f.trace, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mailrules: trace: %v\n", err)
			return exitFailure
		}
		defer tf.Close()
		trace = &stampedWriter{w: tf}
	}

	// A pass keeps little alive for long and spends about 1% of its CPU
	// in the garbage collector (GODEBUG=gctrace=1 over a 60k-message pass),
	// so it trades a little more of that for a smaller footprint. GOGC in
	// the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}

	stopProfiles, err := startProfiles()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mailrules: %v\n", err)
		return exitFailure
	}
	defer stopProfiles()

	var metrics *engine.Metrics
	if f.listen != "" {
		metrics = engine.NewMetrics()
		stopServer, err := serveMetrics(f.listen, metrics, log)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mailrules: %v\n", err)
			return exitFailure
		}
		defer stopServer()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The engine makes the classifiers from the configuration (anew
	// after a reload).
	opts := &engine.Options{DryRun: f.dryRun, All: all, Out: os.Stdout, Trace: trace, Metrics: metrics,
		StatusFile: engine.StatusPath(statePath)}
	if f.watch {
		if err := serviceOptions(opts, log); err != nil {
			fmt.Fprintf(os.Stderr, "mailrules: %v\n", err)
			return exitConfig
		}
	}
	e := engine.New(cfg, store, log, opts)
	if err := fn(ctx, e); err != nil {
		fmt.Fprintf(os.Stderr, "mailrules: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// serveMetrics listens on addr and serves m's /metrics and /healthz until
// the returned function shuts the server down (waiting up to 5 s for
// requests in flight).
func serveMetrics(addr string, m *engine.Metrics, log *zap.Logger) (shutdown func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", zap.Error(err))
		}
	}()
	log.Info("serving metrics and health", zap.String("addr", ln.Addr().String()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("metrics server shutdown", zap.Error(err))
		}
		<-done
	}, nil
}

// stampedWriter prefixes every write (the trace writes whole lines) with the
// time, so a trace shows where a pass spends it. The connections of all
// accounts and mailboxes share it, so writes are serialized.
type stampedWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (s *stampedWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = time.Now().AppendFormat(s.buf[:0], "15:04:05.000000 ")
	s.buf = append(s.buf, p...)
	if _, err := s.w.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
