package config

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
