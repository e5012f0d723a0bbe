package imap

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// idleState coordinates the IDLE command with the goroutines that end it
// (context cancellation, the restart timer).
type idleState struct {
	handler  func(Update)
	mu       sync.Mutex
	idling   bool // the server's continuation request arrived
	wantDone bool // DONE requested before the continuation arrived
	doneSent bool
}

const (
	defaultIdleRestart = 25 * time.Minute
	maxIdleRestart     = 29 * time.Minute // RFC 2177 section 3
)

// Idle sends IDLE (RFC 2177) and delivers every update the server sends
// (new messages as UpdateExists, expunges, flag changes) to handler, or to
// Options.UpdateHandler if handler is nil. It ends IDLE with DONE and
// returns nil when ctx is cancelled. IDLE is re-issued every
// Options.IdleRestart (default 25 minutes, at most 29) so the server's
// inactivity timer never fires. handler runs on the calling goroutine and
// must not call the Client. Idle fails with ErrNotSupported when the server
// lacks IDLE.
func (c *Client) Idle(ctx context.Context, handler func(Update)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapIdle) {
		return notSupported("idle", CapIdle)
	}
	restart := c.opts.IdleRestart
	if restart <= 0 {
		restart = defaultIdleRestart
	}
	restart = min(restart, maxIdleRestart)
	for ctx.Err() == nil {
		if err := c.idleOnce(ctx, handler, restart); err != nil {
			return fmt.Errorf("idle: %w", err)
		}
	}
	return nil
}

func (c *Client) idleOnce(ctx context.Context, handler func(Update), restart time.Duration) error {
	if err := c.checkBroken(); err != nil {
		return err
	}
	st := &idleState{handler: handler}
	c.idle = st
	defer func() { c.idle = nil }()
	cmd := &command{name: "IDLE", tag: c.nextTag()}
	c.cur = cmd
	defer func() { c.cur = nil }()

	line := cmd.tag + " IDLE"
	if c.trace != nil {
		c.trace.line("C: ", []byte(line))
	}
	if err := c.write([]byte(line + "\r\n")); err != nil {
		return c.fail("idle", err)
	}
	if err := c.flush(); err != nil {
		return c.fail("idle", err)
	}
	// sendDone runs under st.mu.
	sendDone := func() {
		st.doneSent = true
		if c.trace != nil {
			c.trace.line("C: ", []byte("DONE"))
		}
		if err := c.write([]byte("DONE\r\n")); err == nil {
			c.flush()
		}
		// The server must answer promptly now; don't wait forever on a
		// dead connection.
		if c.dl != nil {
			c.dl.SetDeadline(time.Now().Add(c.opts.dialTimeout()))
		}
	}
	end := func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.doneSent {
			return
		}
		if !st.idling {
			st.wantDone = true
			return
		}
		sendDone()
	}
	stopCtx := context.AfterFunc(ctx, end)
	timer := time.AfterFunc(restart, end)
	defer func() {
		stopCtx()
		timer.Stop()
		st.mu.Lock()
		if c.dl != nil {
			c.dl.SetDeadline(time.Time{})
		}
		st.mu.Unlock()
	}()

	for {
		kind, err := c.readResponse()
		if err != nil {
			return c.fail("idle", err)
		}
		switch kind {
		case respCont:
			st.mu.Lock()
			st.idling = true
			if st.wantDone && !st.doneSent {
				sendDone()
			}
			st.mu.Unlock()
		case respTagged:
			if c.tagged.tag != cmd.tag {
				return c.fail("idle", fmt.Errorf("protocol error: tagged response for unknown tag %q", c.tagged.tag))
			}
			if err := c.tagged.err("IDLE"); err != nil {
				return err
			}
			st.mu.Lock()
			done := st.doneSent
			st.mu.Unlock()
			if !done {
				return c.fail("idle", errors.New("protocol error: IDLE ended before DONE"))
			}
			return nil
		}
	}
}
