package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mailrules/mailrules/config"
)

// testProvider is an OAuth 2.0 authorization server for the sign-in
// tests: the device authorization endpoint (RFC 8628 section 3.1) and a
// token endpoint for the device grant (section 3.4), whose answers the
// test scripts, and for the authorization code grant with PKCE (RFC 7636
// section 4.6), which checks the code verifier against the challenge of
// the authorization URL.
type testProvider struct {
	t   *testing.T
	srv *httptest.Server

	mu sync.Mutex
	// deviceAnswers are the token endpoint's answers to the device
	// grant's polls, in order: an RFC 8628 section 3.5 error code, or ""
	// for success.
	deviceAnswers []string
	polls         []time.Time
	// challenge is the code_challenge of the authorization URL the test
	// browser followed; codes maps an issued code to it.
	codes map[string]string
	// redirect is the redirect_uri the code was issued for.
	redirect string
}

const (
	testClientID     = "test-client"
	testRefreshToken = "refresh-2b7e151628aed2a6"
	testDeviceCode   = "device-code-5f1a"
)

func newTestProvider(t *testing.T) *testProvider {
	p := &testProvider{t: t, codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/device", p.device)
	mux.HandleFunc("/token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (p *testProvider) device(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != testClientID {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": testDeviceCode, "user_code": "WDJB-MJHT",
		"verification_uri": p.srv.URL + "/activate", "expires_in": 600, "interval": 1,
	})
}

func (p *testProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.t.Errorf("token request: %v", err)
	}
	f := r.PostForm
	if f.Get("client_id") != testClientID {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	success := map[string]any{"access_token": "access-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": testRefreshToken}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch f.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		p.polls = append(p.polls, time.Now())
		if f.Get("device_code") != testDeviceCode || len(p.deviceAnswers) == 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		answer := p.deviceAnswers[0]
		p.deviceAnswers = p.deviceAnswers[1:]
		if answer != "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": answer, "error_description": "scripted " + answer})
			return
		}
		writeJSON(w, http.StatusOK, success)
	case "authorization_code":
		challenge, ok := p.codes[f.Get("code")]
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case !ok || f.Get("redirect_uri") != p.redirect:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "unknown code"})
		case base64.RawURLEncoding.EncodeToString(sum[:]) != challenge:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "code_verifier does not match"})
		default:
			delete(p.codes, f.Get("code"))
			writeJSON(w, http.StatusOK, success)
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
	}
}

// oauth2Settings returns an account's oauth2 settings for p, storing the
// refresh token in a file of dir.
func (p *testProvider) oauth2Settings(dir string, device bool) *config.OAuth2 {
	o := &config.OAuth2{ClientID: testClientID, TokenURL: p.srv.URL + "/token",
		RefreshToken: &config.Secret{File: filepath.Join(dir, "refresh-token")}, Scopes: []string{"mail"}}
	if device {
		o.DeviceAuthURL = p.srv.URL + "/device"
	} else {
		o.AuthURL = p.srv.URL + "/authorize"
	}
	return o
}

// checkStored checks that the refresh token is in path, mode 0600.
func checkStored(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("refresh token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("refresh token file mode %04o, want 0600", fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(path); string(data) != testRefreshToken+"\n" {
		t.Errorf("refresh token file holds %q, want %q", data, testRefreshToken+"\n")
	}
}

func TestAuthDeviceGrant(t *testing.T) {
	tests := []struct {
		name    string
		answers []string
		wantErr string // "" for success
		// minGap is the least time between the last two polls.
		minGap time.Duration
	}{
		{name: "pending then success", answers: []string{"authorization_pending", "authorization_pending", ""}, minGap: 900 * time.Millisecond},
		{name: "slow_down", answers: []string{"slow_down", ""}, minGap: 5 * time.Second},
		{name: "expired", answers: []string{"authorization_pending", "expired_token"}, wantErr: "expired_token: scripted expired_token"},
		{name: "denied", answers: []string{"access_denied"}, wantErr: "access_denied: scripted access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && tt.minGap > time.Second {
				t.Skip("waits for slow_down in -short mode")
			}
			p := newTestProvider(t)
			p.deviceAnswers = tt.answers
			dir := t.TempDir()
			o := p.oauth2Settings(dir, true)
			var out strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			where, err := signIn(ctx, o, &out, "127.0.0.1:0")
			if !strings.Contains(out.String(), "/activate and enter the code WDJB-MJHT") {
				t.Errorf("signIn printed %q, want the verification URI and user code", out.String())
			}
			if strings.Contains(out.String(), testRefreshToken) {
				t.Errorf("signIn printed the refresh token: %q", out.String())
			}
			if tt.wantErr != "" {
				var re *oauth2.RetrieveError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &re) {
					t.Fatalf("signIn = %q, %v; want a *oauth2.RetrieveError with %q", where, err, tt.wantErr)
				}
				if _, err := os.Stat(o.RefreshToken.File); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("after a failed sign-in the token file exists (%v)", err)
				}
				return
			}
			if err != nil || where != o.RefreshToken.File {
				t.Fatalf("signIn = %q, %v; want %q, nil", where, err, o.RefreshToken.File)
			}
			checkStored(t, o.RefreshToken.File)
			p.mu.Lock()
			polls := p.polls
			p.mu.Unlock()
			if len(polls) != len(tt.answers) {
				t.Errorf("token endpoint polled %d times, want %d", len(polls), len(tt.answers))
			}
			if gap := polls[len(polls)-1].Sub(polls[len(polls)-2]); gap < tt.minGap {
				t.Errorf("last poll %s after the one before, want at least %s", gap, tt.minGap)
			}
		})
	}
}

// lineWriter hands each line written to it to a channel.
type lineWriter struct {
	pw    *io.PipeWriter
	lines chan string
}

func newLineWriter() *lineWriter {
	pr, pw := io.Pipe()
	lw := &lineWriter{pw: pw, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lw.lines <- sc.Text()
		}
		close(lw.lines)
	}()
	return lw
}

func (lw *lineWriter) Write(b []byte) (int, error) { return lw.pw.Write(b) }

func TestAuthCodeGrantPKCE(t *testing.T) {
	p := newTestProvider(t)
	dir := t.TempDir()
	o := p.oauth2Settings(dir, false)
	out := newLineWriter()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type result struct {
		where string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		where, err := signIn(ctx, o, out, "127.0.0.1:0")
		out.pw.Close()
		done <- result{where, err}
	}()

	// Play the browser: find the authorization URL, check it, and come
	// back to its redirect_uri as the provider would.
	var authURL *url.URL
	for line := range out.lines {
		if u, err := url.Parse(strings.TrimSpace(line)); err == nil && strings.HasPrefix(u.String(), p.srv.URL+"/authorize?") {
			authURL = u
			break
		}
	}
	if authURL == nil {
		t.Fatal("signIn printed no authorization URL")
	}
	go func() { // drain the rest
		for range out.lines {
		}
	}()
	q := authURL.Query()
	for key, want := range map[string]string{"response_type": "code", "client_id": testClientID, "code_challenge_method": "S256", "scope": "mail", "access_type": "offline"} {
		if got := q.Get(key); got != want {
			t.Errorf("authorization URL %s = %q, want %q", key, got, want)
		}
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" {
		t.Fatalf("redirect_uri %q, want http://127.0.0.1:PORT/ (RFC 8252 section 7.3)", q.Get("redirect_uri"))
	}
	if q.Get("state") == "" || q.Get("code_challenge") == "" {
		t.Fatalf("authorization URL lacks state or code_challenge: %s", authURL)
	}
	p.mu.Lock()
	p.codes["code-1"] = q.Get("code_challenge")
	p.redirect = redirect.String()
	p.mu.Unlock()

	browse := func(state string) (int, string) {
		t.Helper()
		u := *redirect
		u.RawQuery = url.Values{"code": {"code-1"}, "state": {state}}.Encode()
		resp, err := http.Get(u.String())
		if err != nil {
			t.Fatalf("GET %s: %v", u.String(), err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := browse("forged-" + q.Get("state")); code != http.StatusBadRequest || !strings.Contains(body, "state does not match") {
		t.Fatalf("redirect with a wrong state = %d %q, want 400 and a refusal", code, body)
	}
	select {
	case r := <-done:
		t.Fatalf("signIn returned after a redirect with a wrong state: %q, %v", r.where, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	if code, body := browse(q.Get("state")); code != http.StatusOK || !strings.Contains(body, "signed in") {
		t.Fatalf("redirect with the right state = %d %q, want 200 and \"signed in\"", code, body)
	}
	r := <-done
	if r.err != nil || r.where != o.RefreshToken.File {
		t.Fatalf("signIn = %q, %v; want %q, nil", r.where, r.err, o.RefreshToken.File)
	}
	checkStored(t, o.RefreshToken.File)
}

// TestAuthCodeGrantRefused: the token endpoint's refusal of the
// code reaches the user, and nothing is stored.
func TestAuthCodeGrantRefused(t *testing.T) {
	p := newTestProvider(t)
	o := p.oauth2Settings(t.TempDir(), false)
	out := newLineWriter()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := signIn(ctx, o, out, "127.0.0.1:0")
		out.pw.Close()
		done <- err
	}()
	var authURL *url.URL
	for line := range out.lines {
		if u, err := url.Parse(strings.TrimSpace(line)); err == nil && strings.HasPrefix(u.String(), p.srv.URL+"/authorize?") {
			authURL = u
			break
		}
	}
	if authURL == nil {
		t.Fatal("signIn printed no authorization URL")
	}
	go func() {
		for range out.lines {
		}
	}()
	q := authURL.Query()
	p.mu.Lock()
	p.codes["code-1"] = "not-the-challenge"
	p.redirect = q.Get("redirect_uri")
	p.mu.Unlock()
	resp, err := http.Get(q.Get("redirect_uri") + "?" + url.Values{"code": {"code-1"}, "state": {q.Get("state")}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "invalid_grant: code_verifier does not match") {
		t.Fatalf("signIn = %v, want the token endpoint's invalid_grant", err)
	}
	if _, err := os.Stat(o.RefreshToken.File); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after a refused sign-in the token file exists (%v)", err)
	}
}

func TestAuthCommandUsage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	conf := `[[account]]
name     = "plain"
host     = "127.0.0.1"
username = "u"
password = { env = "X" }

[[account]]
name     = "noauthurl"
host     = "127.0.0.1"
username = "u"
auth     = "xoauth2"
[account.oauth2]
client_id     = "c"
refresh_token = { file = "rt" }
token_url     = "https://example.net/token"

[[rule]]
name = "r"
when = "true"
flag = "x"
`
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"auth", "-c", path}, "Usage: mailrules auth"},
		{[]string{"auth", "-c", path, "missing"}, `no account "missing"`},
		{[]string{"auth", "-c", path, "plain"}, "has no oauth2 refresh-token settings"},
		{[]string{"auth", "-c", path, "noauthurl"}, "set oauth2.device_auth_url or oauth2.auth_url"},
	} {
		var stdout, stderr strings.Builder
		if code := dispatch(tt.args, &stdout, &stderr); code != exitConfig || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("mailrules %s = %d, stderr %q; want %d with %q", strings.Join(tt.args, " "), code, stderr.String(), exitConfig, tt.want)
		}
	}
}
