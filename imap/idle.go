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
// lacks IDLE. Options.ReadTimeout does not apply while idling, when the
// server is silent by design, but it does from sending IDLE to the
// server's continuation request and from sending DONE to the tagged
// response.
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
			return err
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

	// sendDone runs under st.mu.
	sendDone := func() {
		st.doneSent = true
		c.armWatchdog() // the DONE exchange is bounded by ReadTimeout
		if c.trace != nil {
			c.trace.line("C: ", []byte("DONE"))
		}
		if err := c.write([]byte("DONE\r\n")); err == nil {
			c.flush()
		}
		// The server must answer promptly now; don't wait forever on a
		// dead connection.
		c.setDeadlineUnlessInterrupted(time.Now().Add(c.opts.dialTimeout()))
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
	// Only the ReadTimeout watchdog interrupts IDLE (a cancelled ctx sends
	// DONE instead), and only until the server's continuation request and
	// after DONE.
	c.startInterruptible()
	c.armWatchdog()
	stopCtx := context.AfterFunc(ctx, end)
	timer := time.AfterFunc(restart, end)
	defer func() {
		stopCtx()
		timer.Stop()
		// Wait for an end already running, and keep a late one from
		// sending DONE after the command.
		st.mu.Lock()
		st.doneSent = true
		st.mu.Unlock()
		c.endInterruptible(true) // DONE may have set a deadline
	}()

	line := cmd.tag + " IDLE"
	if c.trace != nil {
		c.trace.line("C: ", []byte(line))
	}
	if err := c.write([]byte(line + "\r\n")); err != nil {
		return c.fail("IDLE", err)
	}
	if err := c.flush(); err != nil {
		return c.fail("IDLE", err)
	}

	for {
		kind, err := c.readResponse()
		if err != nil {
			return c.fail("IDLE", err)
		}
		switch kind {
		case respCont:
			st.mu.Lock()
			st.idling = true
			c.disarmWatchdog()
			if st.wantDone && !st.doneSent {
				sendDone()
			}
			st.mu.Unlock()
		case respTagged:
			if c.tagged.tag != cmd.tag {
				return c.fail("IDLE", fmt.Errorf("protocol error: tagged response for unknown tag %q", c.tagged.tag))
			}
			if err := c.tagged.err("IDLE"); err != nil {
				return err
			}
			st.mu.Lock()
			done := st.doneSent
			st.mu.Unlock()
			if !done {
				return c.fail("IDLE", errors.New("protocol error: IDLE ended before DONE"))
			}
			return nil
		}
	}
}
