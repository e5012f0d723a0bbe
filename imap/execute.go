package imap

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Result is the outcome of Execute: the tagged status and every untagged
// response received while the command ran, verbatim.
type Result struct {
	Status   string // OK, NO or BAD
	Code     string
	CodeArgs string
	Text     string
	Untagged []RawResponse
}

// Atom is an Execute argument sent verbatim (a keyword, a flag list, a
// sequence set). It must not contain CR or LF.
type Atom string

// MailboxName is an Execute argument encoded as a mailbox name.
type MailboxName string

// Execute sends any command (name, e.g. "GETQUOTAROOT" or "UID SORT") with
// args and returns its result; the imaplib equivalents are xatom and uid.
// Arguments are encoded by type: string as an astring (atom, quoted or
// literal as needed), Atom verbatim, MailboxName as a mailbox name, []byte
// as a literal, integers as numbers, SeqSet as a sequence set, []string as
// a parenthesized list of astrings, time.Time as a quoted date-time. A NO
// or BAD is returned both in the Result and as an *Error.
func (c *Client) Execute(ctx context.Context, name string, args ...any) (*Result, error) {
	if name == "" || strings.ContainsAny(name, "\r\n") {
		return nil, fmt.Errorf("execute: invalid command name %q", name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var raw []RawResponse
	cmd := &command{name: strings.ToUpper(name), on: handlers{anyResponse: c.collectRaw(&raw)}}
	st, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(name)
		for _, a := range args {
			b.sp()
			if err := b.arg(a); err != nil {
				return err
			}
		}
		return nil
	})
	if st == nil {
		return nil, err
	}
	res := &Result{Status: st.status, Code: st.code, CodeArgs: st.codeArgs, Text: st.text, Untagged: raw}
	if err != nil {
		return res, err
	}
	return res, nil
}

func (b *builder) arg(a any) error {
	switch v := a.(type) {
	case string:
		return b.astring(v)
	case Atom:
		if strings.ContainsAny(string(v), "\r\n") {
			return fmt.Errorf("invalid atom %q", v)
		}
		b.raw(string(v))
	case MailboxName:
		return b.mailbox(string(v))
	case []byte:
		return b.literal(bytes.NewReader(v), int64(len(v)))
	case int:
		b.raw(strconv.Itoa(v))
	case int64:
		b.raw(strconv.FormatInt(v, 10))
	case uint32:
		b.number(v)
	case uint64:
		b.number64(v)
	case SeqSet:
		b.raw(v.String())
	case []string:
		b.raw("(")
		for i, s := range v {
			if i > 0 {
				b.sp()
			}
			if err := b.astring(s); err != nil {
				return err
			}
		}
		b.raw(")")
	case time.Time:
		b.raw(`"` + FormatInternalDate(v) + `"`)
	default:
		return fmt.Errorf("unsupported argument type %T", a)
	}
	return nil
}
