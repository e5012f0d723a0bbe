package imapsrv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
)

// Target describes a running server for Suite.
type Target struct {
	Server  string // for messages, e.g. "Cyrus"
	Addr    string // plaintext IMAP, LOGIN allowed
	NewUser func(t testing.TB) (name, password string)
	LogTail func(n int64) string
	// WantCaps must all be advertised after login; NoCaps must not be.
	WantCaps, NoCaps []imap.Cap
	// IdleWait is how long the IDLE test waits for the EXISTS that
	// another connection's APPEND causes. IdleRequired makes a missing
	// EXISTS a failure; otherwise it is only logged (a server that polls
	// every minute is still correct).
	IdleWait     time.Duration
	IdleRequired bool
	// CreateRefused, when set, is the text of the NO that refuses CREATE of
	// a top-level folder.
	CreateRefused string
}

// suite is every test of Suite by name.
var suite = []struct {
	name string
	fn   func(*testing.T, *Target)
}{
	{"Login", testLogin},
	{"Capability", testCapability},
	{"Namespace", testNamespace},
	{"Create", testCreate},
	{"Messages", testMessages},
	{"Move", testMove},
	{"Idle", testIdle},
	{"AppendBefore1970", testAppendBefore1970},
}

// Suite runs the behaviour the rest of the project relies on against tg's
// server, one parallel subtest each, each with users of its own: LOGIN
// (and a wrong password), CAPABILITY, NAMESPACE (("INBOX." ".")), CREATE
// inside and outside INBOX, APPEND/SELECT/UID FETCH/UID COPY/STORE/UID
// EXPUNGE, MOVE or its absence, IDLE, and APPEND with a date before 1970
// (refused by Cyrus and Courier). With names, only those subtests run.
func Suite(t *testing.T, tg *Target, names ...string) {
	for _, st := range suite {
		if len(names) > 0 && !slices.Contains(names, st.name) {
			continue
		}
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			st.fn(t, tg)
		})
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Dial connects to tg with opts and logs in as name; the client is closed
// at the end of the test.
func Dial(t testing.TB, tg *Target, name, password string, opts *imap.Options) *imap.Client {
	t.Helper()
	ctx := testCtx(t)
	c, err := imap.Dial(ctx, tg.Addr, opts)
	if err != nil {
		t.Fatalf("%s: dial %s: %v\n%s", tg.Server, tg.Addr, err, tg.LogTail(4096))
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(ctx, name, password); err != nil {
		t.Fatalf("%s: LOGIN %s: %v\n%s", tg.Server, name, err, tg.LogTail(4096))
	}
	return c
}

func login(t testing.TB, tg *Target) *imap.Client {
	t.Helper()
	name, pw := tg.NewUser(t)
	return Dial(t, tg, name, pw, nil)
}

func testLogin(t *testing.T, tg *Target) {
	name, pw := tg.NewUser(t)
	ctx := testCtx(t)
	c, err := imap.Dial(ctx, tg.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Has(imap.CapLoginDisabled) {
		t.Fatalf("LOGINDISABLED on the plaintext loopback port: %v", sortedCaps(c.Caps()))
	}
	if err := c.Login(ctx, name, pw+"x"); err == nil {
		t.Fatal("LOGIN with a wrong password succeeded")
	} else {
		t.Logf("wrong password: %v", err)
	}
	if err := c.Login(ctx, name, pw); err != nil {
		t.Fatalf("LOGIN: %v\n%s", err, tg.LogTail(4096))
	}
	if c.State() != imap.Authenticated {
		t.Fatalf("state after LOGIN = %v", c.State())
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("LOGOUT: %v", err)
	}
}

func sortedCaps(s imap.CapSet) []string {
	var out []string
	for c := range s {
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}

func testCapability(t *testing.T, tg *Target) {
	c := login(t, tg)
	caps, err := c.Capability(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s capabilities after login: %s", tg.Server, strings.Join(sortedCaps(caps), " "))
	for _, want := range tg.WantCaps {
		if !caps.Has(want) {
			t.Errorf("CAPABILITY lacks %s", want)
		}
	}
	for _, unwanted := range tg.NoCaps {
		if caps.Has(unwanted) {
			t.Errorf("CAPABILITY has %s", unwanted)
		}
	}
}

func testNamespace(t *testing.T, tg *Target) {
	c := login(t, tg)
	ns, err := c.Namespace(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("NAMESPACE personal %v other %v shared %v", ns.Personal, ns.Other, ns.Shared)
	if len(ns.Personal) != 1 || ns.Personal[0].Prefix != "INBOX." || ns.Personal[0].Delim != "." {
		t.Fatalf("personal namespace = %+v, want ((\"INBOX.\" \".\"))", ns.Personal)
	}
}

func testCreate(t *testing.T, tg *Target) {
	c := login(t, tg)
	ctx := testCtx(t)
	if err := c.Create(ctx, "INBOX.Archive"); err != nil {
		t.Fatalf("CREATE INBOX.Archive: %v", err)
	}
	if err := c.Create(ctx, "INBOX.Archive.2024"); err != nil {
		t.Fatalf("CREATE INBOX.Archive.2024: %v", err)
	}
	err := c.Create(ctx, "Archive")
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Status != "NO" {
		t.Fatalf("CREATE Archive (top level) = %v, want a NO", err)
	}
	t.Logf("CREATE Archive refused: %v", err)
	if tg.CreateRefused != "" && ie.Text != tg.CreateRefused {
		t.Errorf("CREATE Archive refused with %q, want %q", ie.Text, tg.CreateRefused)
	}
	list, err := c.List(ctx, "", "*")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
		if l.Delim != "." {
			t.Errorf("LIST %s: delimiter %q, want \".\"", l.Name, l.Delim)
		}
	}
	slices.Sort(names)
	if want := []string{"INBOX", "INBOX.Archive", "INBOX.Archive.2024"}; !slices.Equal(names, want) {
		t.Errorf("LIST \"\" * = %q, want %q", names, want)
	}
	if err := c.Delete(ctx, "INBOX.Archive.2024"); err != nil {
		t.Errorf("DELETE INBOX.Archive.2024: %v", err)
	}
}

// Message returns a small RFC 5322 message with the given subject.
func Message(subject string) []byte {
	return fmt.Appendf(nil, "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\n"+
		"Subject: %s\r\nMessage-ID: <%s@example.org>\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\nbody of %s\r\n",
		subject, strings.ReplaceAll(subject, " ", "."), subject)
}

func testMessages(t *testing.T, tg *Target) {
	c := login(t, tg)
	ctx := testCtx(t)
	if err := c.Create(ctx, "INBOX.Archive"); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 3, 4, 5, 6, 7, 0, time.FixedZone("", 3600))
	msgs := [][]byte{Message("one"), Message("two"), Message("three")}
	var appended []uint32
	for i, m := range msgs {
		var flags []string
		if i == 0 {
			flags = []string{imap.FlagSeen, "$Label1"}
		}
		ad, err := c.Append(ctx, "INBOX", flags, date, bytes.NewReader(m))
		if err != nil {
			t.Fatalf("APPEND to INBOX: %v", err)
		}
		if c.Has(imap.CapUIDPlus) {
			if ad == nil || ad.UID == 0 {
				t.Fatalf("APPEND with UIDPLUS: no APPENDUID (%+v)", ad)
			}
			appended = append(appended, ad.UID)
		}
	}
	if _, err := c.Append(ctx, "INBOX.Archive", nil, time.Time{}, bytes.NewReader(Message("archived"))); err != nil {
		t.Fatalf("APPEND to INBOX.Archive: %v", err)
	}
	if _, err := c.Append(ctx, "INBOX.Missing", nil, time.Time{}, bytes.NewReader(Message("x"))); !imap.IsTryCreate(err) {
		t.Errorf("APPEND to a missing folder = %v, want NO [TRYCREATE]", err)
	}

	st, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Exists != 3 || st.ReadOnly || st.UIDValidity == 0 {
		t.Fatalf("SELECT INBOX = %+v, want 3 messages, read-write, a UIDVALIDITY", st)
	}
	var got []*imap.FetchMessage
	err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}},
		[]imap.FetchItem{imap.FetchFlags, imap.FetchInternalDate, imap.FetchRFC822Size, imap.FetchSection("", true, 0, -1)},
		func(m *imap.FetchMessage) error { got = append(got, m.Clone()); return nil })
	if err != nil {
		t.Fatalf("UID FETCH: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("UID FETCH 1:* returned %d messages, want 3", len(got))
	}
	var uids []uint32
	for i, m := range got {
		uids = append(uids, m.UID)
		if !bytes.Equal(m.Section(""), msgs[i]) {
			t.Errorf("message %d: BODY[] = %q, want %q", i+1, m.Section(""), msgs[i])
		}
		if m.Size != int64(len(msgs[i])) {
			t.Errorf("message %d: RFC822.SIZE = %d, want %d", i+1, m.Size, len(msgs[i]))
		}
		if !m.InternalDate.Equal(date) {
			t.Errorf("message %d: INTERNALDATE = %v, want %v", i+1, m.InternalDate, date)
		}
		if wantSeen := i == 0; m.HasFlag(imap.FlagSeen) != wantSeen || m.HasFlag("$Label1") != wantSeen {
			t.Errorf("message %d: FLAGS = %q", i+1, m.Flags)
		}
	}
	if appended != nil && !slices.Equal(uids, appended) {
		t.Errorf("UIDs %v, APPENDUID said %v", uids, appended)
	}

	cd, err := c.UIDCopy(ctx, imap.SeqSetFromNums(uids[0], uids[1]), "INBOX.Archive")
	if err != nil {
		t.Fatalf("UID COPY: %v", err)
	}
	if c.Has(imap.CapUIDPlus) && (cd == nil || len(cd.UIDMap()) != 2) {
		t.Errorf("UID COPY with UIDPLUS: COPYUID = %+v", cd)
	}
	if _, err := c.UIDCopy(ctx, imap.SeqSetFromNums(uids[0]), "INBOX.Missing"); !imap.IsTryCreate(err) {
		t.Errorf("UID COPY to a missing folder = %v, want NO [TRYCREATE]", err)
	}
	if err := c.UIDStore(ctx, imap.SeqSetFromNums(uids[0], uids[2]), imap.StoreAdd, false, []string{imap.FlagDeleted, imap.FlagFlagged}); err != nil {
		t.Fatalf("UID STORE: %v", err)
	}
	if err := c.Store(ctx, imap.SeqSetFromNums(2), imap.StoreAdd, true, []string{imap.FlagAnswered}); err != nil {
		t.Fatalf("STORE: %v", err)
	}
	if c.Has(imap.CapUIDPlus) {
		// Only the first of the two \Deleted messages goes.
		exp, err := c.UIDExpunge(ctx, imap.SeqSetFromNums(uids[0]))
		if err != nil {
			t.Fatalf("UID EXPUNGE: %v", err)
		}
		if !slices.Equal(exp, []uint32{1}) {
			t.Errorf("UID EXPUNGE sent EXPUNGE %v, want [1]", exp)
		}
	} else {
		t.Logf("no UIDPLUS: UID EXPUNGE not tested")
	}
	var left []*imap.FetchMessage
	err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchFlags},
		func(m *imap.FetchMessage) error { left = append(left, m.Clone()); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if c.Has(imap.CapUIDPlus) {
		if len(left) != 2 || left[0].UID != uids[1] || !left[0].HasFlag(imap.FlagAnswered) ||
			left[1].UID != uids[2] || !left[1].HasFlag(imap.FlagDeleted) || !left[1].HasFlag(imap.FlagFlagged) {
			t.Errorf("after UID EXPUNGE: %d messages %+v", len(left), left)
		}
	}
	stat, err := c.Status(ctx, "INBOX.Archive")
	if err != nil {
		t.Fatal(err)
	}
	if stat.Messages == nil || *stat.Messages != 3 {
		t.Errorf("STATUS INBOX.Archive MESSAGES = %v, want 3", stat.Messages)
	}
}

func testMove(t *testing.T, tg *Target) {
	c := login(t, tg)
	ctx := testCtx(t)
	if err := c.Create(ctx, "INBOX.Junk"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(ctx, "INBOX", nil, time.Time{}, bytes.NewReader(Message("spam"))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.UIDMove(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, "INBOX.Junk")
	if !c.Has(imap.CapMove) {
		if !errors.Is(err, imap.ErrNotSupported) {
			t.Fatalf("UID MOVE without MOVE = %v, want ErrNotSupported", err)
		}
		t.Logf("%s has no MOVE: %v", tg.Server, err)
		return
	}
	if err != nil {
		t.Fatalf("UID MOVE: %v", err)
	}
	if st := c.Mailbox(); st.Exists != 0 {
		t.Errorf("INBOX after UID MOVE has %d messages", st.Exists)
	}
}

func testIdle(t *testing.T, tg *Target) {
	name, pw := tg.NewUser(t)
	trace := &lockedBuffer{}
	watcher := Dial(t, tg, name, pw, &imap.Options{Trace: trace})
	writer := Dial(t, tg, name, pw, nil)
	ctx := testCtx(t)
	if _, err := watcher.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	idleCtx, stopIdle := context.WithCancel(ctx)
	defer stopIdle()
	exists := make(chan uint32, 10)
	idleErr := make(chan error, 1)
	go func() {
		idleErr <- watcher.Idle(idleCtx, func(u imap.Update) {
			if u.Kind == imap.UpdateExists {
				select {
				case exists <- u.Num:
				default:
				}
			}
		})
	}()
	// Idle gives no signal once the server accepted IDLE: wait for its
	// continuation request in the protocol trace.
	deadline := time.Now().Add(10 * time.Second)
	var cont string
	for cont == "" {
		for line := range strings.Lines(trace.String()) {
			if strings.HasPrefix(line, "S: +") {
				cont = strings.TrimSpace(strings.TrimPrefix(line, "S: "))
			}
		}
		if cont == "" {
			if time.Now().After(deadline) {
				t.Fatalf("no continuation request after IDLE; trace:\n%s", trace.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("%s answers IDLE with %q", tg.Server, cont)
	appended := time.Now()
	if _, err := writer.Append(ctx, "INBOX", nil, time.Time{}, bytes.NewReader(Message("new"))); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		t.Logf("%s: EXISTS %d arrived in IDLE %v after the other connection's APPEND", tg.Server, n, time.Since(appended).Round(time.Millisecond))
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case err := <-idleErr:
		t.Fatalf("IDLE ended: %v\n%s", err, tg.LogTail(4096))
	case <-time.After(tg.IdleWait):
		if tg.IdleRequired {
			t.Fatalf("no EXISTS in IDLE within %v of another connection's APPEND\n%s", tg.IdleWait, tg.LogTail(4096))
		}
		t.Logf("%s: no EXISTS in IDLE within %v of another connection's APPEND (the server polls)", tg.Server, tg.IdleWait)
	}
	stopIdle()
	if err := <-idleErr; err != nil {
		t.Fatalf("IDLE: %v", err)
	}
	// The connection still works after DONE, and NOOP reports the message.
	if err := watcher.Noop(ctx); err != nil {
		t.Fatalf("NOOP after IDLE: %v", err)
	}
	if st := watcher.Mailbox(); st.Exists != 1 {
		t.Errorf("after IDLE and NOOP: %d messages, want 1", st.Exists)
	}
}

func testAppendBefore1970(t *testing.T, tg *Target) {
	c := login(t, tg)
	ctx := testCtx(t)
	old := time.Date(1969, 12, 31, 12, 0, 0, 0, time.UTC)
	_, err := c.Append(ctx, "INBOX", nil, old, bytes.NewReader(Message("old")))
	var ie *imap.Error
	if !errors.As(err, &ie) {
		t.Fatalf("APPEND dated %v = %v, want a NO or BAD", old, err)
	}
	t.Logf("%s refuses APPEND dated 31-Dec-1969: %v", tg.Server, err)
	// The connection is still usable and a 1970 date is accepted.
	ok := time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)
	if _, err := c.Append(ctx, "INBOX", nil, ok, bytes.NewReader(Message("new enough"))); err != nil {
		t.Fatalf("APPEND dated %v: %v", ok, err)
	}
}

// lockedBuffer is an io.Writer that can be read while being written.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
