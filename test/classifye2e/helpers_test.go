// Package classifye2e runs the engine in process against a real Dovecot
// with classifiers: rules that call classify(), what happens when a
// classifier gives no verdict, and learning from the user's own moves.
package classifye2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
	"github.com/mailrules/mailrules/test/dovecottest"
)

var srv *dovecottest.Server

func TestMain(m *testing.M) { dovecottest.Run(m, nil, &srv) }

// wordsClassifier is a small, real classifier: a message is spam when its
// text holds more spam words than ham words, with words learned from the
// messages it is taught. down makes it answer like an unreachable server.
type wordsClassifier struct {
	name  string
	down  atomic.Bool
	calls atomic.Int64 // Classify calls that reached it (up or down)

	mu      sync.Mutex
	spam    map[string]bool
	ham     map[string]bool
	learned map[classify.Class]int
}

func newWords(name string, spamWords ...string) *wordsClassifier {
	w := &wordsClassifier{name: name, spam: map[string]bool{}, ham: map[string]bool{}, learned: map[classify.Class]int{}}
	for _, s := range spamWords {
		w.spam[s] = true
	}
	return w
}

func (w *wordsClassifier) Name() string   { return w.name }
func (w *wordsClassifier) MaxSize() int64 { return 1 << 20 }

func (w *wordsClassifier) Classify(ctx context.Context, msg []byte) (*classify.Verdict, error) {
	w.calls.Add(1)
	if w.down.Load() {
		return nil, fmt.Errorf("dial tcp 127.0.0.1:1: connection refused: %w", classify.ErrUnavailable)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	v := &classify.Verdict{Classifier: w.name, Required: 1, Action: "ham", Symbols: []string{}}
	for _, word := range strings.Fields(strings.ToLower(string(msg))) {
		switch {
		case w.spam[word]:
			v.Score++
			v.Symbols = append(v.Symbols, "WORD_"+strings.ToUpper(word))
		case w.ham[word]:
			v.Score--
		}
	}
	sort.Strings(v.Symbols)
	if v.Score >= v.Required {
		v.Spam, v.Action = true, "spam"
	}
	return v, nil
}

func (w *wordsClassifier) Learn(ctx context.Context, msg []byte, c classify.Class) error {
	if w.down.Load() {
		return fmt.Errorf("connection refused: %w", classify.ErrUnavailable)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.learned[c]++
	return nil
}

func (w *wordsClassifier) learnedCount(c classify.Class) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.learned[c]
}

// world is one test's user, config and state.
type world struct {
	t     *testing.T
	user  *dovecottest.User
	cfg   *config.Config
	store *engine.Store
	opts  engine.Options
}

// newWorld makes a fresh user and a config with rules, for the
// classifiers given.
func newWorld(t *testing.T, specs []rules.Spec, mailboxes []string, cls ...classify.Classifier) *world {
	t.Helper()
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	var names []string
	for _, c := range cls {
		names = append(names, c.Name())
	}
	set, err := rules.CompileWith(specs, &rules.Options{Classifiers: names})
	if err != nil {
		t.Fatalf("CompileWith = %v", err)
	}
	host, port := splitAddr(t, srv.Addr())
	env := "MAILRULES_CLASSIFY_TEST_" + strings.ToUpper(u.Name)
	t.Setenv(env, u.Password)
	if len(mailboxes) == 0 {
		mailboxes = []string{"INBOX"}
	}
	cfg := &config.Config{Rules: set, Specs: specs, Accounts: []*config.Account{{
		Name: "test", Host: host, Port: port, TLS: "none", Username: u.Name,
		Password: &config.Secret{Env: env}, Mailboxes: mailboxes, Timeout: time.Minute,
	}}}
	store, err := engine.OpenStore(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &world{t: t, user: u, cfg: cfg, store: store, opts: engine.Options{Classifiers: cls}}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	var port int
	if _, err := fmt.Sscan(addr[i+1:], &port); err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return addr[:i], port
}

// run does one engine pass and returns its error.
func (w *world) run(metrics *engine.Metrics) error {
	w.t.Helper()
	opts := w.opts
	opts.Metrics = metrics
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return engine.New(w.cfg, w.store, zaptest.NewLogger(w.t, zaptest.Level(zap.InfoLevel)), &opts).Run(ctx)
}

func (w *world) client() *imap.Client {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := imap.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		w.t.Fatalf("Dial = %v", err)
	}
	if err := c.Login(ctx, w.user.Name, w.user.Password); err != nil {
		w.t.Fatalf("Login = %v", err)
	}
	w.t.Cleanup(func() { c.Close() })
	return c
}

// mail is a test message.
type mail struct{ id, subject, body string }

func (m mail) bytes() []byte {
	return []byte(fmt.Sprintf("Message-ID: <%s>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\nFrom: a@example.net\r\nTo: u@example.org\r\nSubject: %s\r\n\r\n%s\r\n",
		m.id, m.subject, m.body))
}

func (w *world) appendTo(mailbox string, msgs ...mail) {
	w.t.Helper()
	c := w.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, m := range msgs {
		if _, err := c.Append(ctx, mailbox, nil, time.Now(), bytes.NewReader(m.bytes())); err != nil {
			w.t.Fatalf("Append(%q, %s) = %v", mailbox, m.id, err)
		}
	}
	c.Logout(ctx)
}

// snapshot renders every mailbox as "Mailbox: id[flags] ..." lines, sorted.
func (w *world) snapshot() string {
	w.t.Helper()
	c := w.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := c.List(ctx, "", "*")
	if err != nil {
		w.t.Fatalf("List = %v", err)
	}
	var lines []string
	for _, mb := range list {
		st, err := c.Examine(ctx, mb.Name)
		if err != nil {
			w.t.Fatalf("Examine(%q) = %v", mb.Name, err)
		}
		if st.Exists == 0 {
			continue
		}
		var ids []string
		items := []imap.FetchItem{imap.FetchUID, imap.FetchFlags, imap.FetchHeaderFields("MESSAGE-ID")}
		err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, items, func(m *imap.FetchMessage) error {
			var flags []string
			for _, f := range m.Flags {
				if f != imap.FlagRecent {
					flags = append(flags, f)
				}
			}
			sort.Strings(flags)
			id := string(m.Section("HEADER.FIELDS (MESSAGE-ID)"))
			id = id[strings.IndexByte(id, '<')+1 : strings.IndexByte(id, '>')]
			ids = append(ids, id+"["+strings.Join(flags, " ")+"]")
			return nil
		})
		if err != nil {
			w.t.Fatalf("UIDFetch(%q) = %v", mb.Name, err)
		}
		sort.Strings(ids)
		lines = append(lines, mb.Name+": "+strings.Join(ids, " "))
	}
	sort.Strings(lines)
	c.Logout(ctx)
	return strings.Join(lines, "\n")
}

func nopLogger() *zap.Logger { return zap.NewNop() }

func (w *world) create(mailbox string) {
	w.t.Helper()
	c := w.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Create(ctx, mailbox); err != nil {
		w.t.Fatalf("Create(%q) = %v", mailbox, err)
	}
	c.Logout(ctx)
}
