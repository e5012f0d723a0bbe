package imap

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/mailrules/mailrules/imap/sasl"
)

// ErrInsecureAuth is returned by Login and Authenticate on an unencrypted
// connection to a host other than loopback, unless
// Options.AllowInsecureAuth is set.
var ErrInsecureAuth = errors.New("imap: refusing to send credentials over an unencrypted connection")

func (c *Client) checkAuthTransport(cmd string, safe bool) error {
	if c.secure || c.loopback || safe || c.opts.AllowInsecureAuth {
		return nil
	}
	return fmt.Errorf("%s: %w (use TLS or STARTTLS, or set AllowInsecureAuth)", cmd, ErrInsecureAuth)
}

// Login sends LOGIN (RFC 3501 section 6.2.3). The password never appears in
// the trace. It is refused when the server advertises LOGINDISABLED, and on
// an unencrypted non-loopback connection unless Options.AllowInsecureAuth.
// Capabilities are refreshed afterwards.
func (c *Client) Login(ctx context.Context, username, password string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkAuthTransport("login", false); err != nil {
		return err
	}
	if c.Has(CapLoginDisabled) {
		return fmt.Errorf("login: server advertises LOGINDISABLED: %w", ErrNotSupported)
	}
	gen := c.capsGeneration()
	err := c.simple(ctx, "LOGIN", func(b *builder) error {
		b.atom("LOGIN ")
		b.redact = true
		if err := b.astring(username); err != nil {
			return err
		}
		b.sp()
		return b.astring(password)
	})
	if err != nil {
		return err
	}
	return c.afterAuth(ctx, gen)
}

func (c *Client) capsGeneration() int {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.capsGen
}

// afterAuth moves to the authenticated state and makes sure the
// capabilities are those of the authenticated state (RFC 3501 section
// 6.2.3: they may change after login).
func (c *Client) afterAuth(ctx context.Context, gen int) error {
	c.setState(Authenticated)
	if c.capsGeneration() != gen {
		return nil
	}
	return c.capability(ctx)
}

// Authenticate sends AUTHENTICATE (RFC 3501 section 6.2.2) with mech,
// including the initial response in the command when the server has
// SASL-IR (RFC 4959). The exchange is redacted in the trace. Capabilities
// are refreshed afterwards.
func (c *Client) Authenticate(ctx context.Context, mech sasl.Mechanism) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	name := mech.Name()
	safe := false
	if s, ok := mech.(sasl.SafeWithoutTLS); ok {
		safe = s.SafeWithoutTLS()
	}
	if err := c.checkAuthTransport("authenticate "+name, safe); err != nil {
		return err
	}
	if !c.Has(Cap("AUTH=" + name)) {
		return notSupported("authenticate "+name, Cap("AUTH="+name))
	}
	ir, err := mech.Start()
	if err != nil {
		return fmt.Errorf("authenticate %s: %w", name, err)
	}
	gen := c.capsGeneration()
	cmd := &command{name: "AUTHENTICATE"}
	var mechErr error
	pendingIR := ir
	useIR := ir != nil && c.Has(CapSASLIR)
	if useIR {
		pendingIR = nil
	}
	cmd.onCont = func(challenge []byte) error {
		var resp []byte
		if pendingIR != nil {
			// RFC 4959 section 3: without SASL-IR the initial response
			// answers the server's first, empty challenge.
			resp, pendingIR = pendingIR, nil
		} else {
			raw, err := base64.StdEncoding.DecodeString(string(challenge))
			if err != nil {
				mechErr = fmt.Errorf("bad challenge: %w", err)
			} else {
				resp, mechErr = mech.Next(raw)
			}
		}
		line := []byte("*") // cancel the exchange (RFC 3501 section 6.2.2)
		if mechErr == nil {
			line = base64.StdEncoding.AppendEncode(nil, resp)
		}
		if c.trace != nil {
			c.trace.line("C: ", []byte("<redacted>"))
		}
		line = append(line, '\r', '\n')
		if err := c.write(line); err != nil {
			return c.fail("AUTHENTICATE", err)
		}
		if err := c.flush(); err != nil {
			return c.fail("AUTHENTICATE", err)
		}
		return nil
	}
	_, err = c.run(ctx, cmd, func(b *builder) error {
		b.atom("AUTHENTICATE ")
		b.atom(name)
		if useIR {
			b.sp()
			b.redact = true
			if len(ir) == 0 {
				b.raw("=")
			} else {
				b.raw(base64.StdEncoding.EncodeToString(ir))
			}
		}
		return nil
	})
	if mechErr != nil && !errors.Is(err, ErrAbort) {
		// The exchange was cancelled with "*"; the server's answer to
		// that says nothing new.
		return fmt.Errorf("imap: AUTHENTICATE %s: %w", name, mechErr)
	}
	if err != nil {
		return err
	}
	return c.afterAuth(ctx, gen)
}
