package imap

import "context"

// Enable sends ENABLE (RFC 5161) and returns the capabilities the server
// enabled. Enabling UTF8=ACCEPT (RFC 6855) makes mailbox names travel as
// UTF-8 instead of modified UTF-7.
func (c *Client) Enable(ctx context.Context, caps ...Cap) ([]Cap, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapEnable) {
		return nil, notSupported("enable", CapEnable)
	}
	enabled := []Cap{}
	cmd := &command{name: "ENABLE", on: handlers{"ENABLED": c.collectEnabled(&enabled)}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("ENABLE")
		for _, cp := range caps {
			b.sp()
			if err := b.astring(string(cp)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return enabled, nil
}

// Enabled reports whether cap was enabled with ENABLE.
func (c *Client) Enabled(cap Cap) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.enabled[cap]
}
