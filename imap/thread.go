package imap

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// ThreadAlgorithm is a THREAD algorithm (RFC 5256 section 3), advertised as
// THREAD=<name>.
type ThreadAlgorithm string

// Thread algorithms.
const (
	ThreadOrderedSubject ThreadAlgorithm = "ORDEREDSUBJECT" // RFC 5256 section 2.2
	ThreadReferences     ThreadAlgorithm = "REFERENCES"     // RFC 5256 section 2.2
	ThreadRefs           ThreadAlgorithm = "REFS"           // draft-ietf-morg-inthread, Dovecot
)

// Thread is a node of a THREAD result (RFC 5256 section 4): a message and
// its replies. Num is a sequence number or UID; 0 marks a missing parent
// whose children are siblings, as in "((3)(5))".
type Thread struct {
	Num      uint32
	Children []*Thread
}

// String renders the thread in the response syntax, e.g. "(3 6 (4 23)(44 7 96))".
func (t *Thread) String() string {
	var sb strings.Builder
	sb.WriteByte('(')
	t.write(&sb)
	sb.WriteByte(')')
	return sb.String()
}

func (t *Thread) write(sb *strings.Builder) {
	if t.Num != 0 {
		sb.WriteString(strconv.FormatUint(uint64(t.Num), 10))
	}
	switch {
	case len(t.Children) == 1 && t.Num != 0:
		sb.WriteByte(' ')
		t.Children[0].write(sb)
	case len(t.Children) > 0:
		if t.Num != 0 {
			sb.WriteByte(' ')
		}
		for _, ch := range t.Children {
			sb.WriteByte('(')
			ch.write(sb)
			sb.WriteByte(')')
		}
	}
}

// Thread sends THREAD algorithm UTF-8 search-criteria (RFC 5256 section 3)
// and returns the threads of the matching messages by sequence number. A
// nil search matches ALL. It needs the THREAD=<algorithm> capability.
func (c *Client) Thread(ctx context.Context, alg ThreadAlgorithm, search *SearchCriteria) ([]*Thread, error) {
	return c.thread(ctx, "THREAD", alg, search)
}

// UIDThread sends UID THREAD and returns threads of UIDs. See Thread.
func (c *Client) UIDThread(ctx context.Context, alg ThreadAlgorithm, search *SearchCriteria) ([]*Thread, error) {
	return c.thread(ctx, "UID THREAD", alg, search)
}

func (c *Client) thread(ctx context.Context, verb string, alg ThreadAlgorithm, search *SearchCriteria) ([]*Thread, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := Cap("THREAD=" + strings.ToUpper(string(alg)))
	if !c.Has(cp) {
		return nil, notSupported(strings.ToLower(verb), cp)
	}
	if !imapwire.IsAtom(string(alg)) {
		return nil, fmt.Errorf("%s: invalid algorithm %q", strings.ToLower(verb), alg)
	}
	threads := []*Thread{}
	cmd := &command{name: verb, on: handlers{
		"THREAD": func(d *imapwire.Decoder, _ uint32) error {
			for !d.AtEOL() {
				t, err := readThread(d)
				if err != nil {
					return err
				}
				threads = append(threads, t)
			}
			return d.CRLF()
		},
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		b.sp()
		b.atom(strings.ToUpper(string(alg)))
		b.raw(" UTF-8 ")
		return b.searchKeys(search)
	})
	if err != nil {
		return nil, err
	}
	return threads, nil
}

// readThread parses a thread-list (RFC 5256 section 4):
//
//	thread-list    = "(" (thread-members / thread-nested) ")"
//	thread-members = nz-number *(SP nz-number) [SP thread-nested]
//	thread-nested  = 2*thread-list
func readThread(d *imapwire.Decoder) (*Thread, error) {
	if err := d.Expect('('); err != nil {
		return nil, err
	}
	if err := d.Enter(); err != nil {
		return nil, err
	}
	defer d.Leave()
	var root, last *Thread
	for {
		d.SkipSpaces()
		b, err := d.Peek()
		if err != nil {
			return nil, err
		}
		switch {
		case b == ')':
			d.ReadByte()
			if root == nil {
				return nil, &imapwire.SyntaxError{Msg: "empty thread"}
			}
			return root, nil
		case b == '(':
			child, err := readThread(d)
			if err != nil {
				return nil, err
			}
			if last == nil {
				root = &Thread{}
				last = root
			}
			last.Children = append(last.Children, child)
		default:
			n, err := d.Number()
			if err != nil {
				return nil, err
			}
			node := &Thread{Num: n}
			if last == nil {
				root = node
			} else {
				if len(last.Children) > 0 {
					return nil, &imapwire.SyntaxError{Msg: "thread member after nested threads"}
				}
				last.Children = []*Thread{node}
			}
			last = node
		}
	}
}
