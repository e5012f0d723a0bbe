package classify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
)

// Spamd talks to SpamAssassin's spamd over its own protocol, SPAMC/1.5:
// SYMBOLS to classify, TELL to learn (spamd needs --allow-tell for that).
// The protocol is described in spamd/PROTOCOL of the SpamAssassin
// sources. Each request is one connection, as spamc does it.
type Spamd struct {
	limiter
	network, address string
	user             string
}

// NewSpamd returns a spamd client for cfg. An Address starting with "/"
// is a unix socket (spamd --socketpath), anything else host:port.
func NewSpamd(cfg Config) *Spamd {
	cfg = cfg.WithDefaults()
	s := &Spamd{limiter: newLimiter(cfg), network: "tcp", address: cfg.Address, user: cfg.User}
	if strings.HasPrefix(cfg.Address, "/") {
		s.network = "unix"
	}
	return s
}

// Name returns the configured name.
func (s *Spamd) Name() string { return s.name }

// MaxSize returns the largest message sent.
func (s *Spamd) MaxSize() int64 { return s.maxSize }

// Classify sends msg with SYMBOLS and returns the verdict: score and
// required score from the Spam header ("Spam: True ; 15.0 / 5.0"), the
// names of the tests that hit from the body. Action is "spam" or "ham".
func (s *Spamd) Classify(ctx context.Context, msg []byte) (*Verdict, error) {
	if v := s.tooLarge(msg); v != nil {
		return v, nil
	}
	resp, err := s.request(ctx, "SYMBOLS", nil, msg)
	if err != nil {
		return nil, err
	}
	spam, ok := resp.header("spam")
	if !ok {
		return nil, s.unavailable("SYMBOLS: answer without a Spam header")
	}
	v := &Verdict{Classifier: s.name}
	if v.Spam, v.Score, v.Required, err = parseSpamHeader(spam); err != nil {
		return nil, s.unavailable("SYMBOLS: %w", err)
	}
	v.Action = "ham"
	if v.Spam {
		v.Action = "spam"
	}
	for _, sym := range strings.Split(string(resp.body), ",") {
		if sym = strings.TrimSpace(sym); sym != "" {
			v.Symbols = append(v.Symbols, sym)
		}
	}
	sort.Strings(v.Symbols)
	return v, nil
}

// Learn sends msg with TELL, Message-class spam or ham and Set: local
// (the Bayes database). spamd answers DidSet: local when it learned the
// message and no DidSet when it already knew it as that class, which is
// ErrAlreadyLearned.
func (s *Spamd) Learn(ctx context.Context, msg []byte, c Class) error {
	if s.tooLarge(msg) != nil {
		return fmt.Errorf("classifier %s: learn: message of %d bytes is over max_size %d", s.name, len(msg), s.maxSize)
	}
	if c != Spam && c != Ham {
		return fmt.Errorf("classifier %s: learn: unknown class %d", s.name, c)
	}
	resp, err := s.request(ctx, "TELL", []string{"Message-class: " + c.String(), "Set: local"}, msg)
	if err != nil {
		return err
	}
	if did, _ := resp.header("didset"); !strings.Contains(did, "local") {
		return fmt.Errorf("classifier %s: TELL %s: %w", s.name, c, ErrAlreadyLearned)
	}
	return nil
}

// spamdResponse is one answer of spamd.
type spamdResponse struct {
	headers map[string]string // lower-case names
	body    []byte
}

func (r *spamdResponse) header(name string) (string, bool) {
	v, ok := r.headers[name]
	return v, ok
}

// maxSpamdAnswer bounds what is read of an answer: SYMBOLS and TELL
// answers are a line of test names at most.
const maxSpamdAnswer = 1 << 20

// request sends one command and reads the answer, in a slot and within the
// timeout. Every failure wraps ErrUnavailable.
func (s *Spamd) request(ctx context.Context, command string, headers []string, msg []byte) (*spamdResponse, error) {
	ctx, done, err := s.start(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var d net.Dialer
	conn, err := d.DialContext(ctx, s.network, s.address)
	if err != nil {
		return nil, s.unavailable("%s: %w", command, s.timeoutCause(ctx, err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled ctx interrupts the reads and writes below.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	resp, err := s.exchange(conn, command, headers, msg)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, s.unavailable("%s: %w", command, s.timeoutCause(ctx, err))
	}
	return resp, nil
}

func (s *Spamd) exchange(conn net.Conn, command string, headers []string, msg []byte) (*spamdResponse, error) {
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "%s SPAMC/1.5\r\n", command)
	fmt.Fprintf(w, "Content-length: %d\r\n", len(msg))
	if s.user != "" {
		fmt.Fprintf(w, "User: %s\r\n", s.user)
	}
	for _, h := range headers {
		fmt.Fprintf(w, "%s\r\n", h)
	}
	w.WriteString("\r\n")
	w.Write(msg)
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	// Like spamc: shut down our side, so spamd sees the end of the message.
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	return readSpamdResponse(bufio.NewReader(io.LimitReader(conn, maxSpamdAnswer)))
}

// readSpamdResponse reads "SPAMD/1.1 0 EX_OK", headers, a blank line and
// the body (Content-length bytes, or up to the end).
func readSpamdResponse(r *bufio.Reader) (*spamdResponse, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		if line == "" && errors.Is(err, io.EOF) {
			return nil, errors.New("connection closed without an answer")
		}
		return nil, fmt.Errorf("read answer: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	proto, rest, _ := strings.Cut(line, " ")
	codeText, msg, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeText)
	if !strings.HasPrefix(proto, "SPAMD/") || err != nil {
		return nil, fmt.Errorf("not a spamd answer: %s", snippet([]byte(line)))
	}
	if code != 0 {
		return nil, fmt.Errorf("spamd error %d %s", code, msg)
	}
	resp := &spamdResponse{headers: map[string]string{}}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("read answer headers: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("bad answer header %s", snippet([]byte(line)))
		}
		resp.headers[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	if cl, ok := resp.headers["content-length"]; ok {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 || n > maxSpamdAnswer {
			return nil, fmt.Errorf("bad Content-length %q", cl)
		}
		resp.body = make([]byte, n)
		if _, err := io.ReadFull(r, resp.body); err != nil {
			return nil, fmt.Errorf("read answer body: %w", err)
		}
	} else if resp.body, err = io.ReadAll(r); err != nil {
		return nil, fmt.Errorf("read answer body: %w", err)
	}
	return resp, nil
}

// parseSpamHeader parses "True ; 15.0 / 5.0" (True, False, Yes or No).
func parseSpamHeader(v string) (spam bool, score, required float64, err error) {
	flag, scores, ok := strings.Cut(v, ";")
	scoreText, requiredText, ok2 := strings.Cut(scores, "/")
	if !ok || !ok2 {
		return false, 0, 0, fmt.Errorf("bad Spam header %s", snippet([]byte(v)))
	}
	switch strings.ToLower(strings.TrimSpace(flag)) {
	case "true", "yes":
		spam = true
	case "false", "no":
	default:
		return false, 0, 0, fmt.Errorf("bad Spam header %s", snippet([]byte(v)))
	}
	if score, err = strconv.ParseFloat(strings.TrimSpace(scoreText), 64); err != nil {
		return false, 0, 0, fmt.Errorf("bad score in Spam header %s", snippet([]byte(v)))
	}
	if required, err = strconv.ParseFloat(strings.TrimSpace(requiredText), 64); err != nil {
		return false, 0, 0, fmt.Errorf("bad required score in Spam header %s", snippet([]byte(v)))
	}
	return spam, score, required, nil
}
