package imap_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/imap/sasl"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// exampleAccount stands for your server and account in the examples. They
// run against the test Dovecot; in real code these are e.g.
// "imap.example.org:993", a nil *tls.Config (verify against the system
// roots), and your credentials.
type exampleAccount struct {
	Addr     string      // host:port, plain IMAP with STARTTLS
	TLSAddr  string      // host:port, implicit TLS
	TLS      *tls.Config // nil in real code
	User     string
	Password string
	close    func()
}

// newExampleAccount makes a user on the package's Dovecot (or, under
// -short, which starts none, on a private one) with three messages in
// INBOX.
func newExampleAccount() *exampleAccount {
	s, closeServer := srv, func() {}
	if s == nil {
		var err error
		if s, err = dovecottest.Start(nil); err != nil {
			log.Fatal(err)
		}
		closeServer = func() { s.Close() }
	}
	u, err := s.AddUser(fmt.Sprintf("example%d", rand.Uint32()))
	if err != nil {
		log.Fatal(err)
	}
	date := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	var msgs []dovecottest.Message
	for i, m := range [][2]string{
		{"alice@example.org", "Quarterly report"},
		{"newsletter@lists.example.com", "This week in Go"},
		{"bob@example.org", "Lunch on Friday?"},
	} {
		msgs = append(msgs, dovecottest.Message{
			Data:         fmt.Appendf(nil, "From: %s\r\nTo: you@example.org\r\nSubject: %s\r\n\r\nHello.\r\n", m[0], m[1]),
			InternalDate: date.Add(time.Duration(i) * time.Hour),
		})
	}
	if err := s.AddMessages(u, "INBOX", msgs); err != nil {
		log.Fatal(err)
	}
	return &exampleAccount{Addr: s.Addr(), TLSAddr: s.TLSAddr(), TLS: s.TLSConfig(),
		User: u.Name, Password: u.Password, close: closeServer}
}

func (a *exampleAccount) Close() { a.close() }

// Connect over implicit TLS and log in: imaplib's IMAP4_SSL and login.
func Example() {
	acct := newExampleAccount()
	defer acct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c, err := imap.DialTLS(ctx, acct.TLSAddr, acct.TLS, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, acct.User, acct.Password); err != nil {
		log.Fatal(err)
	}
	fmt.Println("TLS:", c.IsTLS())
	fmt.Println("state:", c.State())
	fmt.Println("MOVE:", c.Has(imap.CapMove))
	if err := c.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// TLS: true
	// state: authenticated
	// MOVE: true
}

// Upgrade a plain connection with STARTTLS and authenticate with a SASL
// mechanism: imaplib's starttls and authenticate (or login_cram_md5).
func ExampleClient_Authenticate() {
	acct := newExampleAccount()
	defer acct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c, err := imap.DialStartTLS(ctx, acct.Addr, acct.TLS, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("offered:", strings.Contains(strings.Join(c.Caps().AuthMechs(), " "), "CRAM-MD5"))
	if err := c.Authenticate(ctx, sasl.CRAMMD5(acct.User, acct.Password)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", c.State())
	// Output:
	// offered: true
	// state: authenticated
}

// Select a mailbox and fetch the headers of every message, streamed:
// imaplib's select and fetch.
func ExampleClient_UIDFetch() {
	acct := newExampleAccount()
	defer acct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c, err := imap.DialTLS(ctx, acct.TLSAddr, acct.TLS, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, acct.User, acct.Password); err != nil {
		log.Fatal(err)
	}
	mbox, err := c.Select(ctx, "INBOX", &imap.SelectOptions{ReadOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("messages:", mbox.Exists)
	items := []imap.FetchItem{imap.FetchUID, imap.FetchRFC822Size, imap.FetchHeaderFields("From", "Subject")}
	err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, items, func(m *imap.FetchMessage) error {
		// m and its byte slices are only valid during the callback.
		header := m.Section("HEADER.FIELDS (FROM SUBJECT)")
		subject := strings.TrimSpace(strings.SplitN(string(header), "Subject:", 2)[1])
		fmt.Printf("%d %s\n", m.UID, subject)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// messages: 3
	// 1 Quarterly report
	// 2 This week in Go
	// 3 Lunch on Friday?
}

// Search with the typed criteria builder: imaplib's search and uid('SEARCH', ...).
func ExampleClient_UIDSearch() {
	acct := newExampleAccount()
	defer acct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c, err := imap.DialTLS(ctx, acct.TLSAddr, acct.TLS, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, acct.User, acct.Password); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		log.Fatal(err)
	}
	// (From example.org or a list) and received on 1 June 2024 and not seen.
	criteria := imap.And(
		imap.Or(imap.From("@example.org"), imap.Header("List-Id", "")),
		imap.OnDate(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)),
		imap.Unseen(),
	)
	uids, err := c.UIDSearch(ctx, &criteria)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("from example.org:", uids)

	// ESEARCH (RFC 4731) returns just what is asked for.
	newsletters := imap.Subject("This week")
	res, err := c.UIDSearchExtended(ctx, &newsletters, &imap.SearchOptions{
		Return: []imap.SearchReturn{imap.SearchReturnCount, imap.SearchReturnMax}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("newsletters:", res.Count, "latest UID:", res.Max)
	// Output:
	// from example.org: [1 3]
	// newsletters: 1 latest UID: 2
}

// Move messages to another mailbox, creating it when the server says
// TRYCREATE (imaplib has no move; it is copy, store \Deleted and expunge).
func ExampleClient_UIDMove() {
	acct := newExampleAccount()
	defer acct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c, err := imap.DialTLS(ctx, acct.TLSAddr, acct.TLS, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, acct.User, acct.Password); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		log.Fatal(err)
	}
	uids := imap.SeqSetFromNums(2)
	moved, err := c.UIDMove(ctx, uids, "Lists")
	if imap.IsTryCreate(err) {
		if err := c.Create(ctx, "Lists"); err != nil {
			log.Fatal(err)
		}
		moved, err = c.UIDMove(ctx, uids, "Lists")
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("moved", moved.SourceUIDs, "to Lists as", moved.DestUIDs)
	fmt.Println("left in INBOX:", c.Mailbox().Exists)
	// Output:
	// moved 2 to Lists as 1
	// left in INBOX: 2
}

// Wait for new mail with IDLE: imaplib's idle. Cancelling the context ends
// the IDLE with DONE.
func ExampleClient_Idle() {
	acct := newExampleAccount()
	defer acct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c, err := imap.DialTLS(ctx, acct.TLSAddr, acct.TLS, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, acct.User, acct.Password); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		log.Fatal(err)
	}

	// Somebody else delivers a message a moment later.
	go func() {
		time.Sleep(200 * time.Millisecond)
		other, err := imap.DialTLS(ctx, acct.TLSAddr, acct.TLS, nil)
		if err != nil {
			log.Print(err)
			return
		}
		defer other.Logout(ctx)
		if err := other.Login(ctx, acct.User, acct.Password); err != nil {
			log.Print(err)
			return
		}
		msg := "From: carol@example.org\r\nSubject: Ping\r\n\r\nHi!\r\n"
		if _, err := other.Append(ctx, "INBOX", nil, time.Now(), strings.NewReader(msg)); err != nil {
			log.Print(err)
		}
	}()

	idleCtx, stopIdle := context.WithCancel(ctx)
	defer stopIdle()
	err = c.Idle(idleCtx, func(u imap.Update) {
		if u.Kind == imap.UpdateExists {
			fmt.Println("messages now:", u.Num)
			stopIdle() // handlers must not call the Client; cancelling is fine
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state after IDLE:", c.State())
	// Output:
	// messages now: 4
	// state after IDLE: selected
}

// Watch the protocol, with credentials redacted: imaplib's debug.
func ExampleOptions_trace() {
	acct := newExampleAccount()
	defer acct.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var trace bytes.Buffer
	c, err := imap.Dial(ctx, acct.Addr, &imap.Options{Trace: &trace})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, acct.User, acct.Password); err != nil {
		log.Fatal(err)
	}
	// The password never appears in the trace.
	for _, line := range strings.Split(trace.String(), "\n") {
		if strings.HasPrefix(line, "C: ") {
			fmt.Println(line)
		}
	}
	// Output:
	// C: A1 LOGIN <redacted>
}
