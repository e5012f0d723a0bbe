// Package gmailfilter translates Gmail's filter export (mailFilters.xml,
// an Atom feed whose entries carry <apps:property name="..." value="..."/>
// elements) into mailrules rules: `mailrules import gmail`.
//
// [ReadFeed] reads the export, [Parse] reads Gmail's search syntax (the
// language of the from, to, subject, hasTheWord and doesNotHaveTheWord
// criteria), [Import] makes one [Rule] per filter and
// [Result.WriteTOML] writes them as [[rule]] tables.
//
// # Criteria
//
//	Gmail                          mailrules condition
//	from / from:x                  any(from, ...): a whole address with iequals(.addr),
//	                               @domain with iequals(.domain), else icontains of .name or .addr
//	to / to:x                      the same over recipients (To, Cc and Bcc, as Gmail does)
//	cc:x, bcc:x                    the same over cc, bcc
//	from:me, to:me                 the address in the export's <author><email>
//	subject / subject:x            subject matches "(?i)(^|B)x(B|$)": x as a whole word, B being
//	                               anything but a letter, digit or mark; a phrase's words in order
//	word, "a phrase"               whole words in subject and body (not with Options.NoBody), or
//	                               icontains of the From names and addresses
//	doesNotHaveTheWord a b         !(a || b): none of them, as Gmail's -{a b}
//	a b, a AND b                   a && b
//	a OR b, a | b, {a b}           a || b (OR binds tighter than the space, as in Gmail)
//	-a                             !a
//	list:x@example.org             icontains(listId, "x.example.org")
//	has:attachment, hasAttachment  len(attachments) > 0
//	filename:x                     any(attachments, icontains(.filename, "x"))
//	larger:10M, size:n, smaller:5K size > mb(10), size > n, size < kb(5)
//	size + sizeOperator + sizeUnit the same (s_sl larger, s_ss smaller; s_sb, s_skb, s_smb)
//	older_than:3d, newer_than:2m   olderThan("3d"), newerThan("60d") (a month is 30 days)
//	after:/newer:, before:/older:  internalDate >= date("2024-01-31"), internalDate < date(...) (UTC)
//	is:unread, is:read, is:starred !seen, seen, flagged
//	in:inbox                       iequals(mailbox, "INBOX")
//	deliveredto:x                  any(headers("Delivered-To"), icontains(#, "x"))
//	rfc822msgid:x                  messageId == "x"
//
// Matching ignores case. Anything else (label:, category:, is:important, has:drive,
// in:spam, AROUND ...) cannot be expressed: the rule is written commented
// out, with the reason, and a warning says so.
//
// # Actions
//
//	label L                        copy = ["L"] (a nested label a/b is the mailbox a/b)
//	label L + shouldArchive        move = "L"
//	shouldArchive                  move = "Archive" (Options.Archive; on Gmail "[Gmail]/All Mail")
//	shouldMarkAsRead               seen = true
//	shouldStar                     flag = ['\Flagged']
//	shouldTrash                    delete = true (to the account's Trash); wins over archiving
//
// Over Gmail's own IMAP, a copy to a label's folder adds the label and a
// move from INBOX to it labels and archives, so these are exact there.
// shouldNeverSpam, shouldAlwaysMarkAsImportant,
// shouldNeverMarkAsImportant, forwardTo and smartLabelToApply have no
// counterpart: they are left out with a comment and a warning; a filter
// with nothing else is written commented out.
package gmailfilter
