package imap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap/sasl"
)

// The sample connection of RFC 3501 section 8, with the client's side
// produced by this package.
func TestRFC3501SampleConnection(t *testing.T) {
	header := "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n" +
		"From: Terry Gray <gray@cac.washington.edu>\r\n" +
		"Subject: IMAP4rev1 WG mtg summary and minutes\r\n" +
		"To: imap@cac.washington.edu\r\n" +
		"cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n" +
		"Message-Id: <B27397-0100000@cac.washington.edu>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n"
	if len(header) != 342 {
		t.Fatalf("sample header is %d bytes, RFC says 342", len(header))
	}
	var updates []Update
	c := dialFake(t, &Options{UpdateHandler: func(u Update) { updates = append(updates, u) }}, func(s *fakeConn) {
		s.send("* OK IMAP4rev1 Service Ready")
		tag := s.expect("CAPABILITY") // asked by Dial: the greeting has none
		s.send("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI", tag+" OK CAPABILITY completed")
		tag = s.expect("CAPABILITY")
		s.send("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI", tag+" OK CAPABILITY completed")
		tag = s.expect("LOGIN mrc secret")
		s.send(tag + " OK LOGIN completed")
		tag = s.expect("CAPABILITY")
		s.send("* CAPABILITY IMAP4rev1 IDLE", tag+" OK CAPABILITY completed")
		tag = s.expect("SELECT INBOX")
		s.send("* 18 EXISTS", `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`, "* 2 RECENT",
			"* OK [UNSEEN 17] Message 17 is the first unseen message",
			"* OK [UIDVALIDITY 3857529045] UIDs valid", tag+" OK [READ-WRITE] SELECT completed")
		tag = s.expect("FETCH 12 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)")
		s.send(`* 12 FETCH (FLAGS (\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700"`+
			` RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"`+
			` "IMAP4rev1 WG mtg summary and minutes"`+
			` (("Terry Gray" NIL "gray" "cac.washington.edu"))`+
			` (("Terry Gray" NIL "gray" "cac.washington.edu"))`+
			` (("Terry Gray" NIL "gray" "cac.washington.edu"))`+
			` ((NIL NIL "imap" "cac.washington.edu"))`+
			` ((NIL NIL "minutes" "CNRI.Reston.VA.US")`+
			` ("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL`+
			` "<B27397-0100000@cac.washington.edu>")`+
			` BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028`+
			` 92))`, tag+" OK FETCH completed")
		tag = s.expect("FETCH 12 (BODY[HEADER])")
		s.send("* 12 FETCH (BODY[HEADER] {342}")
		s.sendRaw(header)
		s.send(")", tag+" OK FETCH completed")
		tag = s.expect(`STORE 12 +FLAGS (\Deleted)`)
		s.send(`* 12 FETCH (FLAGS (\Seen \Deleted))`, tag+" OK +FLAGS completed")
		tag = s.expect("LOGOUT")
		s.send("* BYE IMAP4rev1 server terminating connection", tag+" OK LOGOUT completed")
	})
	ctx := context.Background()
	if _, err := c.Capability(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, "mrc", "secret"); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if !c.Has(CapIdle) || c.Has(CapStartTLS) || c.State() != Authenticated {
		t.Fatalf("after Login: caps %v state %v, want refreshed caps and authenticated", c.Caps(), c.State())
	}
	mb, err := c.Select(ctx, "inbox", nil)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	want := &MailboxStatus{Name: "inbox", Exists: 18, Recent: 2, Unseen: 17, UIDValidity: 3857529045,
		Flags: []string{FlagAnswered, FlagFlagged, FlagDeleted, FlagSeen, FlagDraft}}
	if !reflect.DeepEqual(mb, want) {
		t.Fatalf("Select = %+v, want %+v", mb, want)
	}
	var msgs []*FetchMessage
	items := []FetchItem{FetchFlags, FetchInternalDate, FetchRFC822Size, FetchEnvelope, "BODY"}
	err = c.Fetch(ctx, SeqSetFromNums(12), items, func(m *FetchMessage) error {
		msgs = append(msgs, m.Clone())
		return nil
	})
	if err != nil || len(msgs) != 1 || msgs[0].Size != 4286 || msgs[0].Envelope.Subject != "IMAP4rev1 WG mtg summary and minutes" ||
		msgs[0].BodyStructure.Lines != 92 {
		t.Fatalf("Fetch full = %+v, %v", msgs, err)
	}
	var got []byte
	err = c.Fetch(ctx, SeqSetFromNums(12), []FetchItem{FetchSection("HEADER", false, 0, -1)}, func(m *FetchMessage) error {
		got = append(got, m.Section("HEADER")...)
		return nil
	})
	if err != nil || string(got) != header {
		t.Fatalf("Fetch BODY[HEADER] = %q, %v, want the header", got, err)
	}
	if err := c.Store(ctx, SeqSetFromNums(12), StoreAdd, false, []string{FlagDeleted}); err != nil {
		t.Fatalf("Store: %v", err)
	}
	if len(updates) != 1 || updates[0].Kind != UpdateFetch || !updates[0].Message.HasFlag(`\deleted`) {
		t.Fatalf("Store updates = %+v, want one FETCH with \\Deleted", updates)
	}
	if err := c.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if err := c.Noop(ctx); !errors.Is(err, ErrAbort) {
		t.Fatalf("Noop after Logout = %v, want ErrAbort", err)
	}
}

func TestGreeting(t *testing.T) {
	tests := []struct {
		greeting string
		state    ConnState
		wantErr  bool
	}{
		{"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi", NotAuthenticated, false},
		{"* PREAUTH [CAPABILITY IMAP4rev1] server logged in as Smith", Authenticated, false}, // RFC 3501 section 7.1.4
		{"* BYE go away", 0, true},
		{"garbage", 0, true},
	}
	for _, tt := range tests {
		addr := startFake(t, func(s *fakeConn) { s.send(tt.greeting) })
		c, err := Dial(context.Background(), addr, nil)
		if tt.wantErr {
			if err == nil {
				c.Close()
				t.Errorf("Dial with greeting %q succeeded, want error", tt.greeting)
			}
			continue
		}
		if err != nil {
			t.Errorf("Dial with greeting %q = %v", tt.greeting, err)
			continue
		}
		if c.State() != tt.state {
			t.Errorf("greeting %q: State() = %v, want %v", tt.greeting, c.State(), tt.state)
		}
		c.Close()
	}
}

// Synchronizing literals wait for the continuation; LITERAL+ does not.
func TestLiterals(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		line := s.readLine()
		tag, _, _ := strings.Cut(line, " ")
		if line != tag+" LOGIN user {6}" {
			t.Errorf("LOGIN line = %q", line)
		}
		s.send("+ Ready for literal")
		if got := s.readN(6); got != "pässw" {
			t.Errorf("literal = %q", got)
		}
		if rest := s.readLine(); rest != "" {
			t.Errorf("after literal: %q", rest)
		}
		s.send(tag + " OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] done")
		line = s.readLine()
		tag, _, _ = strings.Cut(line, " ")
		if line != tag+` APPEND Drafts (\Seen) " 5-Mar-2024 10:00:00 +0000" {5+}` {
			t.Errorf("APPEND line = %q", line)
		}
		s.readN(5)
		s.readLine()
		s.send(tag + " OK [APPENDUID 38505 3955] APPEND completed")
		// A synchronizing literal the server refuses.
		line = s.readLine()
		tag, _, _ = strings.Cut(line, " ")
		s.send(tag + " NO [TRYCREATE] no such mailbox")
	})
	ctx := context.Background()
	if err := c.Login(ctx, "user", "pässw"); err != nil {
		t.Fatalf("Login: %v", err)
	}
	date := time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
	ad, err := c.Append(ctx, "Drafts", []string{FlagSeen}, date, strings.NewReader("hello"))
	if err != nil || ad == nil || *ad != (AppendData{38505, 3955}) {
		t.Fatalf("Append = %+v, %v, want {38505 3955}", ad, err)
	}
	c.smu.Lock()
	delete(c.caps, CapLiteralPlus)
	c.smu.Unlock()
	_, err = c.Append(ctx, "Nope", nil, time.Time{}, strings.NewReader("x"))
	if !IsTryCreate(err) {
		t.Fatalf("Append to missing mailbox = %v, want TRYCREATE", err)
	}
	if err := c.checkBroken(); err != nil {
		t.Fatalf("refused literal broke the connection: %v", err)
	}
}

func TestAuthenticatePlain(t *testing.T) {
	for _, saslIR := range []bool{true, false} {
		caps := "IMAP4rev1 AUTH=PLAIN"
		if saslIR {
			caps += " SASL-IR"
		}
		var trace bytes.Buffer
		c := dialFake(t, &Options{Trace: &trace}, func(s *fakeConn) {
			s.send("* OK [CAPABILITY " + caps + "] hi")
			line := s.readLine()
			tag, rest, _ := strings.Cut(line, " ")
			if saslIR {
				if rest != "AUTHENTICATE PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm" {
					t.Errorf("got %q", rest)
				}
			} else {
				if rest != "AUTHENTICATE PLAIN" {
					t.Errorf("got %q", rest)
				}
				s.send("+ ")
				if got := s.readLine(); got != "AHRpbQB0YW5zdGFhZnRhbnN0YWFm" {
					t.Errorf("response %q", got)
				}
			}
			s.send(tag + " OK [CAPABILITY IMAP4rev1 MOVE] Logged in")
		})
		if err := c.Authenticate(context.Background(), sasl.Plain("", "tim", "tanstaaftanstaaf")); err != nil {
			t.Fatalf("Authenticate (SASL-IR %v): %v", saslIR, err)
		}
		if !c.Has(CapMove) || c.State() != Authenticated {
			t.Errorf("after Authenticate: caps %v, state %v", c.Caps(), c.State())
		}
		if strings.Contains(trace.String(), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm") {
			t.Errorf("trace reveals credentials:\n%s", trace.String())
		}
	}
}

func TestAuthenticateFailure(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi")
		tag := strings.Fields(s.readLine())[0]
		s.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.")
	})
	err := c.Authenticate(context.Background(), sasl.Plain("", "a", "b"))
	var ie *Error
	if !errors.As(err, &ie) || ie.Code != "AUTHENTICATIONFAILED" || ie.Status != "NO" {
		t.Fatalf("Authenticate = %v, want NO [AUTHENTICATIONFAILED]", err)
	}
	if err := c.Authenticate(context.Background(), sasl.Plain("", "a", "b")); err == nil {
		t.Fatal("second Authenticate against a closed script succeeded")
	}
}

func TestTraceRedactsLogin(t *testing.T) {
	var trace bytes.Buffer
	c := dialFake(t, &Options{Trace: &trace}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		tag := strings.Fields(s.readLine())[0]
		s.send(tag + " OK [CAPABILITY IMAP4rev1] ok")
		tag = strings.Fields(s.readLine())[0]
		s.send("* 1 FETCH (BODY[] {11}", "hello world)", tag+" OK done")
	})
	ctx := context.Background()
	if err := c.Login(ctx, "alice", "hunter2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Fetch(ctx, SeqSetFromNums(1), []FetchItem{FetchSection("", true, 0, -1)}, func(*FetchMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	out := trace.String()
	for _, secret := range []string{"hunter2", "alice", "hello world"} {
		if strings.Contains(out, secret) {
			t.Errorf("trace contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"C: A1 LOGIN <redacted>", "S: * 1 FETCH (BODY[] {11} <11 bytes>", "C: A2 FETCH 1 (BODY.PEEK[])"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

// LOGIN over an unencrypted non-loopback connection is refused.
func TestInsecureAuthRefused(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	go func() {
		io.WriteString(server, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n")
		io.Copy(io.Discard, server)
	}()
	c, err := New(client, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(context.Background(), "u", "p"); !errors.Is(err, ErrInsecureAuth) {
		t.Fatalf("Login over plaintext pipe = %v, want ErrInsecureAuth", err)
	}
	if err := c.Authenticate(context.Background(), sasl.Plain("", "u", "p")); !errors.Is(err, ErrInsecureAuth) {
		t.Fatalf("Authenticate over plaintext pipe = %v, want ErrInsecureAuth", err)
	}
}

func TestStartTLSNotAdvertised(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] no tls here")
		s.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if line, err := s.r.ReadString('\n'); err == nil {
			t.Errorf("client sent %q although STARTTLS is not advertised", line)
		}
	})
	if err := c.StartTLS(context.Background(), nil); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("StartTLS = %v, want ErrNotSupported", err)
	}
}

func TestContextDeadline(t *testing.T) {
	release := make(chan struct{})
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		s.readLine()
		<-release // never answer
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Noop(ctx)
	if !errors.Is(err, ErrAbort) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Noop past deadline = %v, want ErrAbort and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Noop took %v to honour a 100ms deadline", d)
	}
	if err := c.Noop(context.Background()); !errors.Is(err, ErrAbort) {
		t.Fatalf("Noop after an aborted command = %v, want ErrAbort", err)
	}
}

func TestContextCancel(t *testing.T) {
	release := make(chan struct{})
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		s.readLine()
		<-release
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := c.Noop(ctx); !errors.Is(err, ErrAbort) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Noop = %v, want ErrAbort and Canceled", err)
	}
}

// A connection dropped in the middle of a FETCH aborts the command.
func TestDroppedConnection(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		s.readLine()
		s.send("* 1 FETCH (UID 1 FLAGS ())", "* 2 FETCH (UID 2 BODY[] {100}")
		s.sendRaw("partial")
	})
	var n int
	err := c.UIDFetch(context.Background(), SeqSet{{1, 0}}, []FetchItem{FetchUID}, func(*FetchMessage) error { n++; return nil })
	if !errors.Is(err, ErrAbort) || n != 1 {
		t.Fatalf("UIDFetch on dropped connection = %v after %d messages, want ErrAbort after 1", err, n)
	}
}

// BYE then EOF: the error says why.
func TestByeThenEOF(t *testing.T) {
	var updates []Update
	c := dialFake(t, &Options{UpdateHandler: func(u Update) { updates = append(updates, u) }}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		s.readLine()
		s.send("* BYE Server shutting down")
	})
	err := c.Noop(context.Background())
	if !errors.Is(err, ErrAbort) || !strings.Contains(err.Error(), "Server shutting down") {
		t.Fatalf("Noop after BYE = %v, want ErrAbort mentioning the BYE text", err)
	}
	if len(updates) != 1 || updates[0].Kind != UpdateBye {
		t.Fatalf("updates = %+v, want one BYE", updates)
	}
}

// An error from the FETCH callback stops delivery but reads the command to its end.
func TestFetchCallbackError(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		tag := strings.Fields(s.readLine())[0]
		s.send("* 1 FETCH (UID 10)", "* 2 FETCH (UID 11)", "* 3 FETCH (UID 12)", tag+" OK done")
		tag = strings.Fields(s.readLine())[0]
		s.send(tag + " OK noop")
	})
	stop := errors.New("stop")
	var seen []uint32
	err := c.Fetch(context.Background(), SeqSet{{1, 3}}, []FetchItem{FetchUID}, func(m *FetchMessage) error {
		seen = append(seen, m.UID)
		return stop
	})
	if !errors.Is(err, stop) || !reflect.DeepEqual(seen, []uint32{10}) {
		t.Fatalf("Fetch = %v, saw %v; want stop after [10]", err, seen)
	}
	if err := c.Noop(context.Background()); err != nil {
		t.Fatalf("Noop after callback error = %v", err)
	}
}

func TestIdleFake(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 IDLE] hi")
		tag := s.expect("IDLE")
		s.send("+ idling", "* 5 EXISTS", "* OK Still here", "* 3 EXPUNGE")
		if got := s.readLine(); got != "DONE" {
			t.Errorf("got %q, want DONE", got)
		}
		s.send(tag + " OK Idle completed")
	})
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var kinds []UpdateKind
	err := c.Idle(ctx, func(u Update) {
		mu.Lock()
		defer mu.Unlock()
		kinds = append(kinds, u.Kind)
		if u.Kind == UpdateExpunge {
			cancel()
		}
	})
	if err != nil {
		t.Fatalf("Idle = %v", err)
	}
	if !reflect.DeepEqual(kinds, []UpdateKind{UpdateExists, UpdateExpunge}) {
		t.Fatalf("Idle updates = %v, want [EXISTS EXPUNGE]", kinds)
	}
}

// IDLE is re-issued after the restart interval.
func TestIdleRestart(t *testing.T) {
	c := dialFake(t, &Options{IdleRestart: 50 * time.Millisecond}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 IDLE] hi")
		for i := 0; i < 2; i++ {
			tag := s.expect("IDLE")
			s.send("+ idling")
			if got := s.readLine(); got != "DONE" {
				t.Errorf("got %q, want DONE", got)
			}
			s.send(tag + " OK Idle completed")
		}
		tag := s.expect("IDLE")
		s.send("+ idling", "* 1 EXISTS")
		s.readLine()
		s.send(tag + " OK Idle completed")
	})
	ctx, cancel := context.WithCancel(context.Background())
	err := c.Idle(ctx, func(u Update) { cancel() })
	if err != nil {
		t.Fatalf("Idle = %v", err)
	}
}

// Cancelling before the server's continuation still ends IDLE cleanly.
func TestIdleCancelBeforeContinuation(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 IDLE] hi")
		tag := s.expect("IDLE")
		time.Sleep(100 * time.Millisecond)
		s.send("+ idling")
		if got := s.readLine(); got != "DONE" {
			t.Errorf("got %q, want DONE", got)
		}
		s.send(tag + " OK done")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Idle(ctx, nil); err != nil {
		t.Fatalf("Idle = %v", err)
	}
}

func TestMoveRequiresCapability(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) { s.send("* OK [CAPABILITY IMAP4rev1] hi") })
	if _, err := c.UIDMove(context.Background(), SeqSetFromNums(1), "x"); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("UIDMove without MOVE = %v, want ErrNotSupported", err)
	}
	if _, err := c.UIDExpunge(context.Background(), SeqSetFromNums(1)); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("UIDExpunge without UIDPLUS = %v, want ErrNotSupported", err)
	}
}

// MOVE's COPYUID comes in an untagged OK (RFC 6851 section 4.3); the
// EXPUNGEs are updates and shrink the mailbox.
func TestMoveCopyUIDUntagged(t *testing.T) {
	var updates []Update
	c := dialFake(t, &Options{UpdateHandler: func(u Update) { updates = append(updates, u) }}, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 MOVE UIDPLUS] hi")
		tag := s.expect("SELECT INBOX")
		s.send("* 3 EXISTS", "* OK [UIDVALIDITY 1] x", tag+" OK [READ-WRITE] done")
		tag = s.expect("UID MOVE 42:43 Archive/2024")
		s.send("* OK [COPYUID 432432 42:43 7:8]", "* 2 EXPUNGE", "* 2 EXPUNGE", tag+" OK done")
	})
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	cd, err := c.UIDMove(ctx, SeqSetFromNums(43, 42), "Archive/2024")
	want := &CopyData{UIDValidity: 432432, SourceUIDs: SeqSet{{42, 43}}, DestUIDs: SeqSet{{7, 8}}}
	if err != nil || !reflect.DeepEqual(cd, want) {
		t.Fatalf("UIDMove = %+v, %v, want %+v", cd, err, want)
	}
	if m := c.Mailbox(); m.Exists != 1 {
		t.Fatalf("Mailbox().Exists = %d after two expunges of 3, want 1", m.Exists)
	}
	if len(updates) != 2 || updates[0].Kind != UpdateExpunge {
		t.Fatalf("updates = %+v, want two EXPUNGE", updates)
	}
	if got := cd.UIDMap(); !reflect.DeepEqual(got, map[uint32]uint32{42: 7, 43: 8}) {
		t.Fatalf("UIDMap = %v", got)
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 MOVE UIDPLUS] hi")
		tag := s.expect("EXAMINE INBOX")
		s.send("* 3 EXISTS", tag+" OK [READ-ONLY] done")
	})
	ctx := context.Background()
	if _, err := c.Examine(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := c.UIDStore(ctx, SeqSetFromNums(1), StoreAdd, true, []string{FlagSeen}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("UIDStore on EXAMINEd mailbox = %v, want ErrReadOnly", err)
	}
	if _, err := c.UIDMove(ctx, SeqSetFromNums(1), "x"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("UIDMove on EXAMINEd mailbox = %v, want ErrReadOnly", err)
	}
}

func TestExecuteRaw(t *testing.T) {
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1 LITERAL+] hi")
		tag := s.expect(`GETQUOTAROOT INBOX "a b" (x y) 1:3 {2+}`)
		if got := s.readN(2); got != "hi" {
			t.Errorf("literal %q", got)
		}
		s.readLine()
		s.send(`* QUOTAROOT INBOX ""`, `* QUOTA "" (STORAGE 10 512)`, "* 4 EXISTS", tag+" OK Getquotaroot completed")
	})
	res, err := c.Execute(context.Background(), "GETQUOTAROOT", MailboxName("INBOX"), "a b", []string{"x", "y"}, SeqSet{{1, 3}}, []byte("hi"))
	if err != nil {
		t.Fatalf("Execute = %v", err)
	}
	want := []RawResponse{{`* QUOTAROOT INBOX ""`}, {`* QUOTA "" (STORAGE 10 512)`}, {"* 4 EXISTS"}}
	if res.Status != "OK" || !reflect.DeepEqual(res.Untagged, want) {
		t.Fatalf("Execute = %+v, want untagged %v", res, want)
	}
}

func TestSearchEncoding(t *testing.T) {
	day := time.Date(2024, 2, 1, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		criteria *SearchCriteria
		want     string
	}{
		{nil, "UID SEARCH ALL"},
		{&SearchCriteria{}, "UID SEARCH ALL"},
		{&SearchCriteria{UID: SeqSet{{5, 0}}, NotFlag: []string{FlagSeen, "$Junk"}}, "UID SEARCH UID 5:* UNSEEN UNKEYWORD $Junk"},
		{&SearchCriteria{Since: day, Before: day.AddDate(0, 1, 0), Larger: 1000, Smaller: 5000, Flag: []string{`\Flagged`}},
			"UID SEARCH SINCE 1-Feb-2024 BEFORE 1-Mar-2024 FLAGGED LARGER 1000 SMALLER 5000"},
		{&SearchCriteria{Header: [][2]string{{"List-Id", "golang-nuts"}, {"X-Spam-Flag", ""}}, Body: []string{`say "hi"`}},
			`UID SEARCH HEADER List-Id golang-nuts HEADER X-Spam-Flag "" BODY "say \"hi\""`},
		{&SearchCriteria{Not: []SearchCriteria{{Flag: []string{FlagDeleted}}}, Or: [][2]SearchCriteria{{{Text: []string{"a"}}, {SentSince: day}}}},
			"UID SEARCH NOT (DELETED) OR (TEXT a) (SENTSINCE 1-Feb-2024)"},
		{&SearchCriteria{Raw: "MODSEQ 5"}, "UID SEARCH MODSEQ 5"},
		{&SearchCriteria{Text: []string{"grüße"}}, "UID SEARCH CHARSET UTF-8 TEXT {7+}\r\ngrüße"},
	}
	for _, tt := range tests {
		sent := make(chan string, 1)
		c := dialFake(t, nil, func(s *fakeConn) {
			s.send("* OK [CAPABILITY IMAP4rev1 LITERAL+] hi")
			line := s.readLine()
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasSuffix(rest, "+}") {
				rest += "\r\n" + s.readLine()
			}
			sent <- rest
			s.send("* SEARCH 9 4 4", tag+" OK done")
		})
		nums, err := c.UIDSearch(context.Background(), tt.criteria)
		c.Close()
		if err != nil || !reflect.DeepEqual(nums, []uint32{4, 9}) {
			t.Errorf("UIDSearch(%+v) = %v, %v", tt.criteria, nums, err)
		}
		if got := <-sent; got != tt.want {
			t.Errorf("UIDSearch(%+v) sent %q, want %q", tt.criteria, got, tt.want)
		}
	}
}
