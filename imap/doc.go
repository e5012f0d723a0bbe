// Package imap is an IMAP4rev1 client (RFC 3501).
//
// It speaks the protocol itself, parsing responses while they arrive, and
// supports these extensions:
//
//   - STARTTLS and LOGINDISABLED (RFC 3501 section 6.2.1)
//   - SASL-IR, initial responses to AUTHENTICATE (RFC 4959), with the
//     mechanisms of package sasl: PLAIN (RFC 4616), LOGIN, CRAM-MD5
//     (RFC 2195), XOAUTH2 and OAUTHBEARER (RFC 7628)
//   - LITERAL+ and LITERAL- (RFC 7888)
//   - UIDPLUS: APPENDUID, COPYUID, UID EXPUNGE (RFC 4315)
//   - MOVE (RFC 6851)
//   - IDLE (RFC 2177)
//   - ENABLE (RFC 5161) and UTF8=ACCEPT mailbox names (RFC 6855)
//   - CONDSTORE and QRESYNC (RFC 7162): MODSEQ, HIGHESTMODSEQ/NOMODSEQ, FETCH (CHANGEDSINCE) and
//     VANISHED (UIDFetchWith), SEARCH MODSEQ (ModSeqSince), STORE (UNCHANGEDSINCE), SELECT (QRESYNC ...)
//   - ESEARCH: SearchExtended with RETURN (MIN MAX COUNT ALL) (RFC 4731)
//   - SORT and THREAD (RFC 5256)
//   - NAMESPACE (RFC 2342), ID (RFC 2971), UNSELECT (RFC 3691)
//   - ACL (RFC 4314), QUOTA (RFC 2087, RFC 9208), METADATA (RFC 5464)
//   - BINARY literal8 in responses (RFC 3516)
//   - NOTIFY: NotifySet, NotifyNone; other mailboxes' STATUS and LIST
//     responses as UpdateStatus and UpdateMailbox, NOTIFICATIONOVERFLOW as
//     UpdateOverflow (RFC 5465)
//   - LIST-STATUS: ListStatus, STATUS of many mailboxes in one command
//     (RFC 5819, with the multiple patterns of LIST-EXTENDED, RFC 5258)
//
// A Client is safe for use by one goroutine at a time; commands are
// serialized. Every command takes a context: its deadline bounds the
// command, and cancelling a command in flight closes the connection
// (later calls fail with ErrAbort), except for Idle, where cancelling ends
// the IDLE with DONE. Options.ReadTimeout also ends a command whose server
// has gone silent, however long its context. Commands that need a
// capability check for it first and fail with an error wrapping
// ErrNotSupported, sending nothing.
//
// A hostile or broken server cannot make the Client hold unbounded memory:
// Options.MaxLiteralSize bounds one literal and Options.MaxResponseSize one
// response (one FETCH of one message, say), both checked before anything
// is allocated; exceeding either aborts the connection.
//
// Errors name the command once, with the server's answer, e.g.
// "imap: CREATE: NO [CANNOT] Invalid mailbox name."; the command methods
// add no prefix of their own, so callers can add what they were doing.
//
// Untagged data that no command asked for (new mail, expunges, flag
// changes, alerts) is applied to the Client's state (see Mailbox) and handed
// to Options.UpdateHandler, or to the handler given to Idle; it never piles
// up unread.
//
// Mailbox names are Go strings (UTF-8). On the wire they are modified
// UTF-7 (RFC 3501 section 5.1.3), or UTF-8 once ENABLE UTF8=ACCEPT
// succeeded; names the server sends are decoded the same way. Only INBOX
// is case-insensitive (RFC 3501 section 5.1): compare names with
// MailboxEqual. SeqSet.Chunks splits a large set so that each command line
// stays within MaxSetBytes.
//
// # Coming from Python's imaplib
//
// Every name in imaplib has a counterpart here. imaplib returns
// (type, [data...]) tuples of raw bytes; this package returns typed
// results and an error: a tagged NO or BAD is an *Error (with the response
// code, e.g. TRYCREATE), a broken connection an error wrapping ErrAbort.
//
//	imaplib                        Go                                              RFC
//	-----------------------------  ----------------------------------------------  ---------------------
//	IMAP4(host, port, timeout)     Dial(ctx, addr, *Options); DialTimeout          3501
//	IMAP4_SSL(host, port, ctx)     DialTLS(ctx, addr, *tls.Config, *Options)       8314
//	IMAP4_stream(command)          DialCommand(ctx, *Options, name, args...)       3501
//	IMAP4.open(host, port)         Dial / DialTLS (a Client is never reopened)     -
//	IMAP4.error                    *Error (tagged NO/BAD with code and text)       3501 7.1
//	IMAP4.abort                    errors.Is(err, ErrAbort)                        3501 7.1.5
//	IMAP4.readonly                 errors.Is(err, ErrReadOnly); MailboxStatus.ReadOnly  3501 7.1
//	append(mbox, flags, date, msg) Append(ctx, mbox, flags, date, io.Reader)       3501 6.3.11, 4315
//	authenticate(mech, authobj)    Authenticate(ctx, sasl.Mechanism)               3501 6.2.2, 4959
//	capability()                   Capability(ctx); cached: Caps, Has              3501 6.1.1
//	check()                        Check(ctx)                                      3501 6.4.1
//	close()                        CloseMailbox(ctx)                               3501 6.4.2
//	copy(set, mbox)                Copy, UIDCopy (COPYUID in *CopyData)            3501 6.4.7, 4315
//	create(mbox)                   Create(ctx, name)                               3501 6.3.3
//	delete(mbox)                   Delete(ctx, name)                               3501 6.3.4
//	deleteacl(mbox, who)           DeleteACL(ctx, mbox, identifier)                4314 3.2
//	enable(capability)             Enable(ctx, caps...); Enabled(cap)              5161, 6855
//	expunge()                      Expunge(ctx); UIDExpunge(ctx, set)              3501 6.4.3, 4315
//	fetch(set, parts)              Fetch, UIDFetch (streaming callback)            3501 6.4.5
//	getacl(mbox)                   GetACL(ctx, mbox) -> ACL                        4314 3.3
//	getannotation(mbox, e, attr)   GetMetadata; GetAnnotation (ANNOTATEMORE)       5464 4.2
//	getquota(root)                 GetQuota(ctx, root) -> *QuotaRoot               9208 4.1.1
//	getquotaroot(mbox)             GetQuotaRoot(ctx, mbox) -> *QuotaRootData       9208 4.1.2
//	idle(duration)                 Idle(ctx, handler); ctx deadline = duration     2177
//	list(dir, pattern)             List(ctx, ref, pattern) -> []*ListData          3501 6.3.8
//	login(user, password)          Login(ctx, user, password)                      3501 6.2.3
//	login_cram_md5(user, pw)       Authenticate(ctx, sasl.CRAMMD5(user, pw))       2195
//	logout()                       Logout(ctx)                                     3501 6.1.3
//	lsub(dir, pattern)             Lsub(ctx, ref, pattern)                         3501 6.3.9
//	myrights(mbox)                 MyRights(ctx, mbox)                             4314 3.5
//	(no imaplib name)              ListRights(ctx, mbox, identifier)               4314 3.4
//	namespace()                    Namespace(ctx) -> *NamespaceData                2342
//	noop()                         Noop(ctx)                                       3501 6.1.2
//	partial(num, part, start, n)   Partial, UIDPartial: BODY.PEEK[sect]<start.n>   3501 6.4.5
//	proxyauth(user)                ProxyAuth(ctx, user) (Cyrus only)               -
//	read(n), readline()            none: responses are parsed by the Client        -
//	recent()                       Mailbox().Recent; UpdateRecent updates          3501 7.3.2
//	rename(old, new)               Rename(ctx, from, to)                           3501 6.3.5
//	response(code)                 *Error.Code/CodeArgs; Mailbox(); Update.Code    3501 7.1
//	search(charset, criteria)      Search, UIDSearch(*SearchCriteria); And, Or...  3501 6.4.4
//	(search with RETURN)           SearchExtended, UIDSearchExtended -> SearchData  4731
//	select(mbox, readonly)         Select(ctx, name, *SelectOptions); Examine      3501 6.3.1
//	send(data)                     Execute(ctx, name, args...)                     -
//	setacl(mbox, who, what)        SetACL(ctx, mbox, identifier, rights)           4314 3.1
//	setannotation(...)             SetMetadata; SetAnnotation (ANNOTATEMORE)       5464 4.3
//	setquota(root, limits)         SetQuota(ctx, root, map[resource]limit)         9208 4.1.3
//	shutdown()                     Close()                                         -
//	socket(), sock, file, host     none: pass a net.Conn to New for custom sockets -
//	sort(crit, charset, search)    Sort, UIDSort([]SortCriterion, *SearchCriteria) 5256 3
//	starttls(ssl_context)          StartTLS(ctx, *tls.Config); DialStartTLS        3501 6.2.1
//	status(mbox, names)            Status(ctx, name, items...) -> *StatusData      3501 6.3.10, 7162
//	store(set, cmd, flags)         Store, UIDStore(set, StoreOp, silent, flags)    3501 6.4.6
//	subscribe(mbox)                Subscribe(ctx, name)                            3501 6.3.6
//	thread(alg, charset, search)   Thread, UIDThread -> []*Thread                  5256 3
//	uid(command, args...)          UIDFetch, UIDSearch, UIDStore, UIDCopy, UIDMove, UIDSort, UIDThread, UIDExpunge; else Execute(ctx, "UID ...")  3501 6.4.8
//	unselect()                     Unselect(ctx)                                   3691
//	unsubscribe(mbox)              Unsubscribe(ctx, name)                          3501 6.3.7
//	xatom(name, args...)           Execute(ctx, name, args...) -> *Result          3501 6.5.1
//	(move, not in imaplib)         Move, UIDMove                                   6851
//	(id, not in imaplib)           ID(ctx, fields)                                 2971
//	debug, print_log()             Options.Trace (LOGIN/AUTHENTICATE redacted)     -
//	capabilities                   Caps()                                          3501 7.2.1
//	PROTOCOL_VERSION               Has(CapIMAP4rev1)                               3501
//	state                          State() -> ConnState                            3501 3
//	utf8_enabled                   Enabled(CapUTF8Accept)                          6855
//	welcome                        Greeting()                                      3501 7.1
//	untagged_responses             Options.UpdateHandler; Result.Untagged          3501 7
//	with IMAP4(...) as M:          defer c.Logout(ctx)                             -
//	Internaldate2tuple(resp)       ParseInternalDate(s) -> time.Time               3501 9
//	Time2Internaldate(t)           FormatInternalDate(t)                           3501 9
//	ParseFlags(resp)               ParseFlags(s) -> []string                       3501 9
//	Int2AP(num)                    none: tags are generated per command ("A1"...)  3501 2.2.1
//
// Notes on some rows:
//
//   - fetch: imaplib collects every response in memory; Fetch hands each
//     parsed message to a callback, so memory stays flat however large
//     the mailbox. Items are typed (FetchUID, FetchFlags, FetchEnvelope,
//     FetchBodyStructure, FetchHeaderFields, FetchSection...).
//   - partial: the IMAP2 PARTIAL command is gone from IMAP4rev1; RFC 3501
//     section 6.4.5 gives its meaning to BODY[section]<origin.length>,
//     which Partial sends (with .PEEK, so \Seen is left alone).
//   - getannotation/setannotation: imaplib sends the pre-standard
//     ANNOTATEMORE commands (Cyrus); GetAnnotation and SetAnnotation do the
//     same when the server advertises ANNOTATEMORE. Today's servers offer
//     METADATA, used through GetMetadata and SetMetadata; a nil value is
//     NIL (absent, or remove).
//   - search: imaplib passes criteria as strings; SearchCriteria holds
//     them typed (UID and sequence sets, dates, sizes, flags, keywords,
//     headers, body and text, NOT, OR, raw keys) and the helpers And, Or,
//     Not, From, Subject, Keyword, OnDate, LargerThan... compose them.
//     CHARSET UTF-8 is sent when a string is not ASCII (and omitted after
//     ENABLE UTF8=ACCEPT); SearchOptions.Charset overrides it.
//   - response(code), recent(): imaplib keeps untagged data until asked.
//     Here every untagged response is either part of a command's result
//     (SELECT data in *MailboxStatus, COPYUID in *CopyData, the response
//     code of a NO in *Error), applied to Mailbox(), or delivered as an
//     Update at once.
//   - send, read, readline, socket: the raw transport is not exposed, so
//     nothing can desynchronize the parser; Execute sends any command with
//     correctly encoded arguments (astrings, literals, mailbox names,
//     sequence sets) and returns its tagged status and untagged responses.
//   - proxyauth: PROXYAUTH is a Cyrus extension with no capability; other
//     servers (Dovecot included) answer BAD, returned as *Error.
//   - Authenticate fails with an error wrapping ErrNotSupported and naming
//     AUTH=<mechanism> when the server does not offer the mechanism. The
//     OAuth mechanisms keep the server's JSON error challenge for
//     sasl.ServerErrorer.
package imap
