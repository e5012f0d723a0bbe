package config

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
)

// TestOAuth2TokenCache: an access token is reused until shortly before it
// expires, then the refresh-token grant runs again.
func TestOAuth2TokenCache(t *testing.T) {
	var requests atomic.Int32
	expiresIn := atomic.Int32{}
	expiresIn.Store(3600)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":%d}`, n, expiresIn.Load())
	}))
	defer srv.Close()
	t.Setenv("MAILRULES_RT", "rt")
	o := &OAuth2{ClientID: "cid", RefreshToken: &Secret{Env: "MAILRULES_RT"}, TokenURL: srv.URL}
	ctx := context.Background()
	for i := range 3 {
		if tok, err := o.Token(ctx, srv.Client()); err != nil || tok != "at-1" {
			t.Fatalf("Token #%d = %q, %v; want the cached at-1", i+1, tok, err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("token endpoint asked %d times for 3 tokens valid an hour, want 1", n)
	}
	o.Forget()
	expiresIn.Store(30) // within earlyExpiry: never reused
	if tok, err := o.Token(ctx, srv.Client()); err != nil || tok != "at-2" {
		t.Fatalf("Token after Forget = %q, %v; want at-2", tok, err)
	}
	if tok, err := o.Token(ctx, srv.Client()); err != nil || tok != "at-3" {
		t.Fatalf("Token with the cached one about to expire = %q, %v; want at-3", tok, err)
	}
}

// TestOAuth2TokenErrors: the token endpoint's errors are *oauth2.RetrieveError
// in the chain, the message has the code and description but never the
// response body or the secrets.
func TestOAuth2TokenErrors(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		wantCode string
		wantMsg  string
	}{
		{400, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`, "invalid_grant", "invalid_grant: Token has been expired or revoked."},
		{401, `{"error":"invalid_client"}`, "invalid_client", ": invalid_client"},
		{502, `<html>rt-secret-value cs-secret-value</html>`, "", "HTTP 502 without an OAuth 2.0 error"},
	}
	t.Setenv("MAILRULES_RT", "rt-secret-value")
	t.Setenv("MAILRULES_CS", "cs-secret-value")
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tt.status)
			fmt.Fprint(w, tt.body)
		}))
		o := &OAuth2{ClientID: "cid", ClientSecret: &Secret{Env: "MAILRULES_CS"}, RefreshToken: &Secret{Env: "MAILRULES_RT"}, TokenURL: srv.URL}
		_, err := o.Token(context.Background(), srv.Client())
		srv.Close()
		var re *oauth2.RetrieveError
		if err == nil || !errors.As(err, &re) {
			t.Fatalf("HTTP %d: Token error = %v, want a *oauth2.RetrieveError in the chain", tt.status, err)
		}
		if re.ErrorCode != tt.wantCode || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("HTTP %d: Token error = %q (code %q), want code %q and %q", tt.status, err, re.ErrorCode, tt.wantCode, tt.wantMsg)
		}
		if strings.Contains(err.Error(), "secret-value") {
			t.Errorf("HTTP %d: Token error %q reveals a secret", tt.status, err)
		}
	}
}

// TestOAuth2RotatedRefreshToken: a new refresh token in the token
// response replaces the stored one (in its file) and is the one sent on
// the next refresh.
func TestOAuth2RotatedRefreshToken(t *testing.T) {
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		sent = append(sent, r.PostForm.Get("refresh_token"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-%d"}`, len(sent), len(sent)+1)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "refresh")
	if err := os.WriteFile(file, []byte("rt-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &OAuth2{ClientID: "cid", RefreshToken: &Secret{File: file}, TokenURL: srv.URL}
	ctx := context.Background()
	for i := range 2 {
		if _, err := o.Token(ctx, srv.Client()); err != nil {
			t.Fatalf("Token #%d = %v", i+1, err)
		}
		o.Forget()
	}
	if want := []string{"rt-1", "rt-2"}; strings.Join(sent, " ") != strings.Join(want, " ") {
		t.Errorf("refresh tokens sent = %q, want %q", sent, want)
	}
	data, err := os.ReadFile(file)
	if err != nil || strings.TrimSpace(string(data)) != "rt-3" {
		t.Errorf("stored refresh token = %q, %v; want rt-3", data, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

// TestOAuth2SameSettings: a token obtained with the settings does not make
// them differ (a reload must not reconnect for it); a changed setting does.
func TestOAuth2SameSettings(t *testing.T) {
	a := &OAuth2{ClientID: "cid", RefreshToken: &Secret{File: "/x"}, TokenURL: "https://t", Scopes: []string{"mail"}}
	b := &OAuth2{ClientID: "cid", RefreshToken: &Secret{File: "/x"}, TokenURL: "https://t", Scopes: []string{"mail"}}
	a.cached, a.cacheKey, a.rotated = &oauth2.Token{AccessToken: "at"}, "k", "rt-2"
	if !a.SameSettings(b) {
		t.Error("SameSettings false after a token was cached")
	}
	b.Scopes = []string{"mail", "other"}
	if a.SameSettings(b) {
		t.Error("SameSettings true with other scopes")
	}
	var none *OAuth2
	if !none.SameSettings(nil) || none.SameSettings(a) {
		t.Error("SameSettings of nil settings")
	}
}
