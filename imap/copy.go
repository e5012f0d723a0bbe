package imap

import (
	"context"
	"strconv"
	"strings"
)

// CopyData is the COPYUID response code of UIDPLUS (RFC 4315 section 3):
// the UIDs the copied (or moved) messages got in the destination.
type CopyData struct {
	UIDValidity uint32
	SourceUIDs  SeqSet
	DestUIDs    SeqSet
}

// Copy sends COPY (RFC 3501 section 6.4.7). It returns the COPYUID data,
// or nil if the server sent none. A missing destination fails with an
// error for which IsTryCreate is true.
func (c *Client) Copy(ctx context.Context, seqs SeqSet, dest string) (*CopyData, error) {
	return c.copyOrMove(ctx, "COPY", seqs, dest)
}

// UIDCopy sends UID COPY (RFC 3501 section 6.4.8); see Copy.
func (c *Client) UIDCopy(ctx context.Context, uids SeqSet, dest string) (*CopyData, error) {
	return c.copyOrMove(ctx, "UID COPY", uids, dest)
}

func (c *Client) copyOrMove(ctx context.Context, verb string, set SeqSet, dest string) (*CopyData, error) {
	if len(set) == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.HasSuffix(verb, "MOVE") {
		if !c.Has(CapMove) {
			return nil, notSupported(strings.ToLower(verb), CapMove)
		}
		if err := c.requireWritable(strings.ToLower(verb)); err != nil {
			return nil, err
		}
	}
	cmd := &command{name: verb}
	st, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		b.sp()
		b.raw(set.String())
		b.sp()
		return b.mailbox(dest)
	})
	if err != nil {
		return nil, err
	}
	// COPYUID comes in the tagged OK for COPY, and in an untagged OK before
	// the EXPUNGEs for MOVE (RFC 6851 section 4.3).
	if st.code == "COPYUID" {
		return parseCopyUID(st.codeArgs), nil
	}
	for _, rc := range cmd.codes {
		if rc.code == "COPYUID" {
			return parseCopyUID(rc.args), nil
		}
	}
	return nil, nil
}

// parseCopyUID parses "uidvalidity source-set dest-set"; nil if malformed.
func parseCopyUID(args string) *CopyData {
	f := strings.Fields(args)
	if len(f) != 3 {
		return nil
	}
	v, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return nil
	}
	src, err1 := ParseSeqSet(f[1])
	dst, err2 := ParseSeqSet(f[2])
	if err1 != nil || err2 != nil {
		return nil
	}
	return &CopyData{UIDValidity: uint32(v), SourceUIDs: src, DestUIDs: dst}
}

// UIDMap returns the mapping from source UID to destination UID, pairing
// the sets in order (RFC 4315 section 3). It is nil if the sets' sizes
// differ.
func (d *CopyData) UIDMap() map[uint32]uint32 {
	src, dst := d.SourceUIDs.Nums(), d.DestUIDs.Nums()
	if len(src) != len(dst) {
		return nil
	}
	m := make(map[uint32]uint32, len(src))
	for i, s := range src {
		m[s] = dst[i]
	}
	return m
}
