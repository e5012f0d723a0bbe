package imap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/imap/sasl"
	"github.com/mailrules/mailrules/test/dovecottest"
)

var srv *dovecottest.Server

// TestMain starts one Dovecot for the package, with the plugins the
// ACL, QUOTA and METADATA tests need (parity_dovecot_test.go).
func TestMain(m *testing.M) {
	dovecottest.Run(m, &dovecottest.Options{Plugins: []string{"acl", "quota", "metadata"}}, &srv)
}

// transports are the four ways to reach Dovecot.
var transports = []string{"plain", "tls", "starttls", "command"}

// connect opens an authenticated connection to srv for u over transport.
func connect(t testing.TB, s *dovecottest.Server, u *dovecottest.User, transport string, opts *imap.Options) *imap.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var c *imap.Client
	var err error
	switch transport {
	case "plain":
		c, err = imap.Dial(ctx, s.Addr(), opts)
	case "tls":
		c, err = imap.DialTLS(ctx, s.TLSAddr(), s.TLSConfig(), opts)
	case "starttls":
		c, err = imap.DialStartTLS(ctx, s.Addr(), s.TLSConfig(), opts)
	case "command":
		argv := s.Command(u)
		c, err = imap.DialCommand(ctx, opts, argv[0], argv[1:]...)
	default:
		t.Fatalf("unknown transport %q", transport)
	}
	if err != nil {
		t.Fatalf("connect %s: %v", transport, err)
	}
	t.Cleanup(func() { c.Close() })
	if transport == "command" {
		if c.State() != imap.Authenticated {
			t.Fatalf("DialCommand: State() = %v, want authenticated (PREAUTH)", c.State())
		}
		return c
	}
	if err := c.Login(ctx, u.Name, u.Password); err != nil {
		t.Fatalf("Login over %s: %v", transport, err)
	}
	return c
}

func testMessage(i int, subject string) []byte {
	return fmt.Appendf(nil, "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: %s\r\n"+
		"Message-ID: <%d@example.org>\r\nList-Id: <golang-nuts.googlegroups.com>\r\n\r\nbody %d grüße\r\n", subject, i, i)
}

// TestDovecotCommands runs every command against the real Dovecot over
// each transport.
func TestDovecotCommands(t *testing.T) {
	dovecottest.Require(t, srv)
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			u := srv.NewUser(t)
			var trace bytes.Buffer
			var updMu sync.Mutex
			var updates []imap.Update
			c := connect(t, srv, u, transport, &imap.Options{Trace: &trace, UpdateHandler: func(up imap.Update) {
				updMu.Lock()
				updates = append(updates, up)
				updMu.Unlock()
			}})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			runCommands(t, ctx, c, transport)
			if transport != "command" && strings.Contains(trace.String(), u.Password) {
				t.Errorf("trace contains the password")
			}
		})
	}
}

func runCommands(t *testing.T, ctx context.Context, c *imap.Client, transport string) {
	caps, err := c.Capability(ctx)
	if err != nil {
		t.Fatalf("Capability: %v", err)
	}
	for _, cp := range []imap.Cap{imap.CapIMAP4rev1, imap.CapIdle, imap.CapMove, imap.CapUIDPlus, imap.CapEnable} {
		if !caps.Has(cp) {
			t.Errorf("Capability() lacks %s: %v", cp, caps)
		}
	}
	if caps.Has(imap.CapStartTLS) {
		t.Errorf("STARTTLS still advertised after login: %v", caps)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("Noop: %v", err)
	}

	// Mailboxes
	for _, name := range []string{"Work", "Archive", "Entwürfe", "Lists.Go"} {
		if err := c.Create(ctx, name); err != nil {
			t.Fatalf("Create(%q): %v", name, err)
		}
	}
	list, err := c.List(ctx, "", "*")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
		if l.Delim != "." {
			t.Errorf("List: %q has delimiter %q, want \".\"", l.Name, l.Delim)
		}
	}
	slices.Sort(names)
	if want := []string{"Archive", "Entwürfe", "INBOX", "Lists", "Lists.Go", "Trash", "Work"}; !reflect.DeepEqual(names, want) &&
		!reflect.DeepEqual(names, slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "Lists" })) {
		t.Errorf("List names = %v, want %v", names, want)
	}
	for _, l := range list {
		if l.Name == "Trash" && !l.HasAttr(`\Trash`) {
			t.Errorf("Trash attributes = %v, want \\Trash", l.Attrs)
		}
	}

	// Append
	date := time.Date(2024, 3, 5, 10, 11, 12, 0, time.FixedZone("", 3600))
	var appendUIDs []uint32
	var uidValidity uint32
	for i, subject := range []string{"hello", "größe", "third"} {
		flags := []string{}
		if i == 0 {
			flags = []string{imap.FlagSeen, "$Label1"}
		}
		ad, err := c.Append(ctx, "INBOX", flags, date.Add(time.Duration(i)*time.Hour), bytes.NewReader(testMessage(i, subject)))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		if ad == nil || ad.UID == 0 {
			t.Fatalf("Append %d: APPENDUID = %+v", i, ad)
		}
		appendUIDs = append(appendUIDs, ad.UID)
		uidValidity = ad.UIDValidity
	}

	// Status
	st, err := c.Status(ctx, "INBOX", imap.StatusMessages, imap.StatusUnseen, imap.StatusUIDNext, imap.StatusUIDValidity, imap.StatusHighestModSeq)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if st.Messages == nil || *st.Messages != 3 || st.Unseen == nil || *st.Unseen != 2 || *st.UIDValidity != uidValidity || *st.UIDNext != appendUIDs[2]+1 {
		t.Fatalf("Status = %+v", st)
	}

	// Select
	mb, err := c.Select(ctx, "INBOX", nil)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if mb.Exists != 3 || mb.UIDValidity != uidValidity || mb.ReadOnly || mb.UIDNext != appendUIDs[2]+1 ||
		!slices.Contains(mb.PermanentFlags, imap.FlagWildcard) || !slices.Contains(mb.Flags, imap.FlagSeen) {
		t.Fatalf("Select = %+v", mb)
	}
	if c.State() != imap.Selected {
		t.Fatalf("State() = %v, want selected", c.State())
	}

	// Search
	searches := []struct {
		criteria *imap.SearchCriteria
		want     []uint32
	}{
		{nil, appendUIDs},
		{&imap.SearchCriteria{NotFlag: []string{imap.FlagSeen}}, appendUIDs[1:]},
		{&imap.SearchCriteria{Flag: []string{"$Label1"}}, appendUIDs[:1]},
		{&imap.SearchCriteria{Header: [][2]string{{"Subject", "third"}}}, appendUIDs[2:]},
		{&imap.SearchCriteria{Header: [][2]string{{"Subject", "größe"}}}, appendUIDs[1:2]},
		{&imap.SearchCriteria{Body: []string{"grüße"}, UID: imap.SeqSetFromNums(appendUIDs[0], appendUIDs[2])}, []uint32{appendUIDs[0], appendUIDs[2]}},
		{&imap.SearchCriteria{Since: date.AddDate(0, 0, 1)}, []uint32{}},
		{&imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Header: [][2]string{{"Subject", "hello"}}}, {Header: [][2]string{{"Subject", "third"}}}}}}, []uint32{appendUIDs[0], appendUIDs[2]}},
		{&imap.SearchCriteria{Not: []imap.SearchCriteria{{Header: [][2]string{{"Subject", "hello"}}}}, Larger: 10}, appendUIDs[1:]},
	}
	for _, s := range searches {
		got, err := c.UIDSearch(ctx, s.criteria)
		if err != nil || !reflect.DeepEqual(got, s.want) {
			t.Errorf("UIDSearch(%+v) = %v, %v, want %v", s.criteria, got, err, s.want)
		}
	}
	seqs, err := c.Search(ctx, &imap.SearchCriteria{Header: [][2]string{{"Subject", "third"}}})
	if err != nil || !reflect.DeepEqual(seqs, []uint32{3}) {
		t.Errorf("Search(subject third) = %v, %v, want [3]", seqs, err)
	}

	// Fetch
	var fetched []*imap.FetchMessage
	items := []imap.FetchItem{imap.FetchUID, imap.FetchFlags, imap.FetchInternalDate, imap.FetchRFC822Size,
		imap.FetchEnvelope, imap.FetchBodyStructure, imap.FetchHeaderFields("Subject", "List-Id"), imap.FetchSection("TEXT", true, 0, 4)}
	err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, items, func(m *imap.FetchMessage) error {
		fetched = append(fetched, m.Clone())
		return nil
	})
	if err != nil {
		t.Fatalf("UIDFetch: %v", err)
	}
	if len(fetched) != 3 {
		t.Fatalf("UIDFetch returned %d messages, want 3", len(fetched))
	}
	for i, m := range fetched {
		raw := testMessage(i, []string{"hello", "größe", "third"}[i])
		if m.UID != appendUIDs[i] || m.SeqNum != uint32(i+1) || m.Size != int64(len(raw)) {
			t.Errorf("message %d: UID %d seq %d size %d, want %d %d %d", i, m.UID, m.SeqNum, m.Size, appendUIDs[i], i+1, len(raw))
		}
		if !m.InternalDate.Equal(date.Add(time.Duration(i) * time.Hour)) {
			t.Errorf("message %d: InternalDate %v, want %v", i, m.InternalDate, date.Add(time.Duration(i)*time.Hour))
		}
		if m.Envelope == nil || m.Envelope.MessageID != fmt.Sprintf("<%d@example.org>", i) || len(m.Envelope.From) != 1 ||
			m.Envelope.From[0].Addr() != "alice@example.org" || m.Envelope.From[0].Name != "Alice" {
			t.Errorf("message %d: Envelope %+v", i, m.Envelope)
		}
		if m.BodyStructure == nil || m.BodyStructure.MediaType() != "text/plain" {
			t.Errorf("message %d: BodyStructure %+v", i, m.BodyStructure)
		}
		hdr := string(m.Section("HEADER.FIELDS (SUBJECT LIST-ID)"))
		if !strings.Contains(hdr, "List-Id: <golang-nuts.googlegroups.com>") || !strings.HasSuffix(hdr, "\r\n\r\n") {
			t.Errorf("message %d: header fields %q", i, hdr)
		}
		if got := m.Section("TEXT"); string(got) != "body" {
			t.Errorf("message %d: TEXT<0.4> = %q, want \"body\"", i, got)
		}
		if i == 0 && (!m.HasFlag(imap.FlagSeen) || !m.HasFlag("$Label1")) {
			t.Errorf("message 0 flags %v", m.Flags)
		}
	}

	// Store
	if err := c.UIDStore(ctx, imap.SeqSetFromNums(appendUIDs[1]), imap.StoreAdd, true, []string{imap.FlagFlagged, "$Junk"}); err != nil {
		t.Fatalf("UIDStore: %v", err)
	}
	if err := c.Store(ctx, imap.SeqSetFromNums(1), imap.StoreRemove, false, []string{"$Label1"}); err != nil {
		t.Fatalf("Store: %v", err)
	}
	flags := map[uint32][]string{}
	err = c.UIDFetch(ctx, imap.SeqSetFromNums(appendUIDs...), []imap.FetchItem{imap.FetchFlags}, func(m *imap.FetchMessage) error {
		flags[m.UID] = slices.Clone(m.Flags)
		return nil
	})
	if err != nil || !slices.Contains(flags[appendUIDs[1]], imap.FlagFlagged) || !slices.Contains(flags[appendUIDs[1]], "$Junk") ||
		slices.Contains(flags[appendUIDs[0]], "$Label1") {
		t.Fatalf("flags after store = %v, %v", flags, err)
	}

	// Copy, TRYCREATE, Move
	cd, err := c.UIDCopy(ctx, imap.SeqSetFromNums(appendUIDs[0], appendUIDs[1]), "Work")
	if err != nil || cd == nil || len(cd.DestUIDs.Nums()) != 2 || !reflect.DeepEqual(cd.SourceUIDs.Nums(), appendUIDs[:2]) {
		t.Fatalf("UIDCopy = %+v, %v", cd, err)
	}
	if _, err := c.UIDCopy(ctx, imap.SeqSetFromNums(appendUIDs[0]), "Missing"); !imap.IsTryCreate(err) {
		t.Fatalf("UIDCopy to a missing mailbox = %v, want TRYCREATE", err)
	}
	md, err := c.UIDMove(ctx, imap.SeqSetFromNums(appendUIDs[2]), "Archive")
	if err != nil || md == nil || !reflect.DeepEqual(md.SourceUIDs.Nums(), appendUIDs[2:]) {
		t.Fatalf("UIDMove = %+v, %v", md, err)
	}
	if got := c.Mailbox().Exists; got != 2 {
		t.Fatalf("Mailbox().Exists after move = %d, want 2", got)
	}
	if _, err := c.Move(ctx, imap.SeqSetFromNums(2), "Lists.Go"); err != nil {
		t.Fatalf("Move: %v", err)
	}
	if _, err := c.Copy(ctx, imap.SeqSetFromNums(1), "Entwürfe"); err != nil {
		t.Fatalf("Copy to non-ASCII mailbox: %v", err)
	}
	st, err = c.Status(ctx, "Entwürfe", imap.StatusMessages)
	if err != nil || st.Messages == nil || *st.Messages != 1 || st.Mailbox != "Entwürfe" {
		t.Fatalf("Status(Entwürfe) = %+v, %v", st, err)
	}

	// UID EXPUNGE removes only the given \Deleted message; EXPUNGE the rest.
	if _, err := c.Select(ctx, "Work", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(ctx, imap.SeqSet{{Start: 1, Stop: 2}}, imap.StoreAdd, true, []string{imap.FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	expunged, err := c.UIDExpunge(ctx, imap.SeqSetFromNums(cd.DestUIDs.Nums()[0]))
	if err != nil || !reflect.DeepEqual(expunged, []uint32{1}) {
		t.Fatalf("UIDExpunge = %v, %v, want [1]", expunged, err)
	}
	if got := c.Mailbox().Exists; got != 1 {
		t.Fatalf("Exists after UIDExpunge = %d, want 1", got)
	}
	expunged, err = c.Expunge(ctx)
	if err != nil || !reflect.DeepEqual(expunged, []uint32{1}) {
		t.Fatalf("Expunge = %v, %v, want [1]", expunged, err)
	}

	// Examine is read-only
	mb, err = c.Examine(ctx, "Archive")
	if err != nil || !mb.ReadOnly || mb.Exists != 1 {
		t.Fatalf("Examine = %+v, %v", mb, err)
	}
	if err := c.Store(ctx, imap.SeqSetFromNums(1), imap.StoreAdd, true, []string{imap.FlagSeen}); !errors.Is(err, imap.ErrReadOnly) {
		t.Fatalf("Store on examined mailbox = %v, want ErrReadOnly", err)
	}

	// ENABLE CONDSTORE, MODSEQ
	enabled, err := c.Enable(ctx, imap.CapCondStore)
	if err != nil || !reflect.DeepEqual(enabled, []imap.Cap{imap.CapCondStore}) {
		t.Fatalf("Enable(CONDSTORE) = %v, %v", enabled, err)
	}
	mb, err = c.Select(ctx, "INBOX", &imap.SelectOptions{CondStore: true})
	if err != nil || mb.HighestModSeq == 0 {
		t.Fatalf("Select CONDSTORE = %+v, %v", mb, err)
	}
	var modseq uint64
	err = c.Fetch(ctx, imap.SeqSetFromNums(1), []imap.FetchItem{imap.FetchModSeq}, func(m *imap.FetchMessage) error {
		modseq = m.ModSeq
		return nil
	})
	if err != nil || modseq == 0 {
		t.Fatalf("Fetch MODSEQ = %d, %v", modseq, err)
	}

	// Raw command
	res, err := c.Execute(ctx, "NAMESPACE")
	if err != nil || len(res.Untagged) != 1 || !strings.HasPrefix(res.Untagged[0].Line, "* NAMESPACE ((") {
		t.Fatalf("Execute(NAMESPACE) = %+v, %v", res, err)
	}
	res, err = c.Execute(ctx, "XNOSUCHCOMMAND", "arg")
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Status != "BAD" || res.Status != "BAD" {
		t.Fatalf("Execute(XNOSUCHCOMMAND) = %+v, %v, want BAD", res, err)
	}

	if err := c.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if err := c.Noop(ctx); !errors.Is(err, imap.ErrAbort) {
		t.Fatalf("Noop after Logout = %v, want ErrAbort", err)
	}
}

func TestDovecotAuthenticatePlain(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	ctx := context.Background()
	for _, tlsMode := range []bool{false, true} {
		var c *imap.Client
		var err error
		if tlsMode {
			c, err = imap.DialTLS(ctx, srv.TLSAddr(), srv.TLSConfig(), nil)
		} else {
			c, err = imap.Dial(ctx, srv.Addr(), nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Authenticate(ctx, sasl.Plain("", u.Name, "wrong")); err == nil {
			t.Fatalf("Authenticate with a wrong password succeeded")
		}
		if err := c.Authenticate(ctx, sasl.Plain("", u.Name, u.Password)); err != nil {
			t.Fatalf("Authenticate PLAIN (tls %v): %v", tlsMode, err)
		}
		if c.State() != imap.Authenticated || !c.Has(imap.CapMove) {
			t.Fatalf("after Authenticate: state %v caps %v", c.State(), c.Caps())
		}
		if err := c.Logout(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDovecotLoginFailure(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	c, err := imap.Dial(context.Background(), srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Login(context.Background(), u.Name, "wrong password")
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Status != "NO" || ie.Code != "AUTHENTICATIONFAILED" {
		t.Fatalf("Login with wrong password = %v, want NO [AUTHENTICATIONFAILED]", err)
	}
	if err := c.Login(context.Background(), u.Name, u.Password); err != nil {
		t.Fatalf("Login after a failure: %v", err)
	}
}

func TestDovecotTLSVerification(t *testing.T) {
	dovecottest.Require(t, srv)
	// The self-signed certificate is not trusted without the harness's config.
	if c, err := imap.DialTLS(context.Background(), srv.TLSAddr(), nil, nil); err == nil {
		c.Close()
		t.Fatal("DialTLS without trusting the self-signed certificate succeeded")
	}
	if c, err := imap.DialStartTLS(context.Background(), srv.Addr(), nil, nil); err == nil {
		c.Close()
		t.Fatal("DialStartTLS without trusting the self-signed certificate succeeded")
	}
}

// IDLE sees a message that another connection APPENDs.
func TestDovecotIdle(t *testing.T) {
	dovecottest.Require(t, srv)
	for _, transport := range []string{"plain", "command"} {
		t.Run(transport, func(t *testing.T) {
			u := srv.NewUser(t)
			watcher := connect(t, srv, u, transport, nil)
			writer := connect(t, srv, u, "tls", nil)
			ctx := context.Background()
			if _, err := watcher.Select(ctx, "INBOX", nil); err != nil {
				t.Fatal(err)
			}
			idleCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			var got []imap.Update
			done := make(chan error, 1)
			go func() {
				done <- watcher.Idle(idleCtx, func(up imap.Update) {
					got = append(got, up)
					if up.Kind == imap.UpdateExists {
						cancel()
					}
				})
			}()
			time.Sleep(200 * time.Millisecond) // let IDLE start
			start := time.Now()
			if _, err := writer.Append(ctx, "INBOX", nil, time.Time{}, strings.NewReader("Subject: new\r\n\r\nhi\r\n")); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("Idle = %v", err)
			}
			if idleCtx.Err() != context.Canceled {
				t.Fatalf("Idle returned without seeing EXISTS (updates %+v)", got)
			}
			t.Logf("EXISTS seen %v after APPEND", time.Since(start).Round(time.Millisecond))
			if !slices.Contains(got, imap.Update{Kind: imap.UpdateExists, Num: 1}) {
				t.Fatalf("Idle updates = %+v, want EXISTS 1", got)
			}
			if mb := watcher.Mailbox(); mb.Exists != 1 {
				t.Fatalf("Mailbox().Exists = %d after IDLE, want 1", mb.Exists)
			}
			// The connection is usable after DONE.
			if err := watcher.Noop(ctx); err != nil {
				t.Fatalf("Noop after Idle: %v", err)
			}
		})
	}
}

// Unsolicited EXISTS/EXPUNGE outside IDLE reach the UpdateHandler.
func TestDovecotUpdates(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	var updates []imap.Update
	c := connect(t, srv, u, "plain", &imap.Options{UpdateHandler: func(up imap.Update) { updates = append(updates, up) }})
	other := connect(t, srv, u, "plain", nil)
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Append(ctx, "INBOX", nil, time.Time{}, strings.NewReader("Subject: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	if len(updates) == 0 || updates[0].Kind != imap.UpdateExists || updates[0].Num != 1 || c.Mailbox().Exists != 1 {
		t.Fatalf("updates after NOOP = %+v, Exists %d", updates, c.Mailbox().Exists)
	}
}

// A session killed in the middle of a command aborts it; later calls fail fast.
func TestDovecotKilledSession(t *testing.T) {
	dovecottest.Require(t, srv)
	for _, transport := range []string{"plain", "command"} {
		t.Run(transport, func(t *testing.T) {
			u := srv.NewUser(t)
			c := connect(t, srv, u, transport, nil)
			ctx := context.Background()
			if _, err := c.Select(ctx, "INBOX", nil); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- c.Idle(ctx, nil) }()
			time.Sleep(200 * time.Millisecond)
			if err := srv.KillSessions(u); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, imap.ErrAbort) {
					t.Fatalf("Idle on killed session = %v, want ErrAbort", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Idle did not notice the killed session")
			}
			if err := c.Noop(ctx); !errors.Is(err, imap.ErrAbort) {
				t.Fatalf("Noop after kill = %v, want ErrAbort", err)
			}
		})
	}
}

// Fetch streams: a big mailbox goes through the callback one message at a time.
func TestDovecotFetchStreaming(t *testing.T) {
	dovecottest.Require(t, srv)
	u := srv.NewUser(t)
	const n = 2000
	msgs := make([]dovecottest.Message, n)
	for i := range msgs {
		msgs[i] = dovecottest.Message{Data: testMessage(i, fmt.Sprintf("message %d", i))}
	}
	if err := srv.AddMessages(u, "INBOX", msgs); err != nil {
		t.Fatal(err)
	}
	c := connect(t, srv, u, "command", nil)
	ctx := context.Background()
	if _, err := c.Examine(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	count := 0
	var lastUID uint32
	err := c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchUID, imap.FetchInternalDate,
		imap.FetchHeaderFields("Subject", "List-Id", "X-Spam-Flag")}, func(m *imap.FetchMessage) error {
		count++
		if m.UID <= lastUID {
			return fmt.Errorf("UID %d after %d", m.UID, lastUID)
		}
		lastUID = m.UID
		if want := fmt.Sprintf("Subject: message %d\r\n", count-1); !bytes.HasPrefix(m.Sections[0].Data, []byte(want)) {
			return fmt.Errorf("message %d header %q", count, m.Sections[0].Data)
		}
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("UIDFetch = %v after %d messages, want %d", err, count, n)
	}
}

// With MOVE and UIDPLUS hidden, the commands that need them fail without
// touching anything.
func TestDovecotWithoutMove(t *testing.T) {
	dovecottest.Require(t, srv)
	s, err := dovecottest.Start(&dovecottest.Options{Capability: "IMAP4rev1 IDLE LITERAL+"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := s.NewUser(t)
	c := connect(t, s, u, "plain", nil)
	ctx := context.Background()
	if _, err := c.Append(ctx, "INBOX", nil, time.Time{}, strings.NewReader("Subject: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UIDMove(ctx, imap.SeqSetFromNums(1), "Trash"); !errors.Is(err, imap.ErrNotSupported) {
		t.Fatalf("UIDMove without MOVE = %v, want ErrNotSupported", err)
	}
	if _, err := c.UIDExpunge(ctx, imap.SeqSetFromNums(1)); !errors.Is(err, imap.ErrNotSupported) {
		t.Fatalf("UIDExpunge without UIDPLUS = %v, want ErrNotSupported", err)
	}
	if mb := c.Mailbox(); mb.Exists != 1 {
		t.Fatalf("Exists = %d, want 1: nothing may have been removed", mb.Exists)
	}
}
