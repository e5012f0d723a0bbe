package imap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
	"github.com/mailrules/mailrules/imap/internal/utf7"
)

// builder encodes one command (RFC 3501 section 2.2.1). It buffers the
// command line and sends it at each synchronizing literal and at the end.
// The trace copy of the line has secrets redacted and literals abbreviated.
type builder struct {
	c      *Client
	cmd    *command
	buf    []byte
	tr     []byte
	redact bool // arguments written from now on are secret
	sent   bool // some bytes already went to the server
	done   bool // the tagged response arrived early (refused literal)
}

func (c *Client) newBuilder(cmd *command) *builder {
	b := &builder{c: c, cmd: cmd, buf: c.wbuf[:0]}
	if c.trace != nil {
		b.tr = c.tbuf[:0]
	}
	return b
}

func (b *builder) raw(s string) {
	b.buf = append(b.buf, s...)
	if b.c.trace != nil {
		if b.redact {
			b.redactTrace()
		} else {
			b.tr = append(b.tr, s...)
		}
	}
}

func (b *builder) redactTrace() {
	const mark = "<redacted>"
	if !bytes.HasSuffix(b.tr, []byte(mark)) {
		b.tr = append(b.tr, mark...)
	}
}

func (b *builder) atom(s string) { b.raw(s) }
func (b *builder) sp()           { b.raw(" ") }

func (b *builder) number(n uint32) { b.raw(strconv.FormatUint(uint64(n), 10)) }

func (b *builder) number64(n uint64) { b.raw(strconv.FormatUint(n, 10)) }

// astring sends s as an atom when it can, otherwise a quoted string, and a
// literal when it holds bytes a quoted string cannot (RFC 3501 section 4.3).
func (b *builder) astring(s string) error {
	if imapwire.IsAtom(s) {
		b.raw(s)
		return nil
	}
	return b.str(s)
}

// str sends s as a quoted string or, if needed, a literal.
func (b *builder) str(s string) error {
	if imapwire.IsQuotable(s, b.c.utf8) {
		b.buf = imapwire.AppendQuoted(b.buf, s)
		if b.c.trace != nil {
			if b.redact {
				b.redactTrace()
			} else {
				b.tr = imapwire.AppendQuoted(b.tr, s)
			}
		}
		return nil
	}
	return b.literal(bytes.NewReader([]byte(s)), int64(len(s)))
}

// mailbox sends a mailbox name, encoded in modified UTF-7 (RFC 3501
// section 5.1.3) unless UTF8=ACCEPT is enabled (RFC 6855 section 3).
func (b *builder) mailbox(name string) error {
	if IsInbox(name) {
		b.raw("INBOX")
		return nil
	}
	if !b.c.utf8 {
		name = utf7.Encode(name)
	}
	return b.astring(name)
}

// literal sends a literal of size bytes read from r. LITERAL+ (or LITERAL-
// for at most 4096 bytes) lets it go without waiting (RFC 7888); otherwise
// the command line so far is sent and the server's continuation request
// awaited (RFC 3501 section 7.5).
func (b *builder) literal(r io.Reader, size int64) error {
	c := b.c
	nonSync := c.Has(CapLiteralPlus) || (c.Has(CapLiteralMinus) && size <= 4096)
	b.buf = imapwire.AppendLiteralHeader(b.buf, size, nonSync)
	if c.trace != nil {
		b.tr = imapwire.AppendLiteralHeader(b.tr, size, nonSync)
		b.tr = b.tr[:len(b.tr)-2]
		c.trace.line("C: ", b.tr)
		b.tr = b.tr[:0]
		if b.redact {
			b.tr = append(b.tr, "<redacted literal>"...)
		} else {
			b.tr = fmt.Appendf(b.tr, "<%d bytes>", size)
		}
	}
	if err := c.write(b.buf); err != nil {
		return c.fail(b.cmd.name, err)
	}
	b.buf = b.buf[:0]
	b.sent = true
	if !nonSync {
		if err := c.flush(); err != nil {
			return c.fail(b.cmd.name, err)
		}
		if err := b.waitContinuation(); err != nil {
			return err
		}
	}
	n, err := io.Copy(c.bw, io.LimitReader(r, size))
	if err == nil && n < size {
		err = fmt.Errorf("literal source ended after %d of %d bytes", n, size)
	}
	if err != nil {
		// The server waits for the rest of the literal: the connection
		// cannot be used any more.
		return c.fail(b.cmd.name, err)
	}
	return nil
}

// errRefused reports that the server answered a command before its
// synchronizing literal was sent.
var errRefused = errors.New("literal refused")

func (b *builder) waitContinuation() error {
	c := b.c
	for {
		kind, err := c.readResponse()
		if err != nil {
			return c.fail(b.cmd.name, err)
		}
		switch kind {
		case respCont:
			return nil
		case respTagged:
			if c.tagged.tag != b.cmd.tag {
				return c.fail(b.cmd.name, fmt.Errorf("protocol error: tagged response for unknown tag %q", c.tagged.tag))
			}
			b.done = true
			return errRefused
		}
	}
}

// finish ends the command line with CRLF and flushes it.
func (b *builder) finish() error {
	b.buf = append(b.buf, '\r', '\n')
	if b.c.trace != nil {
		b.c.trace.line("C: ", b.tr)
		b.c.tbuf = b.tr[:0]
	}
	err := b.c.write(b.buf)
	if err == nil {
		err = b.c.flush()
	}
	if cap(b.buf) <= 64<<10 {
		b.c.wbuf = b.buf[:0]
	}
	if err != nil {
		return b.c.fail(b.cmd.name, err)
	}
	return nil
}

// flagList sends a parenthesized list of flags.
func (b *builder) flagList(flags []string) error {
	b.raw("(")
	for i, f := range flags {
		if i > 0 {
			b.sp()
		}
		if !validFlag(f) {
			return fmt.Errorf("invalid flag %q", f)
		}
		b.raw(f)
	}
	b.raw(")")
	return nil
}

// validFlag reports whether f can be sent as a flag: a system flag
// ("\" atom) or a keyword atom (RFC 3501 section 9, flag).
func validFlag(f string) bool {
	if len(f) > 1 && f[0] == '\\' {
		return imapwire.IsAtom(f[1:])
	}
	return imapwire.IsAtom(f)
}
