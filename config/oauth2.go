package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// OAuth2 says how to get an OAuth 2.0 access token for XOAUTH2 or
// OAUTHBEARER (RFC 7628): from a command (e.g. a helper that keeps tokens
// fresh), or by the refresh-token grant (RFC 6749 section 6) at TokenURL.
// AuthURL and DeviceAuthURL are only for `mailrules auth`, which obtains
// the refresh token and stores it in RefreshToken's file or through
// StoreCommand.
type OAuth2 struct {
	TokenCommand []string
	ClientID     string
	ClientSecret *Secret // optional for public clients
	RefreshToken *Secret
	TokenURL     string
	Scopes       []string

	// AuthURL is the authorization endpoint for the authorization code
	// grant with PKCE (RFC 6749 section 4.1, RFC 7636).
	AuthURL string
	// DeviceAuthURL is the device authorization endpoint (RFC 8628
	// section 3.1); when set, `mailrules auth` uses the device grant.
	DeviceAuthURL string
	// StoreCommand receives a new refresh token on its standard input,
	// e.g. ["pass", "insert", "-m", "mail/token"].
	StoreCommand []string

	mu sync.Mutex
	// cached is the last access token from the refresh-token grant, reused
	// until shortly before it expires, and cacheKey the settings it was
	// obtained with.
	cached *oauth2.Token
	// rotated is a refresh token the provider issued in place of the
	// configured one (RFC 6749 section 6), used from then on by this
	// process; it is also stored where the account keeps its token.
	rotated  string
	cacheKey string
}

// earlyExpiry is how long before its expiry a cached access token is
// replaced, so that it does not expire between here and the server.
const earlyExpiry = time.Minute

// NewHTTPClient returns the HTTP client used for the token endpoint when
// none is given: timeouts on every step, so that a stuck provider cannot
// hang a login.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 20 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
	}
}

// WithHTTPClient returns ctx carrying client (nil: NewHTTPClient) for
// golang.org/x/oauth2, its transport wrapped so that a JSON token response
// labelled text/plain, which x/oauth2 would read as a form, reads as JSON.
func WithHTTPClient(ctx context.Context, client *http.Client) context.Context {
	if client == nil {
		client = NewHTTPClient()
	}
	c := *client
	c.Transport = jsonSniffer{c.Transport}
	return context.WithValue(ctx, oauth2.HTTPClient, &c)
}

// jsonSniffer fixes the Content-Type of JSON bodies sent as text/plain.
type jsonSniffer struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (j jsonSniffer) RoundTrip(req *http.Request) (*http.Response, error) {
	next := j.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read token response: %w", err)
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		resp.Header.Set("Content-Type", "application/json")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// Config returns the golang.org/x/oauth2 configuration of o with the client
// secret resolved; the client credentials go in the request body (RFC 6749
// section 2.3.1), as providers of mail accounts expect.
func (o *OAuth2) Config(ctx context.Context) (*oauth2.Config, error) {
	cfg := &oauth2.Config{
		ClientID: o.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:       o.AuthURL,
			DeviceAuthURL: o.DeviceAuthURL,
			TokenURL:      o.TokenURL,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		Scopes: o.Scopes,
	}
	if o.ClientSecret != nil {
		secret, err := o.ClientSecret.Resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("oauth2 client_secret: %w", err)
		}
		cfg.ClientSecret = secret
	}
	return cfg, nil
}

// Token returns a fresh access token. With the refresh-token grant it posts
// to TokenURL with client, a nil client meaning NewHTTPClient, and reuses
// the access token until a minute before it expires. The token endpoint's
// errors (RFC 6749 section 5.2) come back as a *oauth2.RetrieveError in
// the chain, with the error code and description in the message.
func (o *OAuth2) Token(ctx context.Context, client *http.Client) (string, error) {
	if o == nil {
		return "", errors.New("no oauth2 configured")
	}
	if len(o.TokenCommand) > 0 {
		tok, err := runSecretCommand(ctx, o.TokenCommand)
		if err != nil {
			return "", fmt.Errorf("oauth2 token_command: %w", err)
		}
		return tok, nil
	}
	ctx = WithHTTPClient(ctx, client)

	o.mu.Lock()
	defer o.mu.Unlock()
	// The key holds where the secrets come from, not their values, so a
	// cached token is used without running a secret command.
	key := strings.Join([]string{o.ClientID, o.TokenURL, strings.Join(o.Scopes, " "),
		o.ClientSecret.describe(), o.RefreshToken.describe()}, "\x00")
	if o.cacheKey != key {
		o.cached, o.cacheKey = nil, key
	}
	src := oauth2.ReuseTokenSourceWithExpiry(o.cached, refreshSource{ctx, o}, earlyExpiry)
	tok, err := src.Token()
	if err != nil {
		return "", err
	}
	o.cached = tok
	return tok.AccessToken, nil
}

// refreshSource runs the refresh-token grant each time it is asked.
type refreshSource struct {
	ctx context.Context
	o   *OAuth2
}

// Token implements oauth2.TokenSource.
func (s refreshSource) Token() (*oauth2.Token, error) {
	refresh := s.o.rotated
	if refresh == "" {
		var err error
		if refresh, err = s.o.RefreshToken.Resolve(s.ctx); err != nil {
			return nil, fmt.Errorf("oauth2 refresh_token: %w", err)
		}
	}
	cfg, err := s.o.Config(s.ctx)
	if err != nil {
		return nil, err
	}
	tok, err := cfg.TokenSource(s.ctx, &oauth2.Token{RefreshToken: refresh}).Token()
	if err != nil {
		return nil, TokenError(s.o.TokenURL, err)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != refresh {
		// The provider rotated the refresh token (Microsoft does): the
		// old one may stop working, so the new one is kept for this
		// process and stored where the account reads it. A failure to
		// store it fails this sign-in, so that it is seen, but the next
		// attempt of this process goes on with the new token.
		s.o.rotated = tok.RefreshToken
		if s.o.canStore() {
			if _, err := s.o.store(s.ctx, tok.RefreshToken); err != nil {
				return nil, fmt.Errorf("oauth2: the provider issued a new refresh token that could not be stored: %w", err)
			}
		}
	}
	return tok, nil
}

// TokenError describes an error from the token endpoint at url without
// the response body (which might echo what was sent): the error code and
// description of a *oauth2.RetrieveError (RFC 6749 section 5.2), which
// stays in the chain for errors.As.
func TokenError(url string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("oauth2 token request to %s: %w", url, err)
	}
	msg := re.ErrorCode
	switch {
	case msg == "" && re.Response != nil:
		msg = fmt.Sprintf("HTTP %d without an OAuth 2.0 error", re.Response.StatusCode)
	case msg == "":
		msg = "no OAuth 2.0 error"
	}
	if re.ErrorDescription != "" {
		msg += ": " + re.ErrorDescription
	}
	return &tokenError{msg: fmt.Sprintf("oauth2 token request to %s: %s", url, msg), err: re}
}

// tokenError has its own message and the *oauth2.RetrieveError as cause.
type tokenError struct {
	msg string
	err *oauth2.RetrieveError
}

func (e *tokenError) Error() string { return e.msg }
func (e *tokenError) Unwrap() error { return e.err }

// Forget drops the cached access token, so that the next Token asks the
// token endpoint again: for when the server refused the token.
func (o *OAuth2) Forget() {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cached = nil
}

// SameSettings reports whether o and p are configured alike: the settings
// from the file, not the tokens obtained with them (which a comparison of
// the whole structs would also read, racing with Token). Secrets compare
// by their source.
func (o *OAuth2) SameSettings(p *OAuth2) bool {
	if o == nil || p == nil {
		return o == p
	}
	return slices.Equal(o.TokenCommand, p.TokenCommand) && o.ClientID == p.ClientID &&
		reflect.DeepEqual(o.ClientSecret, p.ClientSecret) && reflect.DeepEqual(o.RefreshToken, p.RefreshToken) &&
		o.TokenURL == p.TokenURL && slices.Equal(o.Scopes, p.Scopes) && o.AuthURL == p.AuthURL &&
		o.DeviceAuthURL == p.DeviceAuthURL && slices.Equal(o.StoreCommand, p.StoreCommand)
}

// canStore reports whether StoreRefreshToken has somewhere to put a token.
func (o *OAuth2) canStore() bool {
	return len(o.StoreCommand) > 0 || (o.RefreshToken != nil && o.RefreshToken.File != "")
}

// StoreRefreshToken stores a refresh token where the account reads it
// from: through StoreCommand when set, else in RefreshToken's file (see
// WriteSecretFile). A refresh token read from an environment variable or
// a command without StoreCommand has nowhere to go, which is an error.
// It returns where the token went, for the user.
func (o *OAuth2) StoreRefreshToken(ctx context.Context, token string) (string, error) {
	where, err := o.store(ctx, token)
	if err != nil {
		return "", err
	}
	o.Forget()
	o.mu.Lock()
	o.rotated = ""
	o.mu.Unlock()
	return where, nil
}

// store is StoreRefreshToken without forgetting the cached tokens, for a
// caller that holds o.mu.
func (o *OAuth2) store(ctx context.Context, token string) (string, error) {
	switch {
	case o == nil:
		return "", errors.New("no oauth2 configured")
	case len(o.StoreCommand) > 0:
		if err := runStoreCommand(ctx, o.StoreCommand, token); err != nil {
			return "", fmt.Errorf("oauth2 store_command: %w", err)
		}
	case o.RefreshToken != nil && o.RefreshToken.File != "":
		if err := WriteSecretFile(o.RefreshToken.File, token); err != nil {
			return "", fmt.Errorf("oauth2 refresh_token: %w", err)
		}
	default:
		return "", fmt.Errorf("oauth2: refresh_token comes from %s, where a token cannot be stored; use refresh_token = { file = ... } or set store_command",
			o.RefreshToken.describe())
	}
	if len(o.StoreCommand) > 0 {
		return "store_command " + strings.Join(o.StoreCommand, " "), nil
	}
	return o.RefreshToken.File, nil
}
