package imap

import "context"

// ProxyAuth sends PROXYAUTH user, imaplib's proxyauth: a Cyrus extension
// with which an administrator, once logged in, acts as user. It is not in
// any RFC and no capability announces it; servers without it answer BAD,
// returned as an *Error. On success the connection is in the
// authenticated state as user and capabilities are asked for again.
func (c *Client) ProxyAuth(ctx context.Context, user string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := c.capsGeneration()
	err := c.simple(ctx, "PROXYAUTH", func(b *builder) error {
		b.atom("PROXYAUTH ")
		return b.astring(user)
	})
	if err != nil {
		return err
	}
	return c.afterAuth(ctx, gen)
}
