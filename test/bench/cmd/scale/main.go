// Command scale measures one `mailrules watch` over many accounts on one
// Dovecot (issue 11): connections the server holds, time until every
// mailbox is watched, peak RSS, CPU while idle, new-mail latency against a
// plain IDLE observer's, and that every message is filed exactly once.
//
//	go run ./test/bench/cmd/scale -accounts 50 [-no-notify] [-idle 60s]
//
// It needs bin/mailrules (make build) and Dovecot (make deps).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

const capsWithoutNotify = "IMAP4rev1 SASL-IR ID ENABLE IDLE SORT THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+"

var folders = []string{"INBOX", "F1", "F2", "F3", "F4"}

func main() {
	accounts := flag.Int("accounts", 1000, "accounts, each with 5 watched mailboxes")
	noNotify := flag.Bool("no-notify", false, "hide NOTIFY from Dovecot (the connection budget path)")
	idleFor := flag.Duration("idle", 60*time.Second, "how long to measure CPU while nothing arrives")
	messages := flag.Int("messages", 50, "messages APPENDed to random mailboxes for the latency")
	binary := flag.String("binary", "bin/mailrules", "the mailrules binary")
	flag.Parse()
	if err := run(*accounts, *noNotify, *idleFor, *messages, *binary); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(n int, noNotify bool, idleFor time.Duration, messages int, binary string) error {
	// Dovecot (a process per connection) and mailrules (a socket per
	// connection) inherit this soft limit: raise it to the hard one.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Printf("note: cannot raise the open-file limit to %d: %v\n", lim.Max, err)
		}
	}
	if b, err := os.ReadFile("/proc/sys/fs/inotify/max_user_instances"); err == nil {
		if v, _ := strconv.Atoi(strings.TrimSpace(string(b))); v < 8*n+1024 {
			if err := os.WriteFile("/proc/sys/fs/inotify/max_user_instances", []byte(strconv.Itoa(8*n+1024)), 0o644); err != nil {
				fmt.Printf("note: fs.inotify.max_user_instances is %d and cannot be raised (%v): Dovecot polls IDLE every 30 s beyond that many processes\n", v, err)
			}
		}
	}
	opts := &dovecottest.Options{ExtraConfig: fmt.Sprintf(`default_process_limit = %d
default_client_limit = %d
default_vsz_limit = 0
service imap {
  process_limit = %d
}
service imap-login {
  process_limit = 64
}
mail_max_userip_connections = 100
`, 6*n+100, 12*n+1000, 6*n+100)}
	if noNotify {
		opts.Capability = capsWithoutNotify
	}
	srv, err := dovecottest.Start(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "mailrules-scale")
	if err != nil {
		return err
	}
	if os.Getenv("SCALE_KEEP") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("keeping", dir)
	}
	host, port, _ := strings.Cut(srv.Addr(), ":")
	var cfg strings.Builder
	users := make([]*dovecottest.User, n)
	for i := range users {
		u, err := srv.AddUser(fmt.Sprintf("scale%04d", i))
		if err != nil {
			return err
		}
		users[i] = u
		// Folders straight on disk (Maildir++): no login before the
		// measurement.
		for _, f := range append(folders[1:], "Junk") {
			if err := srv.AddMessages(u, f, nil); err != nil {
				return err
			}
		}
		fmt.Fprintf(&cfg, "[[account]]\nname = %q\nhost = %q\nport = %s\ntls = \"none\"\nusername = %q\npassword = %q\nmailboxes = [\"INBOX\", \"F1\", \"F2\", \"F3\", \"F4\"]\npoll_interval = \"10s\"\n\n",
			u.Name, host, port, u.Name, u.Password)
	}
	cfg.WriteString("[[rule]]\nname = \"spam\"\nwhen = 'header(\"X-Spam-Flag\") == \"YES\"'\nmove = \"Junk\"\n")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return err
	}

	// The single-account floor: a plain IDLE observer's EXISTS delay.
	floor, err := idleFloor(ctx, srv, users[0])
	if err != nil {
		return err
	}

	logPath := filepath.Join(dir, "watch.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(binary, "watch", "-c", cfgPath, "--state", filepath.Join(dir, "state.db"), "--log-format", "json", "--log-level", "info")
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	want := n * len(folders)
	var startup time.Duration
	for {
		if c := countLog(logPath, `"first pass over this mailbox`); c >= want {
			startup = time.Since(start)
			break
		}
		if time.Since(start) > 10*time.Minute {
			return fmt.Errorf("startup did not finish in 10 min")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	conns := imapProcesses(srv.Dir())
	failedLogins := countLog(srv.LogPath(), "auth failed") + countLog(srv.LogPath(), "Auth request timed out")

	cpu0 := cpuTicks(cmd.Process.Pid)
	time.Sleep(idleFor)
	cpu1 := cpuTicks(cmd.Process.Pid)
	idleCPU := float64(cpu1-cpu0) / 100 / idleFor.Seconds() * 100

	// Latency: APPEND to random mailboxes of random accounts, one at a
	// time, timed from APPEND OK to the mover's "action" log line.
	appended := map[string]time.Time{}
	var mu sync.Mutex
	for i := range messages {
		u := users[rand.IntN(n)]
		mb := folders[rand.IntN(len(folders))]
		id := fmt.Sprintf("scale-%d@x", i)
		c, err := imap.Dial(ctx, srv.Addr(), nil)
		if err != nil {
			return err
		}
		if err := c.Login(ctx, u.Name, u.Password); err != nil {
			return err
		}
		msg := fmt.Sprintf("From: a@x\r\nMessage-ID: <%s>\r\nX-Spam-Flag: YES\r\nSubject: %d\r\n\r\nbody\r\n", id, i)
		if _, err := c.Append(ctx, mb, nil, time.Time{}, strings.NewReader(msg)); err != nil {
			return err
		}
		mu.Lock()
		appended[id] = time.Now()
		mu.Unlock()
		c.Logout(ctx)
		time.Sleep(1500 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	rss := vmHWM(cmd.Process.Pid)
	lat, filed := actionTimes(logPath, appended)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	slices.Sort(lat)
	p := func(q float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(q*float64(len(lat))))]
	}
	mode := "NOTIFY"
	if noNotify {
		mode = "NOTIFY hidden (max_connections 5)"
	}
	fmt.Printf("scale: %d accounts x %d mailboxes, %s\n", n, len(folders), mode)
	fmt.Printf("  connections (imap processes): %d (%.2f per account)\n", conns, float64(conns)/float64(n))
	fmt.Printf("  startup until every mailbox watched: %v; failed logins in the Dovecot log: %d\n", startup.Round(time.Millisecond), failedLogins)
	fmt.Printf("  peak RSS: %.1f MB (%.0f KB per account)\n", float64(rss)/1024, float64(rss)/float64(n))
	fmt.Printf("  CPU while idle over %v: %.2f%% of a core\n", idleFor, idleCPU)
	fmt.Printf("  new-mail latency (APPEND OK to the move in the log): p50 %v p99 %v; IDLE floor %v\n", p(0.5).Round(time.Millisecond), p(0.99).Round(time.Millisecond), floor.Round(time.Millisecond))
	fmt.Printf("  filed exactly once: %d of %d\n", filed, len(appended))
	return nil
}

func idleFloor(ctx context.Context, srv *dovecottest.Server, u *dovecottest.User) (time.Duration, error) {
	w, err := imap.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	if err := w.Login(ctx, u.Name, u.Password); err != nil {
		return 0, err
	}
	if err := w.Create(ctx, "Floor"); err != nil {
		return 0, err
	}
	if _, err := w.Select(ctx, "Floor", nil); err != nil {
		return 0, err
	}
	a, err := imap.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	if err := a.Login(ctx, u.Name, u.Password); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for range 5 {
		ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
		done := make(chan time.Time, 1)
		go func() {
			w.Idle(ictx, func(up imap.Update) {
				if up.Kind == imap.UpdateExists {
					done <- time.Now()
					cancel()
				}
			})
		}()
		time.Sleep(200 * time.Millisecond)
		if _, err := a.Append(ctx, "Floor", nil, time.Time{}, strings.NewReader("Subject: f\r\n\r\nf\r\n")); err != nil {
			cancel()
			return 0, err
		}
		t0 := time.Now()
		select {
		case t1 := <-done:
			ds = append(ds, t1.Sub(t0))
		case <-ictx.Done():
		}
		cancel()
		time.Sleep(100 * time.Millisecond)
	}
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0, fmt.Errorf("the IDLE observer saw nothing")
	}
	return ds[len(ds)/2], nil
}

func countLog(path, s string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), s)
}

// imapProcesses counts the server's imap processes (one per connection):
// those whose working directory, the user's home, is under dir.
func imapProcesses(dir string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if strings.TrimSpace(string(comm)) == "imap" && strings.HasPrefix(cwd, dir) {
			n++
		}
	}
	return n
}

func cpuTicks(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return ut + st
}

func vmHWM(pid int) int64 {
	f, _ := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// actionTimes reads the mover's "action" lines: how long after APPEND OK
// each message was moved, and how many were moved exactly once.
func actionTimes(path string, appended map[string]time.Time) ([]time.Duration, int) {
	f, _ := os.Open(path)
	defer f.Close()
	seen := map[string]int{}
	var lat []time.Duration
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			Msg, TS, MessageID string
		}
		var raw map[string]any
		if json.Unmarshal(sc.Bytes(), &raw) != nil || raw["msg"] != "action" {
			continue
		}
		l.MessageID, _ = raw["message_id"].(string)
		l.TS, _ = raw["ts"].(string)
		t0, ok := appended[l.MessageID]
		if !ok {
			continue
		}
		seen[l.MessageID]++
		if ts, err := time.Parse(time.RFC3339Nano, l.TS); err == nil {
			lat = append(lat, ts.Sub(t0))
		}
	}
	once := 0
	for _, c := range seen {
		if c == 1 {
			once++
		}
	}
	return lat, once
}
