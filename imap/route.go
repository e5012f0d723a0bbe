package imap

import (
	"bytes"
	"strconv"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// Routing of untagged responses (RFC 3501 section 7).
//
// Every untagged response goes through untagged, which reads its head
// ("* 3 FETCH", "* QUOTA") and gives the rest to the first handler that
// claims its name:
//
//  1. the command in flight (command.on): each command registers the kinds
//     of response it collects when it is made, e.g. {"LIST", "LSUB"} for
//     List, {"QUOTA", "QUOTAROOT"} for GetQuotaRoot, {"FETCH"} for Fetch;
//  2. the connection (Client.on): kinds a feature asks the server to send at
//     any time, not only in answer to one command. NOTIFY (RFC 5465)
//     goes here (notify.go): NotifySet registers "STATUS" and "LIST"
//     handlers that turn other mailboxes' changes (during IDLE or between
//     commands) into updates, without another case in the router;
//  3. the default handler, defaultHandler, which keeps the connection's
//     state current (EXISTS, RECENT, EXPUNGE, FLAGS, CAPABILITY, ENABLED,
//     status responses and their codes: UIDVALIDITY, UIDNEXT,
//     PERMANENTFLAGS, COPYUID, APPENDUID...) and hands whatever is left to
//     the unsolicited path (the IDLE handler or Options.UpdateHandler).
//
// A command handler for a kind that also carries connection state (ENABLED,
// EXPUNGE) applies it with the same functions the default handler uses.
// The key "*" (anyResponse) claims every response before its head is read:
// Execute registers it to keep each response verbatim.

// A handler parses the rest of one untagged response after its name, up to
// and including the CRLF. num is the number before the name of a numeric
// response ("* 3 FETCH"), 0 for the others.
type handler func(d *imapwire.Decoder, num uint32) error

// handlers maps response names, upper case, to their handlers.
type handlers map[string]handler

// anyResponse is the handler key that claims every untagged response.
const anyResponse = "*"

// numericKind reports whether responses named name carry a number before
// the name (RFC 3501 sections 7.3 and 7.4). A response whose form does not
// match its name goes to the default handler, which keeps it as unknown.
func numericKind(name string) bool {
	switch name {
	case "FETCH", "EXISTS", "RECENT", "EXPUNGE":
		return true
	}
	return false
}

// untagged parses one untagged response after "* " and routes it.
func (c *Client) untagged(d *imapwire.Decoder) error {
	d.SkipSpaces()
	if cmd := c.cur; cmd != nil {
		if !cmd.routed {
			cmd.route(c)
		}
		if cmd.all != nil {
			return cmd.all(d, 0)
		}
	}
	hasNum, num, kw, err := readKind(d)
	if err != nil {
		return err
	}
	name := upperKeyword(kw)
	if numericKind(name) == hasNum {
		if h := c.lookup(name); h != nil {
			return h(d, num)
		}
	}
	return c.defaultHandler(d, hasNum, num, name, kw)
}

// lookup returns the handler for responses named name: the command in
// flight's, else the connection's; nil leaves them to the default handler.
func (c *Client) lookup(name string) handler {
	if c.cur != nil && c.cur.on != nil {
		if h := c.cur.on[name]; h != nil {
			return h
		}
	}
	if c.on != nil {
		return c.on[name]
	}
	return nil
}

// route completes cmd's registrations with the handlers of its typed
// results (fetch, list, status, search, sel), which are shorthands for
// the kinds they collect, and notes a handler for every response
// (anyResponse). It runs once, before cmd's first response.
func (cmd *command) route(c *Client) {
	cmd.routed = true
	defer func() { cmd.all = cmd.on[anyResponse] }()
	add := func(name string, h handler) {
		if cmd.on == nil {
			cmd.on = handlers{}
		}
		if cmd.on[name] == nil {
			cmd.on[name] = h
		}
	}
	if cmd.fetch != nil {
		add("FETCH", func(d *imapwire.Decoder, num uint32) error { return c.collectFetch(cmd, d, num) })
	}
	if cmd.list != nil {
		h := c.collectList(cmd.list)
		add("LIST", h)
		add("LSUB", h)
	}
	if cmd.status != nil {
		add("STATUS", c.collectStatus(cmd.status, cmd.statusOf))
	}
	if cmd.search != nil {
		add("SEARCH", collectSearch(cmd.search, readSearch))
		add("ESEARCH", collectSearch(cmd.search, readESearch))
	}
	if cmd.sel != nil {
		add("EXISTS", c.selectCount(&cmd.sel.Exists))
		add("RECENT", c.selectCount(&cmd.sel.Recent))
		add("FLAGS", c.selectFlags(cmd.sel))
	}
}

// collectFetch parses a FETCH response into cmd's reused FetchMessage and
// hands it to cmd.fetch: the allocation-free path of Fetch.
func (c *Client) collectFetch(cmd *command, d *imapwire.Decoder, seq uint32) error {
	if err := d.SP(); err != nil {
		return err
	}
	m := &cmd.fetchMsg
	m.reset()
	m.SeqNum = seq
	if err := c.parseFetch(d, m); err != nil {
		return err
	}
	if err := d.CRLF(); err != nil {
		return err
	}
	if m.UID == 0 && cmd.name == "UID FETCH" {
		// Every answer to UID FETCH carries the UID (RFC 3501 section
		// 6.4.8): one without is the server's news of a change, such as
		// another client's flags, and goes where such news goes, so that
		// a waiting client learns of it.
		c.deliver(Update{Kind: UpdateFetch, Num: seq, Message: m.Clone()})
		return nil
	}
	if cmd.fetchErr == nil {
		cmd.fetchErr = cmd.fetch(m)
	}
	return nil
}

// collectList appends LIST and LSUB responses (RFC 3501 sections 7.2.2
// and 7.2.3) to out.
func (c *Client) collectList(out *[]*ListData) handler {
	return func(d *imapwire.Decoder, _ uint32) error {
		if err := d.SP(); err != nil {
			return err
		}
		l, err := c.readList(d)
		if err != nil {
			return err
		}
		*out = append(*out, l)
		return d.CRLF()
	}
}

// collectStatus stores a STATUS response (RFC 3501 section 7.2.4) about
// mailbox in out. With NOTIFY, STATUS responses about other mailboxes may
// come during the command (RFC 5465 section 5.2): those go where they
// would have gone without it (the connection's handler or the default).
func (c *Client) collectStatus(out *StatusData, mailbox string) handler {
	return func(d *imapwire.Decoder, _ uint32) error {
		s, err := c.readStatusLine(d)
		if err != nil {
			return err
		}
		if mailbox != "" && !MailboxEqual(s.Mailbox, mailbox) && c.on["STATUS"] != nil {
			c.deliver(Update{Kind: UpdateStatus, Status: s, Text: s.Mailbox})
			return nil
		}
		*out = *s
		return nil
	}
}

// collectSearch appends the numbers of SEARCH or ESEARCH responses, as
// read parses them, to out.
func collectSearch(out *[]uint32, read func(*imapwire.Decoder) ([]uint32, error)) handler {
	return func(d *imapwire.Decoder, _ uint32) error {
		nums, err := read(d)
		if err != nil {
			return err
		}
		*out = append(*out, nums...)
		return d.CRLF()
	}
}

// selectCount stores the number of an EXISTS or RECENT response received
// while SELECT or EXAMINE runs in *field of the mailbox being opened.
func (c *Client) selectCount(field *uint32) handler {
	return func(d *imapwire.Decoder, num uint32) error {
		c.smu.Lock()
		*field = num
		c.smu.Unlock()
		return d.CRLF()
	}
}

// selectFlags stores a FLAGS response received while SELECT or EXAMINE
// runs in the mailbox being opened.
func (c *Client) selectFlags(sel *MailboxStatus) handler {
	return func(d *imapwire.Decoder, _ uint32) error {
		if err := d.SP(); err != nil {
			return err
		}
		flags, err := c.readFlags(d, nil)
		if err != nil {
			return err
		}
		c.smu.Lock()
		sel.Flags = flags
		c.smu.Unlock()
		return d.CRLF()
	}
}

// collectExpunge appends the numbers of EXPUNGE responses to out, after
// applying them to the selected mailbox.
func (c *Client) collectExpunge(out *[]uint32) handler {
	return func(d *imapwire.Decoder, num uint32) error {
		if err := d.CRLF(); err != nil {
			return err
		}
		c.expunged()
		*out = append(*out, num)
		return nil
	}
}

// collectEnabled appends the capabilities of ENABLED responses (RFC 5161
// section 3.2) to out, after recording them as enabled.
func (c *Client) collectEnabled(out *[]Cap) handler {
	return func(d *imapwire.Decoder, _ uint32) error {
		caps, err := readEnabled(d)
		if err != nil {
			return err
		}
		c.onEnabled(caps)
		*out = append(*out, caps...)
		return d.CRLF()
	}
}

// collectRaw keeps every untagged response verbatim in out, for Execute,
// and applies it to the connection's state like an unclaimed response,
// delivering nothing: what a raw command returns is its result, not an
// update.
func (c *Client) collectRaw(out *[]RawResponse) handler {
	return func(d *imapwire.Decoder, _ uint32) error {
		line, err := d.RawLine(append(c.rawBuf[:0], "* "...))
		c.rawBuf = line[:0]
		if err != nil {
			return err
		}
		*out = append(*out, RawResponse{Line: string(line)})
		sub := imapwire.NewDecoder(bytes.NewReader(append(line[2:], '\r', '\n')), 4096)
		sub.MaxLiteral = c.opts.maxLiteralSize()
		sub.MaxResponse = c.opts.maxResponseSize()
		c.quiet = true
		err = c.stateOnly(sub)
		c.quiet = false
		if imapwire.IsSyntax(err) {
			return nil
		}
		return err
	}
}

// stateOnly gives one untagged response, read from d, to the default
// handler whatever the registrations.
func (c *Client) stateOnly(d *imapwire.Decoder) error {
	hasNum, num, kw, err := readKind(d)
	if err != nil {
		return err
	}
	return c.defaultHandler(d, hasNum, num, upperKeyword(kw), kw)
}

// defaultHandler handles the untagged responses no command or connection
// registration claims: it applies connection state and delivers the rest
// as updates (RFC 3501 section 7). kw is the name as received.
func (c *Client) defaultHandler(d *imapwire.Decoder, hasNum bool, num uint32, name string, kw []byte) error {
	if hasNum {
		switch name {
		case "FETCH":
			if err := d.SP(); err != nil {
				return err
			}
			return c.fetchUpdate(d, num)
		case "EXISTS":
			c.onExists(num)
		case "RECENT":
			c.onRecent(num)
		case "EXPUNGE":
			c.expunged()
			c.deliver(Update{Kind: UpdateExpunge, Num: num})
		default:
			return c.other(d, strconv.FormatUint(uint64(num), 10)+" "+string(kw))
		}
		return d.CRLF()
	}
	switch name {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		s, err := c.respText(d, name)
		if err != nil {
			return err
		}
		c.onStatus(&s)
		return nil
	case "CAPABILITY":
		caps, err := readCapabilities(d)
		if err != nil {
			return err
		}
		c.setCaps(caps)
		return d.CRLF()
	case "FLAGS":
		if err := d.SP(); err != nil {
			return err
		}
		flags, err := c.readFlags(d, nil)
		if err != nil {
			return err
		}
		c.onFlags(flags)
		return d.CRLF()
	case "VANISHED":
		v, err := readVanished(d)
		if err != nil {
			return err
		}
		c.onVanished(v)
		return nil
	case "ENABLED":
		caps, err := readEnabled(d)
		if err != nil {
			return err
		}
		c.onEnabled(caps)
		return d.CRLF()
	case "LIST", "LSUB":
		if err := d.SP(); err != nil {
			return err
		}
		l, err := c.readList(d)
		if err != nil {
			return err
		}
		c.deliver(Update{Kind: UpdateOther, Text: name + " " + l.Name})
		return d.CRLF()
	case "STATUS":
		// parsed for its syntax, then dropped
		_, err := c.readStatusLine(d)
		return err
	case "SEARCH", "ESEARCH":
		read := readSearch
		if name == "ESEARCH" {
			read = readESearch
		}
		if _, err := read(d); err != nil {
			return err
		}
		return d.CRLF()
	}
	return c.other(d, string(kw))
}

// other keeps an untagged response this package does not know, raw, and
// delivers it as UpdateOther.
func (c *Client) other(d *imapwire.Decoder, head string) error {
	rest, err := d.RawLine(nil)
	if err != nil {
		return err
	}
	c.deliver(Update{Kind: UpdateOther, Text: head + string(rest)})
	return nil
}

// readKind reads the start of an untagged response after "* ": a number
// and a space for numeric responses ("3 FETCH"), then the response name.
func readKind(d *imapwire.Decoder) (hasNum bool, num uint32, kw []byte, err error) {
	b, err := d.Peek()
	if err != nil {
		return false, 0, nil, err
	}
	if hasNum = b >= '0' && b <= '9'; hasNum {
		if num, err = d.Number(); err != nil {
			return false, 0, nil, err
		}
		if err := d.SP(); err != nil {
			return false, 0, nil, err
		}
	}
	kw, err = d.Atom()
	return hasNum, num, kw, err
}
