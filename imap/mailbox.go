package imap

import "context"

// Create sends CREATE (RFC 3501 section 6.3.3).
func (c *Client) Create(ctx context.Context, name string) error {
	return c.mailboxCmd(ctx, "CREATE", name)
}

// Delete sends DELETE (RFC 3501 section 6.3.4).
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.mailboxCmd(ctx, "DELETE", name)
}

// Subscribe sends SUBSCRIBE (RFC 3501 section 6.3.6).
func (c *Client) Subscribe(ctx context.Context, name string) error {
	return c.mailboxCmd(ctx, "SUBSCRIBE", name)
}

// Unsubscribe sends UNSUBSCRIBE (RFC 3501 section 6.3.7).
func (c *Client) Unsubscribe(ctx context.Context, name string) error {
	return c.mailboxCmd(ctx, "UNSUBSCRIBE", name)
}

// Rename sends RENAME (RFC 3501 section 6.3.5).
func (c *Client) Rename(ctx context.Context, from, to string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.simple(ctx, "RENAME", func(b *builder) error {
		b.atom("RENAME ")
		if err := b.mailbox(from); err != nil {
			return err
		}
		b.sp()
		return b.mailbox(to)
	})
	if err != nil {
		return err
	}
	return nil
}

func (c *Client) mailboxCmd(ctx context.Context, verb, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.simple(ctx, verb, func(b *builder) error {
		b.atom(verb)
		b.sp()
		return b.mailbox(name)
	})
	if err != nil {
		return err
	}
	return nil
}
