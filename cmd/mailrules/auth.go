package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/mailrules/mailrules/config"
)

// authFlags registers auth's flags on fs.
func authFlags(fs *flag.FlagSet) (path *string, timeout *time.Duration) {
	path = configFlag(fs)
	timeout = fs.Duration("timeout", 10*time.Minute, "how long to wait for the sign-in")
	return path, timeout
}

// cmdAuth obtains a refresh token for an account configured with OAuth 2.0
// and stores it where the account's oauth2 table says.
func cmdAuth(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("auth", stderr)
	path, timeout := authFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitConfig
	}
	cfg, ok := loadConfig(*path, stderr)
	if !ok {
		return exitConfig
	}
	name := fs.Arg(0)
	var acct *config.Account
	for _, a := range cfg.Accounts {
		if a.Name == name {
			acct = a
		}
	}
	switch {
	case acct == nil:
		fmt.Fprintf(stderr, "mailrules auth: no account %q in %s\n", name, *path)
		return exitConfig
	case acct.OAuth2 == nil || len(acct.OAuth2.TokenCommand) > 0:
		fmt.Fprintf(stderr, "mailrules auth: account %q has no oauth2 refresh-token settings (client_id, refresh_token, token_url)\n", name)
		return exitConfig
	case acct.OAuth2.AuthURL == "" && acct.OAuth2.DeviceAuthURL == "":
		fmt.Fprintf(stderr, "mailrules auth: account %q: set oauth2.device_auth_url or oauth2.auth_url (see examples/oauth2.toml)\n", name)
		return exitConfig
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	where, err := signIn(ctx, acct.OAuth2, stdout, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "mailrules auth: %s: %v\n", name, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "Stored the refresh token for %s: %s\n", name, where)
	return exitOK
}

// signIn runs the device grant when o has a device authorization endpoint,
// else the authorization code grant with a redirect to a listener on
// listenAddr, then stores the refresh token. It returns where the token
// went.
func signIn(ctx context.Context, o *config.OAuth2, out io.Writer, listenAddr string) (string, error) {
	ctx = config.WithHTTPClient(ctx, nil)
	cfg, err := o.Config(ctx)
	if err != nil {
		return "", err
	}
	var tok *oauth2.Token
	if o.DeviceAuthURL != "" {
		tok, err = deviceGrant(ctx, cfg, out)
	} else {
		tok, err = codeGrant(ctx, cfg, out, listenAddr)
	}
	if err != nil {
		return "", err
	}
	if tok.RefreshToken == "" {
		return "", errors.New("the provider sent no refresh token: ask for offline access (Microsoft: the offline_access scope)")
	}
	return o.StoreRefreshToken(ctx, tok.RefreshToken)
}

// deviceGrant runs the device authorization grant (RFC 8628): it asks for
// a device and user code (section 3.1), tells the user where to enter the
// code, and polls the token endpoint (section 3.4), waiting on
// authorization_pending and slowing down on slow_down (section 3.5) until
// the user has approved or denied, or the code expired.
func deviceGrant(ctx context.Context, cfg *oauth2.Config, out io.Writer) (*oauth2.Token, error) {
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("device authorization at %s: %w", cfg.Endpoint.DeviceAuthURL, stripRetrieveBody(err))
	}
	fmt.Fprintf(out, "To sign in, open %s and enter the code %s\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(out, "(or open %s)\n", da.VerificationURIComplete)
	}
	fmt.Fprintln(out, "Waiting for the sign-in...")
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.As(err, new(*oauth2.RetrieveError)) {
			return nil, fmt.Errorf("waiting for the sign-in: %w", ctxErr)
		}
		return nil, config.TokenError(cfg.Endpoint.TokenURL, err)
	}
	return tok, nil
}

// stripRetrieveBody turns a *oauth2.RetrieveError into one without the
// response body in its message; other errors pass unchanged.
func stripRetrieveBody(err error) error {
	if errors.As(err, new(*oauth2.RetrieveError)) {
		return config.TokenError("the provider", err)
	}
	return err
}

// codeGrant runs the authorization code grant (RFC 6749 section 4.1) with
// PKCE (RFC 7636, S256) for a native app (RFC 8252): it listens on a
// loopback address (section 7.3), prints the authorization URL for the
// user to open, waits for the browser to come back with the code and the
// state it sent (a redirect with another state is answered 400 and
// ignored), and exchanges the code with the verifier.
func codeGrant(ctx context.Context, cfg *oauth2.Config, out io.Writer, listenAddr string) (*oauth2.Token, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for the redirect: %w", err)
	}
	defer ln.Close()
	c := *cfg
	c.RedirectURL = "http://" + ln.Addr().String() + "/"
	state, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	authURL := c.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("prompt", "consent"))

	type answer struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan answer, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			// Not the answer to our request (RFC 6749 section 10.12).
			http.Error(w, "mailrules: this is not the sign-in mailrules started (state does not match)", http.StatusBadRequest)
			return
		}
		var a answer
		switch {
		case q.Get("error") != "":
			// RFC 6749 section 4.1.2.1.
			a.err = fmt.Errorf("the provider refused: %s %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			a.err = errors.New("the redirect has no code")
		default:
			a.tok, a.err = c.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			if a.err != nil {
				a.err = config.TokenError(c.Endpoint.TokenURL, a.err)
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if a.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<p>mailrules: sign-in failed: %s</p>\n", html.EscapeString(a.err.Error()))
		} else {
			fmt.Fprintln(w, "<p>mailrules: signed in. You can close this window.</p>")
		}
		select {
		case done <- a:
		default:
		}
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Exchange runs in the request: the redirect's context carries
		// the HTTP client of ctx.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	defer func() {
		// Let the handler that answered finish its page: Close would cut
		// it off, and the browser would retry against a closed port.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	fmt.Fprintf(out, "To sign in, open this URL in a browser on this machine:\n\n  %s\n\nWaiting for the browser on %s ...\n", authURL, c.RedirectURL)
	select {
	case a := <-done:
		return a.tok, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the browser: %w", ctx.Err())
	}
}
