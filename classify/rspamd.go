package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Rspamd talks to rspamd over its HTTP protocol: POST /checkv2 on the
// normal worker to classify, POST /learnspam and /learnham on the
// controller to learn, GET /stat on the controller for statistics. See
// https://rspamd.com/doc/developers/protocol.html.
type Rspamd struct {
	limiter
	url        string // normal worker, no trailing slash
	controller string // controller, no trailing slash
	password   Secret
	settingsID string
	client     *http.Client

	mu       sync.Mutex
	resolved string // the password, once resolved
}

// NewRspamd returns an rspamd client for cfg (defaults filled in by
// WithDefaults). Its HTTP connections are kept alive, as many as the
// concurrency limit.
func NewRspamd(cfg Config) *Rspamd {
	cfg = cfg.WithDefaults()
	tr := &http.Transport{
		Proxy:               nil, // a local classifier; HTTP_PROXY would only get in the way
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Rspamd{
		limiter:    newLimiter(cfg),
		url:        strings.TrimRight(cfg.URL, "/"),
		controller: strings.TrimRight(cfg.ControllerURL, "/"),
		password:   cfg.Password,
		settingsID: cfg.SettingsID,
		client:     &http.Client{Transport: tr},
	}
}

// Name returns the configured name.
func (r *Rspamd) Name() string { return r.name }

// MaxSize returns the largest message sent.
func (r *Rspamd) MaxSize() int64 { return r.maxSize }

// rspamdReply is the part of a /checkv2 answer that makes a verdict.
// Pointers tell a missing field from a zero one: an answer without score
// or action is garbage, not a clean message.
//
// is_skipped is left out on purpose: rspamd sets it when a pre-filter
// decided early, as for GTUBE ("action": "reject", "is_skipped": true),
// so it does not mean "not classified".
type rspamdReply struct {
	Score         *float64 `json:"score"`
	RequiredScore *float64 `json:"required_score"`
	Action        *string  `json:"action"`
	Symbols       map[string]struct {
		Score float64 `json:"score"`
	} `json:"symbols"`
}

// rspamdSpamActions are the actions rspamd takes on spam; the others
// ("no action", "greylist", "soft reject") leave it in the inbox.
var rspamdSpamActions = map[string]bool{"reject": true, "add header": true, "rewrite subject": true}

// Classify sends msg to the normal worker's /checkv2 and returns its
// verdict. Spam is true when rspamd's action is "reject", "add header" or
// "rewrite subject".
func (r *Rspamd) Classify(ctx context.Context, msg []byte) (*Verdict, error) {
	if v := r.tooLarge(msg); v != nil {
		return v, nil
	}
	ctx, done, err := r.start(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/checkv2", bytes.NewReader(msg))
	if err != nil {
		return nil, r.unavailable("checkv2: %w", err)
	}
	if r.settingsID != "" {
		req.Header.Set("Settings-Id", r.settingsID)
	}
	body, err := r.do(ctx, req)
	if err != nil {
		return nil, err
	}
	var reply rspamdReply
	if err := json.Unmarshal(body, &reply); err != nil {
		return nil, r.unavailable("checkv2: unreadable answer %s: %w", snippet(body), err)
	}
	if reply.Action == nil || reply.Score == nil {
		return nil, r.unavailable("checkv2: answer without action or score: %s", snippet(body))
	}
	v := &Verdict{
		Classifier: r.name,
		Score:      *reply.Score,
		Action:     *reply.Action,
		Spam:       rspamdSpamActions[*reply.Action],
	}
	if reply.RequiredScore != nil {
		v.Required = *reply.RequiredScore
	}
	for name := range reply.Symbols {
		v.Symbols = append(v.Symbols, name)
	}
	sort.Strings(v.Symbols)
	return v, nil
}

// Learn sends msg to the controller's /learnspam or /learnham with the
// password. When rspamd already learned the message as that class it
// answers with an error ("... has been already learned as spam, ignore
// it"); Learn then returns ErrAlreadyLearned. A message too large is not
// sent, and Learn says so with an error that does not wrap ErrUnavailable.
func (r *Rspamd) Learn(ctx context.Context, msg []byte, c Class) error {
	if r.tooLarge(msg) != nil {
		return fmt.Errorf("classifier %s: learn: message of %d bytes is over max_size %d", r.name, len(msg), r.maxSize)
	}
	var path string
	switch c {
	case Spam:
		path = "/learnspam"
	case Ham:
		path = "/learnham"
	default:
		return fmt.Errorf("classifier %s: learn: unknown class %d", r.name, c)
	}
	ctx, done, err := r.start(ctx)
	if err != nil {
		return err
	}
	defer done()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.controller+path, bytes.NewReader(msg))
	if err != nil {
		return r.unavailable("learn%s: %w", c, err)
	}
	if err := r.authorize(ctx, req); err != nil {
		return err
	}
	_, err = r.do(ctx, req)
	var he *rspamdHTTPError
	if errors.As(err, &he) && strings.Contains(he.text, "already learned") {
		return fmt.Errorf("classifier %s: learn%s: %w", r.name, c, ErrAlreadyLearned)
	}
	return err
}

// RspamdStat is the part of the controller's /stat answer about what
// rspamd scanned and learned. Learned is the controller's own counter and
// moves at once; TotalLearns and the statfiles' Revision come from the
// statistics backend (redis), which rspamd reads every so often, so they
// lag behind a learn.
type RspamdStat struct {
	Scanned     int64 `json:"scanned"`      // messages checked since the statistics were reset
	Learned     int64 `json:"learned"`      // messages learned through the controller
	TotalLearns int64 `json:"total_learns"` // learns the statistics backends hold, every class summed
	SpamCount   int64 `json:"spam_count"`
	HamCount    int64 `json:"ham_count"`
	Statfiles   []struct {
		Symbol   string `json:"symbol"`   // BAYES_SPAM, BAYES_HAM
		Type     string `json:"type"`     // the backend: redis, mmap...
		Revision int64  `json:"revision"` // learns of this class
		Users    int64  `json:"users"`
	} `json:"statfiles"`
}

// Stat returns the controller's /stat statistics. Learned grows by one
// with each message the controller learns (not with one already learned).
func (r *Rspamd) Stat(ctx context.Context) (*RspamdStat, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.controller+"/stat", nil)
	if err != nil {
		return nil, r.unavailable("stat: %w", err)
	}
	if err := r.authorize(ctx, req); err != nil {
		return nil, err
	}
	body, err := r.do(ctx, req)
	if err != nil {
		return nil, err
	}
	var st RspamdStat
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, r.unavailable("stat: unreadable answer %s: %w", snippet(body), err)
	}
	return &st, nil
}

// authorize sets the Password header when a password is configured. The
// secret is resolved once; a failure is tried again next time.
func (r *Rspamd) authorize(ctx context.Context, req *http.Request) error {
	if r.password == nil {
		return nil
	}
	r.mu.Lock()
	pw := r.resolved
	r.mu.Unlock()
	if pw == "" {
		var err error
		if pw, err = r.password.Resolve(ctx); err != nil {
			return r.unavailable("password: %w", err)
		}
		r.mu.Lock()
		r.resolved = pw
		r.mu.Unlock()
	}
	req.Header.Set("Password", pw)
	return nil
}

// rspamdHTTPError is an answer other than 200 OK.
type rspamdHTTPError struct {
	status int
	text   string // the error text of the JSON answer, or the body
}

func (e *rspamdHTTPError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, e.text)
}

// maxReply is the largest answer read from rspamd: a /checkv2 answer with
// every symbol is a few kilobytes.
const maxReply = 4 << 20

// do sends req and returns the body of a 200 answer. Every failure wraps
// ErrUnavailable and names the path, never the password.
func (r *Rspamd) do(ctx context.Context, req *http.Request) ([]byte, error) {
	what := strings.TrimPrefix(req.URL.Path, "/")
	resp, err := r.client.Do(req)
	if err != nil {
		// url.Error names the URL, which holds no password: the password
		// travels in a header.
		return nil, r.unavailable("%s: %w", what, r.timeoutCause(ctx, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, r.unavailable("%s: read answer: %w", what, r.timeoutCause(ctx, err))
	}
	if len(body) > maxReply {
		return nil, r.unavailable("%s: answer larger than %d bytes", what, maxReply)
	}
	if resp.StatusCode != http.StatusOK {
		he := &rspamdHTTPError{status: resp.StatusCode, text: strings.TrimSpace(string(body))}
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			he.text = e.Error
		}
		if len(he.text) > maxErrorText {
			he.text = he.text[:maxErrorText] + "..."
		}
		return nil, r.unavailable("%s: %w", what, he)
	}
	return body, nil
}
