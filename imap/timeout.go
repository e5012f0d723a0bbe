package imap

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// This file implements Options.ReadTimeout: an inactivity timeout on the
// transport while a command waits for the server. The transport is wrapped
// in an ioMeter, which notes when each Read or Write call began (a clock
// read and an atomic store per call, i.e. per buffer fill, not per byte);
// a timer, armed for each command, wakes up every ReadTimeout or so and
// interrupts the command, as a cancelled context does, once a call has
// been blocked for ReadTimeout. Time spent outside I/O (in a Fetch
// callback, say) does not count, and nothing touches the connection's
// deadlines unless the timeout fires.

// ioMeter passes reads and writes through to the transport and records when
// the call in progress on each side began.
type ioMeter struct {
	rw    io.ReadWriter
	start time.Time // the origin of the times below, for a monotonic clock
	// Nanoseconds after start (plus one, so that zero means none) at which
	// the Read or Write in progress began; zero while none is.
	readSince, writeSince atomic.Int64
}

func newIOMeter(rw io.ReadWriter) *ioMeter {
	return &ioMeter{rw: rw, start: time.Now()}
}

func (m *ioMeter) now() int64 { return int64(time.Since(m.start)) + 1 }

// Read reads from the transport.
func (m *ioMeter) Read(p []byte) (int, error) {
	m.readSince.Store(m.now())
	n, err := m.rw.Read(p)
	m.readSince.Store(0)
	return n, err
}

// Write writes to the transport.
func (m *ioMeter) Write(p []byte) (int, error) {
	m.writeSince.Store(m.now())
	n, err := m.rw.Write(p)
	m.writeSince.Store(0)
	return n, err
}

// blocked reports how long the longest-waiting call in progress has been
// waiting, counting from no earlier than floor, and whether it is a
// write. It returns 0 when no call is in progress.
func (m *ioMeter) blocked(floor int64) (wait time.Duration, write bool) {
	now := m.now()
	for i, since := range [2]int64{m.readSince.Load(), m.writeSince.Load()} {
		if since == 0 {
			continue
		}
		if d := time.Duration(now - max(since, floor)); d > wait {
			wait, write = d, i == 1
		}
	}
	return wait, write
}

// inactivityError is why Options.ReadTimeout ended a command. It wraps
// context.DeadlineExceeded.
type inactivityError struct {
	timeout time.Duration
	write   bool // the server stopped accepting data rather than sending it
}

func (e *inactivityError) Error() string {
	if e.write {
		return fmt.Sprintf("server accepted no data for %v (read timeout)", e.timeout)
	}
	return fmt.Sprintf("no data from server for %v (read timeout)", e.timeout)
}

func (e *inactivityError) Unwrap() error { return context.DeadlineExceeded }

// Timeout reports true, as net.Error timeouts do.
func (e *inactivityError) Timeout() bool { return true }

// armWatchdog starts watching the transport for Options.ReadTimeout, for an
// exchange that begins now: I/O calls that began earlier count from now. It
// replaces any watch already armed. It does nothing without a ReadTimeout.
func (c *Client) armWatchdog() {
	timeout := c.opts.ReadTimeout
	meter := c.meter
	if timeout <= 0 || meter == nil {
		return
	}
	c.intMu.Lock()
	defer c.intMu.Unlock()
	c.disarmWatchdogLocked()
	if !c.running {
		return
	}
	gen, armed := c.wdGen, meter.now()
	var timer *time.Timer
	timer = time.AfterFunc(timeout, func() {
		c.intMu.Lock()
		defer c.intMu.Unlock()
		if gen != c.wdGen || !c.running {
			return // disarmed or re-armed meanwhile, or the command is over
		}
		wait, write := meter.blocked(armed)
		if wait < timeout {
			timer.Reset(timeout - wait)
			return
		}
		c.interruptLocked(&inactivityError{timeout: timeout, write: write})
	})
	c.wdTimer = timer
}

// disarmWatchdog stops the watch started by armWatchdog.
func (c *Client) disarmWatchdog() {
	c.intMu.Lock()
	defer c.intMu.Unlock()
	c.disarmWatchdogLocked()
}

// disarmWatchdogLocked stops the watch; intMu is held. A timer callback
// already running sees the new generation and does nothing.
func (c *Client) disarmWatchdogLocked() {
	c.wdGen++
	if c.wdTimer != nil {
		c.wdTimer.Stop()
		c.wdTimer = nil
	}
}

// interruptLocked interrupts the I/O of the command in flight because of
// cause (a context's error, or an inactivityError): the connection's
// deadline is moved to the past, or, for a transport without deadlines,
// the connection is closed. intMu is held.
func (c *Client) interruptLocked(cause error) {
	if !c.running || c.intr {
		return
	}
	c.intr = true
	c.intrErr = cause
	if c.dl != nil {
		c.dl.SetDeadline(time.Unix(1, 0))
	} else {
		c.conn.Close()
	}
}

// setDeadlineUnlessInterrupted sets the connection deadline to t, unless
// an interrupt has already moved it to the past.
func (c *Client) setDeadlineUnlessInterrupted(t time.Time) {
	if c.dl == nil {
		return
	}
	c.intMu.Lock()
	defer c.intMu.Unlock()
	if !c.intr {
		c.dl.SetDeadline(t)
	}
}
