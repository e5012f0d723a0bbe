package imap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// Client is a connection to an IMAP server.
type Client struct {
	mu sync.Mutex // serializes commands; held for the whole of each command

	opts  Options
	conn  io.ReadWriteCloser
	dl    deadliner // nil if the transport has no deadlines
	meter *ioMeter  // conn as the decoder and writer use it, with Options.ReadTimeout; else nil
	dec   *imapwire.Decoder
	bw    *bufio.Writer
	trace *tracer

	secure   bool // TLS, a child process, or not a network connection at all
	loopback bool
	tlsDone  bool

	tagNum uint64
	broken error // set once the connection is unusable

	// state guarded by smu so that Caps, State and Mailbox may be read at any time.
	smu      sync.Mutex
	caps     CapSet
	capsGen  int
	state    ConnState
	mailbox  *MailboxStatus
	utf8     bool // UTF8=ACCEPT enabled (RFC 6855)
	enabled  map[Cap]bool
	byeText  string
	greeting string

	// per-command state, only touched by the goroutine holding mu
	cur     *command
	idle    *idleState
	tagged  status
	cont    []byte
	wbuf    []byte
	tbuf    []byte
	rawBuf  []byte
	atoms   map[string]string
	zones   map[int]*time.Location
	quiet   bool     // applying data Execute captured raw: deliver nothing
	on      handlers // untagged responses the connection claims whatever the command (route.go)
	intMu   sync.Mutex
	intr    bool  // a context or the ReadTimeout watchdog interrupted the command in flight
	intrErr error // why: the context's error or an *inactivityError
	running bool
	wdGen   uint64      // the ReadTimeout watch's generation; a timer of an older one does nothing
	wdTimer *time.Timer // the ReadTimeout watch's timer, nil when disarmed
}

// Buffer sizes. A watching connection spends its life waiting for a line
// or two, so it keeps small buffers (a thousand of them cost about 6 MB,
// not 80); a FETCH takes streamBuffer for as long as it streams
// (fetch.go). Literals and long command lines go past the buffers.
const (
	idleReadBuffer = 4 << 10
	streamBuffer   = 64 << 10
	writeBuffer    = 2 << 10
)

type deadliner interface {
	SetDeadline(t time.Time) error
}

// status is a parsed tagged or untagged status response.
type status struct {
	tag      string
	status   string // OK NO BAD PREAUTH BYE
	code     string
	codeArgs string
	text     string
}

func (s *status) err(cmd string) error {
	if s.status == "OK" {
		return nil
	}
	return &Error{Status: s.status, Code: s.code, CodeArgs: s.codeArgs, Text: s.text, Command: cmd}
}

// command is the state of the command in flight. The untagged responses
// it collects are registered in on, by name (see route.go); fetch, list,
// status, search and sel are shorthands that route turns into handlers.
type command struct {
	tag  string
	name string

	on     handlers // untagged responses this command collects, by name
	routed bool     // the shorthands below were added to on
	all    handler  // on[anyResponse], looked up once

	fetch    func(*FetchMessage) error // FETCH responses go here
	fetchErr error
	fetchMsg FetchMessage

	search *[]uint32    // SEARCH and ESEARCH numbers
	list   *[]*ListData // LIST and LSUB
	status *StatusData  // STATUS
	// statusOf is the mailbox STATUS asks about (decoded); other
	// mailboxes' STATUS responses are not its answer (NOTIFY).
	statusOf string
	sel      *MailboxStatus // SELECT/EXAMINE in progress: EXISTS, RECENT, FLAGS, and response codes
	onCont   func([]byte) error
	codes    []respCode // response codes from untagged OK/NO during the command
}

type respCode struct{ code, args string }

func newClient(ctx context.Context, conn io.ReadWriteCloser, opts *Options, secure bool) (*Client, error) {
	c := &Client{conn: conn, secure: secure, state: NotAuthenticated, caps: CapSet{}}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Trace != nil {
		c.trace = &tracer{w: c.opts.Trace}
	}
	if _, ok := conn.(net.Conn); !ok {
		// A pipe or a child process: nothing crosses a network.
		if _, ok := conn.(*cmdConn); ok {
			c.secure = true
		}
	}
	c.loopback = isLoopback(conn)
	c.setTransport(conn)
	if err := c.readGreeting(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	// Capabilities decide how commands are sent (literals, SASL-IR, MOVE...):
	// ask for them if the greeting did not carry them (RFC 3501 section 7.1).
	if c.capsGeneration() == 0 {
		c.mu.Lock()
		err := c.capability(ctx)
		c.mu.Unlock()
		if err != nil {
			conn.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Client) setTransport(conn io.ReadWriteCloser) {
	c.conn = conn
	c.dl, _ = conn.(deadliner)
	var rw io.ReadWriter = conn
	if c.opts.ReadTimeout > 0 {
		c.meter = newIOMeter(conn)
		rw = c.meter
	}
	var r io.Reader = rw
	if c.trace != nil {
		r = &serverTrace{r: rw, t: c.trace}
	}
	if c.dec == nil {
		c.dec = imapwire.NewDecoder(r, idleReadBuffer)
		c.dec.MaxLiteral = c.opts.maxLiteralSize()
		c.dec.MaxResponse = c.opts.maxResponseSize()
		c.bw = bufio.NewWriterSize(rw, writeBuffer)
	} else {
		c.dec.Reset(r)
		c.bw.Reset(rw)
	}
}

func (c *Client) readGreeting(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	stop := c.watch(ctx)
	defer stop()
	d := c.dec
	d.StartResponse()
	err := func() error {
		if err := d.Expect('*'); err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		kw, err := d.Atom()
		if err != nil {
			return err
		}
		st := strings.ToUpper(string(kw))
		s, err := c.respText(d, st)
		if err != nil {
			return err
		}
		c.greeting = s.text
		switch st {
		case "OK":
		case "PREAUTH":
			c.setState(Authenticated)
		case "BYE":
			return fmt.Errorf("server refused connection: %s", s.text)
		default:
			return fmt.Errorf("unexpected greeting %q", st)
		}
		return nil
	}()
	if err != nil {
		return c.fail("greeting", err)
	}
	return nil
}

// Close closes the connection without LOGOUT (and, for DialCommand, waits
// for the child process to exit).
func (c *Client) Close() error {
	c.smu.Lock()
	c.state = Logout
	c.smu.Unlock()
	c.intMu.Lock()
	if c.broken == nil {
		c.broken = &abortError{err: errors.New("client closed")}
	}
	c.intMu.Unlock()
	return c.conn.Close()
}

// Caps returns the server's capabilities as last seen. They are refreshed
// after login, STARTTLS and ENABLE, and whenever the server sends them.
func (c *Client) Caps() CapSet {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.caps.clone()
}

// Has reports whether the server advertises cap.
func (c *Client) Has(cap Cap) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.caps.Has(cap)
}

// State returns the connection state.
func (c *Client) State() ConnState {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.state
}

func (c *Client) setState(s ConnState) {
	c.smu.Lock()
	c.state = s
	if s != Selected {
		c.mailbox = nil
	}
	c.smu.Unlock()
}

// Mailbox returns a copy of the selected mailbox's status, kept current by
// the server's EXISTS, EXPUNGE, RECENT and FLAGS responses; nil when no
// mailbox is selected.
func (c *Client) Mailbox() *MailboxStatus {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.mailbox == nil {
		return nil
	}
	m := *c.mailbox
	m.Flags = append([]string(nil), m.Flags...)
	m.PermanentFlags = append([]string(nil), m.PermanentFlags...)
	return &m
}

// Greeting returns the text of the server's greeting.
func (c *Client) Greeting() string { return c.greeting }

// watch applies ctx to the command about to run: its deadline becomes the
// connection deadline, and cancellation interrupts blocked I/O. It also
// arms the Options.ReadTimeout watchdog. The returned func ends the watch.
func (c *Client) watch(ctx context.Context) func() {
	c.startInterruptible()
	hasDeadline := false
	if dl, ok := ctx.Deadline(); ok && c.dl != nil {
		c.dl.SetDeadline(dl)
		hasDeadline = true
	}
	stop := context.AfterFunc(ctx, func() {
		c.intMu.Lock()
		defer c.intMu.Unlock()
		c.interruptLocked(ctx.Err())
	})
	c.armWatchdog()
	return func() {
		stop()
		c.endInterruptible(hasDeadline)
	}
}

// startInterruptible marks the start of a command that a context or the
// ReadTimeout watchdog may interrupt.
func (c *Client) startInterruptible() {
	c.intMu.Lock()
	c.intr = false
	c.intrErr = nil
	c.running = true
	c.intMu.Unlock()
}

// endInterruptible ends what startInterruptible started: no interrupt can
// happen any more, the connection deadline is cleared if hasDeadline or an
// interrupt moved it, and a transport closed by an interrupt is marked
// broken even if the command got its answer in time.
func (c *Client) endInterruptible(hasDeadline bool) {
	c.intMu.Lock()
	defer c.intMu.Unlock()
	c.disarmWatchdogLocked()
	c.running = false
	if c.dl != nil && (hasDeadline || c.intr) {
		c.dl.SetDeadline(time.Time{})
	}
	if c.intr && c.dl == nil && c.broken == nil {
		c.broken = &abortError{err: c.intrErr}
	}
}

// fail records a connection-level failure: the connection is closed and
// every later command returns the error.
func (c *Client) fail(op string, err error) error {
	var ae *abortError
	if errors.As(err, &ae) {
		return err
	}
	c.intMu.Lock()
	intr, intrErr := c.intr, c.intrErr
	c.intMu.Unlock()
	switch {
	case intr && intrErr != nil:
		err = fmt.Errorf("%w (%v)", intrErr, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	if c.byeText != "" && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		err = fmt.Errorf("server said BYE: %s: %w", c.byeText, err)
	}
	e := &abortError{op: op, err: err}
	c.intMu.Lock()
	if c.broken == nil {
		c.broken = e
	}
	c.intMu.Unlock()
	c.conn.Close()
	c.smu.Lock()
	c.state = Logout
	c.mailbox = nil
	c.smu.Unlock()
	return e
}

func (c *Client) checkBroken() error {
	c.intMu.Lock()
	defer c.intMu.Unlock()
	return c.broken
}

func (c *Client) nextTag() string {
	c.tagNum++
	return "A" + strconv.FormatUint(c.tagNum, 10)
}

// run sends a command built by build and reads responses up to its tagged
// completion. It returns the tagged status; a NO or BAD is returned as an
// *Error, a connection failure as an ErrAbort error. Every error names the
// command once ("imap: CREATE: NO ..."; on a connection already broken,
// the command that broke it), so the command methods return them as they
// are: callers add what they were doing, and the text does not repeat
// itself.
func (c *Client) run(ctx context.Context, cmd *command, build func(b *builder) error) (*status, error) {
	if err := c.checkBroken(); err != nil {
		return nil, err
	}
	stop := c.watch(ctx)
	defer stop()
	cmd.tag = c.nextTag()
	c.cur = cmd
	defer func() { c.cur = nil }()
	b := c.newBuilder(cmd)
	b.atom(cmd.tag)
	b.sp()
	done, err := c.sendCommand(b, build)
	if err != nil {
		return nil, err
	}
	if !done {
		if err := c.waitTagged(cmd); err != nil {
			return nil, err
		}
	}
	st := c.tagged
	if err := st.err(cmd.name); err != nil {
		return &st, err
	}
	return &st, nil
}

func (c *Client) sendCommand(b *builder, build func(b *builder) error) (done bool, err error) {
	if err := build(b); err != nil {
		if b.done {
			// a synchronizing literal was refused by a tagged response
			return true, nil
		}
		if errors.Is(err, ErrAbort) {
			return false, err
		}
		// The command line was not complete: nothing usable was sent
		// unless a literal was already written, in which case the
		// connection is out of step.
		if b.sent {
			return false, c.fail(b.cmd.name, err)
		}
		return false, fmt.Errorf("imap: %s: %w", b.cmd.name, err)
	}
	if err := b.finish(); err != nil {
		return false, err
	}
	return false, nil
}

// waitTagged reads responses until cmd's tagged response.
func (c *Client) waitTagged(cmd *command) error {
	for {
		kind, err := c.readResponse()
		if err != nil {
			return c.fail(cmd.name, err)
		}
		switch kind {
		case respTagged:
			if c.tagged.tag != cmd.tag {
				return c.fail(cmd.name, fmt.Errorf("protocol error: tagged response %q for unknown tag %q", c.tagged.status, c.tagged.tag))
			}
			return nil
		case respCont:
			if cmd.onCont == nil {
				return c.fail(cmd.name, errors.New("protocol error: unexpected continuation request"))
			}
			if err := cmd.onCont(c.cont); err != nil {
				return err
			}
		}
	}
}

// write sends bytes to the server (buffered; see flush).
func (c *Client) write(p []byte) error {
	_, err := c.bw.Write(p)
	return err
}

func (c *Client) flush() error { return c.bw.Flush() }

// deliver hands an unsolicited update to the IDLE handler or the
// UpdateHandler.
func (c *Client) deliver(u Update) {
	if c.quiet {
		return
	}
	if c.idle != nil && c.idle.handler != nil {
		c.idle.handler(u)
		return
	}
	if c.opts.UpdateHandler != nil {
		c.opts.UpdateHandler(u)
	}
}

// simple runs a command whose only result is its status.
func (c *Client) simple(ctx context.Context, name string, build func(b *builder) error) error {
	_, err := c.run(ctx, &command{name: name}, build)
	return err
}

// Capability sends CAPABILITY (RFC 3501 section 6.1.1) and returns the
// refreshed capability set.
func (c *Client) Capability(ctx context.Context) (CapSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.capability(ctx); err != nil {
		return nil, err
	}
	return c.Caps(), nil
}

func (c *Client) capability(ctx context.Context) error {
	err := c.simple(ctx, "CAPABILITY", func(b *builder) error { b.atom("CAPABILITY"); return nil })
	if err != nil {
		return err
	}
	return nil
}

// Noop sends NOOP (RFC 3501 section 6.1.2); pending updates are delivered.
func (c *Client) Noop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.simple(ctx, "NOOP", func(b *builder) error { b.atom("NOOP"); return nil }); err != nil {
		return err
	}
	return nil
}

// Check sends CHECK (RFC 3501 section 6.4.1).
func (c *Client) Check(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.simple(ctx, "CHECK", func(b *builder) error { b.atom("CHECK"); return nil }); err != nil {
		return err
	}
	return nil
}

// Logout sends LOGOUT (RFC 3501 section 6.1.3), waits for the server's
// answer and closes the connection.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.simple(ctx, "LOGOUT", func(b *builder) error { b.atom("LOGOUT"); return nil })
	cerr := c.Close()
	if err != nil {
		return err
	}
	if cerr != nil && !errors.Is(cerr, net.ErrClosed) && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("logout: %w", cerr)
	}
	return nil
}

// StartTLS upgrades the connection with STARTTLS (RFC 3501 section 6.2.1).
// It fails with ErrNotSupported, sending nothing, if the server does not
// advertise STARTTLS; it never continues in plaintext after a failure.
// Capabilities are discarded and asked for again over TLS.
func (c *Client) StartTLS(ctx context.Context, cfg *tls.Config) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tlsDone {
		return errors.New("starttls: connection already uses TLS")
	}
	if !c.Has(CapStartTLS) {
		return notSupported("starttls", CapStartTLS)
	}
	nc, ok := c.conn.(net.Conn)
	if !ok {
		return errors.New("starttls: transport is not a network connection")
	}
	if err := c.simple(ctx, "STARTTLS", func(b *builder) error { b.atom("STARTTLS"); return nil }); err != nil {
		return err
	}
	if c.dec.Buffered() > 0 {
		// RFC 3501 section 6.2.1: nothing may follow the OK in plaintext;
		// data here was injected by someone on the path.
		return c.fail("STARTTLS", errors.New("plaintext data after STARTTLS response"))
	}
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		cfg = tlsConfig(cfg, nc.RemoteAddr().String())
	}
	tconn := tls.Client(nc, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.opts.dialTimeout())
	defer cancel()
	if err := tconn.HandshakeContext(hctx); err != nil {
		return c.fail("STARTTLS", fmt.Errorf("tls handshake: %w", err))
	}
	c.setTransport(tconn)
	c.secure = true
	c.tlsDone = true
	c.smu.Lock()
	c.caps = CapSet{}
	c.smu.Unlock()
	return c.capability(ctx)
}

// IsTLS reports whether the connection is encrypted with TLS.
func (c *Client) IsTLS() bool {
	_, ok := c.conn.(*tls.Conn)
	return ok
}
