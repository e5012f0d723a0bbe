package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/dovecottest"
)

// newAccountEnv is newEnv with the account's connection and credential
// keys (host, port, tls, tls_*, password, auth, oauth2) written by account
// for the fresh user, so a test can choose how mailrules connects and
// logs in. The account is named "test" and watches INBOX, as in newEnv.
func newAccountEnv(t *testing.T, s *dovecottest.Server, rules string, account func(u *dovecottest.User) string) *env {
	t.Helper()
	dovecottest.Require(t, s)
	u := s.NewUser(t)
	dir := t.TempDir()
	config := fmt.Sprintf(`[[account]]
name      = "test"
username  = %q
mailboxes = ["INBOX"]
%s

%s`, u.Name, account(u), rules)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: s, addr: s.Addr(), user: u, dir: dir, config: path, state: filepath.Join(dir, "state.db")}
}

// check runs `mailrules check` on the env's configuration.
func (e *env) check() result {
	e.t.Helper()
	return checkConfig(e.t, e.config)
}

// checkConfig runs `mailrules check -c path` (check takes neither --state
// nor --log-format).
func checkConfig(t *testing.T, path string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "check", "-c", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("mailrules check: %v", err)
		}
		r.code = exitErr.ExitCode()
	}
	return r
}

// certFile is the PEM file of the test server's self-signed certificate,
// which is its own CA.
func certFile(s *dovecottest.Server) string { return filepath.Join(s.Dir(), "cert.pem") }

// readTrace returns the protocol trace mailrules wrote to path.
func readTrace(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read trace: %v", err)
	}
	return string(data)
}

// assertNoSecret fails the test if secret appears in any of outputs,
// verbatim or inside a base64 word (a SASL response is base64, RFC 4954
// section 4, so a token in an unredacted AUTHENTICATE line would hide
// there).
func assertNoSecret(t *testing.T, what, secret string, outputs map[string]string) {
	t.Helper()
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s appears in %s:\n%s", what, name, out)
			continue
		}
		for _, word := range strings.FieldsFunc(out, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=')
		}) {
			if len(word) < len(secret) {
				continue
			}
			if dec, err := base64.StdEncoding.DecodeString(word); err == nil && bytes.Contains(dec, []byte(secret)) {
				t.Errorf("%s appears base64-encoded in %s: %s", what, name, word)
			}
		}
	}
}

// tlsAccount is the account block for the TLS tests: the env's user with
// its password, tls mode tlsMode to addr, and extra keys.
func tlsAccount(addr, tlsMode, extra string) func(u *dovecottest.User) string {
	return func(u *dovecottest.User) string {
		i := strings.LastIndexByte(addr, ':')
		return fmt.Sprintf("host = %q\nport = %s\ntls = %q\npassword = { env = %q }\n%s", addr[:i], addr[i+1:], tlsMode, passwordEnv, extra)
	}
}

func TestTLS(t *testing.T) {
	dovecottest.Require(t, srv)
	ca := fmt.Sprintf("tls_ca_file = %q", certFile(srv))
	for _, tc := range []struct {
		name, tls, addr, extra string
		wantOK                 bool
		wantCheckWarning       string
	}{
		{name: "implicit with tls_ca_file", tls: "implicit", addr: srv.TLSAddr(), extra: ca, wantOK: true},
		{name: "starttls with tls_ca_file", tls: "starttls", addr: srv.Addr(), extra: ca, wantOK: true},
		{name: "implicit unverified", tls: "implicit", addr: srv.TLSAddr()},
		{name: "starttls unverified", tls: "starttls", addr: srv.Addr()},
		{name: "implicit tls_skip_verify", tls: "implicit", addr: srv.TLSAddr(), extra: "tls_skip_verify = true",
			wantOK: true, wantCheckWarning: "tls_skip_verify"},
		{name: "starttls tls_skip_verify", tls: "starttls", addr: srv.Addr(), extra: "tls_skip_verify = true",
			wantOK: true, wantCheckWarning: "tls_skip_verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAccountEnv(t, srv, spamRule, tlsAccount(tc.addr, tc.tls, tc.extra))
			c := e.check()
			if c.code != 0 {
				t.Fatalf("mailrules check exited %d\nstdout:\n%s\nstderr:\n%s", c.code, c.stdout, c.stderr)
			}
			if tc.wantCheckWarning != "" {
				if !strings.Contains(c.stderr, "warning") || !strings.Contains(c.stderr, tc.wantCheckWarning) {
					t.Errorf("mailrules check does not warn about %s:\n%s", tc.wantCheckWarning, c.stderr)
				}
			} else if strings.Contains(c.stderr, "warning") {
				t.Errorf("mailrules check warns:\n%s", c.stderr)
			}

			e.appendMessages("INBOX", message{id: "spam@x", headers: "X-Spam-Flag: YES"}, message{id: "ham@x"})
			before := e.snapshot()
			trace := filepath.Join(e.dir, "trace")
			r := e.mailrules("run", "--all", "--trace", trace)
			got := e.snapshot()
			if !tc.wantOK {
				if r.code != 1 {
					t.Fatalf("run exited %d, want 1\nstderr:\n%s", r.code, r.stderr)
				}
				if !strings.Contains(r.stderr, "certificate") {
					t.Errorf("run's error does not mention the certificate:\n%s", r.stderr)
				}
				if got.String() != before.String() {
					t.Errorf("failed run changed mailboxes:\n%s\nwant:\n%s", got, before)
				}
				assertNoSecret(t, "the password", e.user.Password, map[string]string{"stderr": r.stderr, "stdout": r.stdout})
				return
			}
			if r.code != 0 {
				t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			want := snapshot{"INBOX": {"ham@x": ""}, "Junk": {"spam@x": ""}}
			if got.String() != want.String() {
				t.Errorf("after run:\n%s\nwant:\n%s", got, want)
			}
			tr := readTrace(t, trace)
			if tc.tls == "starttls" && !strings.Contains(tr, "STARTTLS") {
				t.Errorf("trace shows no STARTTLS:\n%s", tr)
			}
			assertNoSecret(t, "the password", e.user.Password, map[string]string{"stderr": r.stderr, "stdout": r.stdout, "trace": tr})
		})
	}
}

// oauthProvider is a fake OAuth 2.0 authorization server on loopback: the
// token endpoint for the refresh-token grant (RFC 6749 section 6), and the
// token-info and introspection (RFC 7662) endpoints Dovecot's oauth2 passdb
// asks. It knows one valid access token per user.
type oauthProvider struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	tokens map[string]string // access token -> user name
	// grants maps a refresh token to the access token it yields.
	grants                 map[string]string
	clientID, clientSecret string
	// Counts of requests, for the tests to see which endpoint was used.
	tokenInfos, introspections, tokenRequests int
	// devices maps a device code of the device grant (RFC 8628) to the
	// refresh token it yields once pending reaches zero; pending counts
	// the polls still answered authorization_pending.
	devices map[string]string
	pending int
}

func newOAuthProvider(t *testing.T, clientID, clientSecret string) *oauthProvider {
	p := &oauthProvider{t: t, tokens: map[string]string{}, grants: map[string]string{},
		devices: map[string]string{}, clientID: clientID, clientSecret: clientSecret}
	mux := http.NewServeMux()
	mux.HandleFunc("/tokeninfo", p.tokenInfo)
	mux.HandleFunc("/introspect", p.introspect)
	mux.HandleFunc("/token", p.token)
	mux.HandleFunc("/device", p.device)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// addToken makes token the valid access token of user.
func (p *oauthProvider) addToken(token, user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens[token] = user
}

// addGrant lets refresh yield access token.
func (p *oauthProvider) addGrant(refresh, access string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.grants[refresh] = access
}

func (p *oauthProvider) counts() (tokenInfos, introspections, tokenRequests int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokenInfos, p.introspections, p.tokenRequests
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// tokenInfo answers GET /tokeninfo?access_token=TOKEN: 401 for a token it
// does not know, otherwise the token's scope only, so that Dovecot has to
// introspect it to learn the user.
func (p *oauthProvider) tokenInfo(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.tokenInfos++
	_, ok := p.tokens[r.URL.Query().Get("access_token")]
	p.mu.Unlock()
	if r.Method != http.MethodGet || !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scope": "mail", "expires_in": 3600})
}

// introspect answers POST /introspect with token=TOKEN (RFC 7662 section
// 2.1): active with the user name for a known token, else only
// "active": false (section 2.2).
func (p *oauthProvider) introspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		p.t.Errorf("introspection request with method %s, want POST", r.Method)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request"})
		return
	}
	if err := r.ParseForm(); err != nil {
		p.t.Errorf("introspection request: %v", err)
	}
	p.mu.Lock()
	p.introspections++
	user, ok := p.tokens[r.PostForm.Get("token")]
	p.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"active": true, "username": user, "scope": "mail", "token_type": "Bearer"})
}

// token answers the refresh-token grant (RFC 6749 section 6) with client
// credentials in the body (section 2.3.1): the access token for a known
// refresh token and the right client, else invalid_grant or
// invalid_client (section 5.2).
func (p *oauthProvider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.tokenRequests++
	p.mu.Unlock()
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		p.t.Errorf("token request Content-Type %q, want application/x-www-form-urlencoded", ct)
	}
	if err := r.ParseForm(); err != nil {
		p.t.Errorf("token request: %v", err)
	}
	f := r.PostForm
	if f.Get("client_id") != p.clientID || f.Get("client_secret") != p.clientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	switch f.Get("grant_type") {
	case "refresh_token":
	case "urn:ietf:params:oauth:grant-type:device_code":
		p.deviceToken(w, f.Get("device_code"))
		return
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	p.mu.Lock()
	access, ok := p.grants[f.Get("refresh_token")]
	p.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "unknown refresh token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600})
}

// addDevice lets the device grant with deviceCode yield refresh after
// pending polls answered authorization_pending.
func (p *oauthProvider) addDevice(deviceCode, refresh string, pending int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.devices[deviceCode], p.pending = refresh, pending
}

// device answers the device authorization request (RFC 8628 section 3.1)
// with the one device code added, polled every second.
func (p *oauthProvider) device(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") != p.clientID {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	var code string
	for c := range p.devices {
		code = c
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"device_code": code, "user_code": "BDWP-HQPK",
		"verification_uri": p.srv.URL + "/activate", "expires_in": 300, "interval": 1})
}

// deviceToken answers a device grant poll (RFC 8628 section 3.4, 3.5).
func (p *oauthProvider) deviceToken(w http.ResponseWriter, deviceCode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	refresh, ok := p.devices[deviceCode]
	switch {
	case !ok:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
	case p.pending > 0:
		p.pending--
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "authorization_pending"})
	default:
		delete(p.devices, deviceCode)
		writeJSON(w, http.StatusOK, map[string]any{"access_token": p.grants[refresh], "token_type": "Bearer",
			"expires_in": 3600, "refresh_token": refresh})
	}
}

// startOAuthServer starts a Dovecot that also accepts XOAUTH2 and
// OAUTHBEARER, checking tokens with p through its oauth2 passdb. The
// passwd-file passdb dovecottest configures stays first: it fails for a
// token (not the user's password) and Dovecot continues with the next
// passdb (result_failure = continue is the default).
func startOAuthServer(t *testing.T, p *oauthProvider) *dovecottest.Server {
	t.Helper()
	dovecottest.Require(t, srv)
	// The auth process runs as Dovecot's internal user, so the file must
	// be readable by it: not in t.TempDir, which is private to root.
	dir, err := os.MkdirTemp("", "mailrules-e2e-oauth2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "dovecot-oauth2.conf.ext")
	ext := fmt.Sprintf(`tokeninfo_url = %s/tokeninfo?access_token=
introspection_url = %s/introspect
introspection_mode = post
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
`, p.srv.URL, p.srv.URL)
	if err := os.WriteFile(conf, []byte(ext), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := dovecottest.Start(&dovecottest.Options{ExtraConfig: fmt.Sprintf(`auth_mechanisms = plain login cram-md5 xoauth2 oauthbearer
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = %s
}
`, conf)})
	if err != nil {
		t.Fatalf("start Dovecot with an oauth2 passdb: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOAuth2(t *testing.T) {
	dovecottest.Require(t, srv)
	const (
		clientID         = "mailrules-e2e-client"
		clientSecretEnv  = "MAILRULES_E2E_CLIENT_SECRET"
		refreshTokenEnv  = "MAILRULES_E2E_REFRESH_TOKEN"
		clientSecret     = "client-secret-6c1f0e"
		refreshTokenBase = "refresh-token-9a7d21"
	)
	p := newOAuthProvider(t, clientID, clientSecret)
	s := startOAuthServer(t, p)

	for _, tc := range []struct {
		name string
		auth string // xoauth2 | oauthbearer
		// how mailrules gets the token: "command" (token_command) or
		// "refresh" (the refresh-token grant at the provider)
		source string
		// wrongToken makes the command print a token the provider does
		// not know.
		wrongToken bool
		// wrongRefresh gives mailrules a refresh token the provider
		// does not know: the grant fails before any AUTHENTICATE.
		wrongRefresh bool
	}{
		{name: "xoauth2 token_command", auth: "xoauth2", source: "command"},
		{name: "oauthbearer token_command", auth: "oauthbearer", source: "command"},
		{name: "xoauth2 wrong token", auth: "xoauth2", source: "command", wrongToken: true},
		{name: "oauthbearer wrong token", auth: "oauthbearer", source: "command", wrongToken: true},
		{name: "xoauth2 refresh token", auth: "xoauth2", source: "refresh"},
		{name: "oauthbearer refresh token", auth: "oauthbearer", source: "refresh"},
		{name: "xoauth2 unknown refresh token", auth: "xoauth2", source: "refresh", wrongRefresh: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokenDir := t.TempDir()
			var access, refresh, tokenFile string
			e := newAccountEnv(t, s, spamRule, func(u *dovecottest.User) string {
				access = "access-" + u.Name + "-" + strings.ReplaceAll(tc.name, " ", "-") + "-5f3e"
				refresh = refreshTokenBase + "-" + u.Name
				p.addToken(access, u.Name)
				p.addGrant(refresh, access)
				tokenFile = filepath.Join(tokenDir, "token")
				host, port := splitAddr(t, s.Addr())
				head := fmt.Sprintf("host = %q\nport = %s\ntls = \"none\"\nauth = %q\n", host, port, tc.auth)
				if tc.source == "refresh" {
					return head + fmt.Sprintf(`[account.oauth2]
client_id     = %q
client_secret = { env = %q }
refresh_token = { env = %q }
token_url     = "%s/token"
`, clientID, clientSecretEnv, refreshTokenEnv, p.srv.URL)
				}
				return head + fmt.Sprintf("oauth2 = { token_command = [\"cat\", %q] }\n", tokenFile)
			})
			sent := access
			if tc.wrongToken {
				sent = "wrong-" + access
			}
			if err := os.WriteFile(tokenFile, []byte(sent+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv(clientSecretEnv, clientSecret)
			if tc.wrongRefresh {
				refresh = "revoked-" + refresh
			}
			t.Setenv(refreshTokenEnv, refresh)

			e.appendMessages("INBOX", message{id: "spam@x", headers: "X-Spam-Flag: YES"}, message{id: "ham@x"})
			before := e.snapshot()
			infosBefore, introsBefore, grantsBefore := p.counts()
			trace := filepath.Join(e.dir, "trace")
			r := e.mailrules("run", "--all", "--trace", trace)
			got := e.snapshot()
			tr := readTrace(t, trace)
			outputs := map[string]string{"stderr": r.stderr, "stdout": r.stdout, "trace": tr}
			assertNoSecret(t, "the access token", sent, outputs)
			assertNoSecret(t, "the refresh token", refresh, outputs)
			assertNoSecret(t, "the client secret", clientSecret, outputs)
			if authenticated := strings.Contains(tr, "AUTHENTICATE "+strings.ToUpper(tc.auth)); authenticated == tc.wrongRefresh {
				t.Errorf("trace has AUTHENTICATE %s = %v, want %v:\n%s", strings.ToUpper(tc.auth), authenticated, !tc.wrongRefresh, tr)
			}
			infosAfter, introsAfter, grantsAfter := p.counts()
			if wantGrants := map[string]int{"command": 0, "refresh": 1}[tc.source]; grantsAfter-grantsBefore != wantGrants {
				t.Errorf("token endpoint asked %d times, want %d", grantsAfter-grantsBefore, wantGrants)
			}
			// Dovecot checked the token with the provider: the token-info
			// endpoint once, and introspection only for a token it accepted.
			wantInfos, wantIntros := 1, 1
			switch {
			case tc.wrongRefresh:
				wantInfos, wantIntros = 0, 0
			case tc.wrongToken:
				wantIntros = 0
			}
			if infosAfter-infosBefore != wantInfos || introsAfter-introsBefore != wantIntros {
				t.Errorf("Dovecot asked token info %d and introspection %d times, want %d and %d\nDovecot log:\n%s",
					infosAfter-infosBefore, introsAfter-introsBefore, wantInfos, wantIntros, s.LogTail(4096))
			}

			if tc.wrongToken || tc.wrongRefresh {
				if r.code != 1 {
					t.Fatalf("run with a wrong token exited %d, want 1\nstderr:\n%s", r.code, r.stderr)
				}
				wantErr := "authenticat"
				if tc.wrongRefresh {
					wantErr = "invalid_grant" // the provider's error code, RFC 6749 section 5.2
				}
				if !strings.Contains(strings.ToLower(r.stderr), wantErr) {
					t.Errorf("run's error does not mention %q:\n%s", wantErr, r.stderr)
				}
				if got.String() != before.String() {
					t.Errorf("failed run changed mailboxes:\n%s\nwant:\n%s", got, before)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s\ntrace:\n%s\nDovecot log:\n%s", r.code, r.stdout, r.stderr, tr, s.LogTail(4096))
			}
			want := snapshot{"INBOX": {"ham@x": ""}, "Junk": {"spam@x": ""}}
			if got.String() != want.String() {
				t.Errorf("after run:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestOAuth2TokenURLMustBeHTTPS: the client secret and refresh token go
// to token_url, so mailrules check refuses a plaintext http URL unless its
// host is loopback, judged by the parsed host rather than a prefix.
func TestOAuth2TokenURLMustBeHTTPS(t *testing.T) {
	if binary == "" {
		t.Skip("no mailrules binary under -short")
	}
	for _, tc := range []struct {
		url    string
		wantOK bool
	}{
		{"https://login.example.net/oauth2/token", true},
		{"http://127.0.0.1:8080/token", true},
		{"http://localhost:8080/token", true},
		{"http://[::1]:8080/token", true},
		{"http://login.example.net/oauth2/token", false},
		{"http://localhost.example.net/token", false},
		{"http://127.0.0.1.example.net/token", false},
		{"ftp://127.0.0.1/token", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			config := fmt.Sprintf(`[[account]]
name     = "office"
host     = "imap.example.net"
username = "alice@example.net"
auth     = "xoauth2"
[account.oauth2]
client_id     = "id"
client_secret = { env = "SECRET" }
refresh_token = { env = "REFRESH" }
token_url     = %q
%s`, tc.url, spamRule)
			if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			r := checkConfig(t, path)
			if gotOK := r.code == 0; gotOK != tc.wantOK {
				t.Fatalf("check with token_url %s exited %d, want ok = %v\nstderr:\n%s", tc.url, r.code, tc.wantOK, r.stderr)
			}
			if !tc.wantOK && (r.code != 2 || !strings.Contains(r.stderr, "token_url")) {
				t.Errorf("check with token_url %s: exit %d, stderr lacks token_url:\n%s", tc.url, r.code, r.stderr)
			}
		})
	}
}

// TestOAuth2AuthThenRun: `mailrules auth` signs in with the device grant
// at the provider and stores the refresh token 0600 in the file the
// account reads it from; `mailrules run` then logs in to Dovecot with it.
func TestOAuth2AuthThenRun(t *testing.T) {
	dovecottest.Require(t, srv)
	const (
		clientID        = "mailrules-e2e-auth-client"
		clientSecret    = "client-secret-d41d8c"
		clientSecretEnv = "MAILRULES_E2E_CLIENT_SECRET"
	)
	p := newOAuthProvider(t, clientID, clientSecret)
	s := startOAuthServer(t, p)
	tokenFile := filepath.Join(t.TempDir(), "tokens", "refresh-token")
	var refresh, access string
	e := newAccountEnv(t, s, spamRule, func(u *dovecottest.User) string {
		refresh, access = "refresh-auth-"+u.Name+"-77e1", "access-auth-"+u.Name+"-0c9a"
		p.addToken(access, u.Name)
		p.addGrant(refresh, access)
		p.addDevice("device-"+u.Name, refresh, 2)
		host, port := splitAddr(t, s.Addr())
		return fmt.Sprintf(`host = %q
port = %s
tls = "none"
auth = "xoauth2"
[account.oauth2]
client_id       = %q
client_secret   = { env = %q }
refresh_token   = { file = %q }
token_url       = "%s/token"
device_auth_url = "%s/device"
`, host, port, clientID, clientSecretEnv, tokenFile, p.srv.URL, p.srv.URL)
	})
	t.Setenv(clientSecretEnv, clientSecret)

	// Before signing in, run cannot read the refresh token.
	if r := e.mailrules("run"); r.code != 1 || !strings.Contains(r.stderr, "refresh_token") {
		t.Fatalf("run before auth exited %d, want 1 with a refresh_token error\nstderr:\n%s", r.code, r.stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "auth", "-c", e.config, "test")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mailrules auth: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	if !strings.Contains(stdout.String(), "/activate and enter the code BDWP-HQPK") || !strings.Contains(stdout.String(), tokenFile) {
		t.Errorf("mailrules auth printed %q, want the verification URI, the user code and where the token went", stdout.String())
	}
	assertNoSecret(t, "the refresh token", refresh, map[string]string{"stdout": stdout.String(), "stderr": stderr.String()})
	assertNoSecret(t, "the client secret", clientSecret, map[string]string{"stdout": stdout.String(), "stderr": stderr.String()})
	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored refresh token: %v, mode %v; want 0600", err, fi.Mode())
	}
	if data, _ := os.ReadFile(tokenFile); string(data) != refresh+"\n" {
		t.Fatalf("stored refresh token %q, want %q", data, refresh+"\n")
	}

	e.appendMessages("INBOX", message{id: "spam@x", headers: "X-Spam-Flag: YES"}, message{id: "ham@x"})
	_, _, grantsBefore := p.counts()
	r := e.mailrules("run", "--all")
	if r.code != 0 {
		t.Fatalf("run after auth exited %d\nstderr:\n%s\nDovecot log:\n%s", r.code, r.stderr, s.LogTail(4096))
	}
	assertNoSecret(t, "the refresh token", refresh, map[string]string{"stdout": r.stdout, "stderr": r.stderr})
	if _, _, grantsAfter := p.counts(); grantsAfter-grantsBefore != 1 {
		t.Errorf("run asked the token endpoint %d times, want 1", grantsAfter-grantsBefore)
	}
	want := snapshot{"INBOX": {"ham@x": ""}, "Junk": {"spam@x": ""}}
	if got := e.snapshot(); got.String() != want.String() {
		t.Errorf("after run:\n%s\nwant:\n%s", got, want)
	}
}
