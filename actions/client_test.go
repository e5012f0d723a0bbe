package actions

import "github.com/mailrules/mailrules/imap"

// *imap.Client must satisfy Mailbox and Subscriber.
var (
	_ Mailbox    = (*imap.Client)(nil)
	_ Subscriber = (*imap.Client)(nil)
)
