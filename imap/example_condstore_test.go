package imap_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mailrules/mailrules/imap"
)

// Remember a mailbox's HIGHESTMODSEQ, then ask only for the messages whose
// flags changed since (CONDSTORE, RFC 7162): what a client resynchronising
// after a reconnect does instead of fetching every message's flags.
func ExampleClient_UIDFetchWith() {
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
	mbox, err := c.Select(ctx, "INBOX", &imap.SelectOptions{CondStore: true})
	if err != nil {
		log.Fatal(err)
	}
	remembered := mbox.HighestModSeq

	// Meanwhile the message with UID 2 is flagged (here by us).
	if err := c.UIDStore(ctx, imap.SeqSetFromNums(2), imap.StoreAdd, true, []string{imap.FlagFlagged}); err != nil {
		log.Fatal(err)
	}

	opts := &imap.FetchOptions{ChangedSince: remembered}
	_, err = c.UIDFetchWith(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchUID, imap.FetchFlags}, opts,
		func(m *imap.FetchMessage) error {
			if m.UID != 0 { // FETCH responses without UID are the server's news, by sequence number
				fmt.Println("changed:", m.UID, m.HasFlag(imap.FlagFlagged), m.ModSeq > remembered)
			}
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// changed: 2 true true
}
