package imap

import (
	"context"
	"fmt"
	"strings"
)

// StoreOp says how STORE changes flags (RFC 3501 section 6.4.6).
type StoreOp int

// Store operations.
const (
	StoreAdd     StoreOp = iota // +FLAGS
	StoreRemove                 // -FLAGS
	StoreReplace                // FLAGS
)

func (op StoreOp) item(silent bool) string {
	s := [...]string{"+FLAGS", "-FLAGS", "FLAGS"}[op]
	if silent {
		s += ".SILENT"
	}
	return s
}

// Store sends STORE (RFC 3501 section 6.4.6) for the sequence numbers in
// seqs. Unless silent, the server's FETCH responses with the new flags are
// delivered as updates.
func (c *Client) Store(ctx context.Context, seqs SeqSet, op StoreOp, silent bool, flags []string) error {
	return c.store(ctx, "STORE", seqs, op, silent, flags)
}

// UIDStore sends UID STORE (RFC 3501 section 6.4.8); see Store.
func (c *Client) UIDStore(ctx context.Context, uids SeqSet, op StoreOp, silent bool, flags []string) error {
	return c.store(ctx, "UID STORE", uids, op, silent, flags)
}

func (c *Client) store(ctx context.Context, verb string, set SeqSet, op StoreOp, silent bool, flags []string) error {
	if op < StoreAdd || op > StoreReplace {
		return fmt.Errorf("%s: invalid operation %d", strings.ToLower(verb), op)
	}
	if len(set) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.requireWritable(strings.ToLower(verb)); err != nil {
		return err
	}
	err := c.simple(ctx, verb, func(b *builder) error {
		b.atom(verb)
		b.sp()
		b.raw(set.String())
		b.sp()
		b.atom(op.item(silent))
		b.sp()
		return b.flagList(flags)
	})
	if err != nil {
		return err
	}
	return nil
}
