package imap

import "context"

// Move sends MOVE (RFC 6851) for the sequence numbers in seqs and returns
// the COPYUID data (nil if none). It fails with an error wrapping
// ErrNotSupported, sending nothing, when the server lacks MOVE; there is
// deliberately no fallback here, since COPY+STORE+EXPUNGE can remove other
// clients' \Deleted messages. The EXPUNGE responses are delivered as updates.
func (c *Client) Move(ctx context.Context, seqs SeqSet, dest string) (*CopyData, error) {
	return c.copyOrMove(ctx, "MOVE", seqs, dest)
}

// UIDMove sends UID MOVE (RFC 6851 section 3.2); see Move.
func (c *Client) UIDMove(ctx context.Context, uids SeqSet, dest string) (*CopyData, error) {
	return c.copyOrMove(ctx, "UID MOVE", uids, dest)
}
