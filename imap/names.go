package imap

// IsInbox reports whether name is INBOX, the user's primary mailbox, whose
// name is case-insensitive (RFC 3501 section 5.1): "inbox" and "Inbox"
// name it too. Only the whole name compares so.
func IsInbox(name string) bool { return eqFold(name, "INBOX") }

// MailboxEqual reports whether a and b name the same mailbox: the same
// string, or INBOX in any mix of case (RFC 3501 section 5.1). Other names
// are case-sensitive and compare exactly.
func MailboxEqual(a, b string) bool {
	return a == b || (IsInbox(a) && IsInbox(b))
}

// MailboxKey returns name in a form fit for a map key of mailboxes: INBOX
// in any case becomes "INBOX" (RFC 3501 section 5.1); other names are
// kept as they are.
func MailboxKey(name string) string {
	if IsInbox(name) {
		return "INBOX"
	}
	return name
}
