package sasl

import (
	"encoding/base64"
	"errors"
	"testing"
)

// TestCRAMMD5 checks the example exchange of RFC 2195 section 2.
func TestCRAMMD5(t *testing.T) {
	m := CRAMMD5("tim", "tanstaaftanstaaf")
	if m.Name() != "CRAM-MD5" {
		t.Fatalf("Name() = %q, want CRAM-MD5", m.Name())
	}
	if ir, err := m.Start(); ir != nil || err != nil {
		t.Fatalf("Start() = %q, %v, want nil, nil", ir, err)
	}
	challenge, _ := base64.StdEncoding.DecodeString("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
	resp, err := m.Next(challenge)
	if err != nil {
		t.Fatalf("Next(%q) error = %v", challenge, err)
	}
	if got, want := base64.StdEncoding.EncodeToString(resp), "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"; got != want {
		t.Fatalf("Next(%q) = %q (base64 %s), want base64 %s", challenge, resp, got, want)
	}
	if _, err := m.Next(challenge); !errors.Is(err, ErrUnexpectedChallenge) {
		t.Fatalf("second Next() error = %v, want ErrUnexpectedChallenge", err)
	}
	if s, ok := m.(SafeWithoutTLS); !ok || !s.SafeWithoutTLS() {
		t.Fatalf("CRAM-MD5 does not report SafeWithoutTLS")
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name       string
		challenges []string
		want       []string
	}{
		{"prompts", []string{"Username:", "Password:"}, []string{"alice", "s3cr=t"}},
		{"empty prompts", []string{"", ""}, []string{"alice", "s3cr=t"}},
		{"lower-case", []string{"username:", "password:"}, []string{"alice", "s3cr=t"}},
	}
	for _, tt := range tests {
		m := Login("alice", "s3cr=t")
		if ir, err := m.Start(); ir != nil || err != nil {
			t.Fatalf("%s: Start() = %q, %v, want nil, nil", tt.name, ir, err)
		}
		for i, ch := range tt.challenges {
			got, err := m.Next([]byte(ch))
			if err != nil || string(got) != tt.want[i] {
				t.Fatalf("%s: Next(%q) = %q, %v, want %q", tt.name, ch, got, err, tt.want[i])
			}
		}
		if _, err := m.Next([]byte("More:")); !errors.Is(err, ErrUnexpectedChallenge) {
			t.Fatalf("%s: third Next() error = %v, want ErrUnexpectedChallenge", tt.name, err)
		}
	}
	if _, ok := Login("a", "b").(SafeWithoutTLS); ok {
		t.Fatalf("LOGIN claims to be safe without TLS")
	}
}

func TestXOAuth2(t *testing.T) {
	m := XOAuth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
	if m.Name() != "XOAUTH2" {
		t.Fatalf("Name() = %q", m.Name())
	}
	ir, err := m.Start()
	if err != nil {
		t.Fatal(err)
	}
	// Google's documented example, base64-encoded.
	want := "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
	if got := base64.StdEncoding.EncodeToString(ir); got != want {
		t.Fatalf("Start() = %q\n base64 %s\n want   %s", ir, got, want)
	}
	se := m.(ServerErrorer)
	if se.ServerError() != nil {
		t.Fatalf("ServerError() before any challenge = %v, want nil", se.ServerError())
	}
	resp, err := m.Next([]byte(`{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}`))
	if err != nil || resp == nil || len(resp) != 0 {
		t.Fatalf("Next(error challenge) = %q, %v, want empty response", resp, err)
	}
	if e := se.ServerError(); e == nil || e.Status != "401" || e.Scope != "https://mail.google.com/" || e.Schemes != "bearer mac" {
		t.Fatalf("ServerError() = %+v", e)
	}
	if _, err := XOAuth2("a\x01b", "t").Start(); err == nil {
		t.Fatalf("Start() with ^A in username: no error")
	}
}

func TestOAuthBearer(t *testing.T) {
	tests := []struct {
		user, token, host string
		port              int
		want              string
	}{
		// RFC 7628 section 4.1 (the example uses host server.example.com, port 143).
		{"user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com", 143,
			"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"},
		{"", "tok", "", 0, "n,,\x01auth=Bearer tok\x01\x01"},
		{"a=b,c", "tok", "", 993, "n,a=a=3Db=2Cc,\x01port=993\x01auth=Bearer tok\x01\x01"},
	}
	for _, tt := range tests {
		m := OAuthBearer(tt.user, tt.token, tt.host, tt.port)
		ir, err := m.Start()
		if err != nil || string(ir) != tt.want {
			t.Fatalf("OAuthBearer(%q, %q, %q, %d).Start() = %q, %v, want %q", tt.user, tt.token, tt.host, tt.port, ir, err, tt.want)
		}
	}
	m := OAuthBearer("u", "t", "", 0)
	m.Start()
	// RFC 7628 section 3.2.3: the error challenge is answered with ^A.
	resp, err := m.Next([]byte(`{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}`))
	if err != nil || string(resp) != "\x01" {
		t.Fatalf("Next(error) = %q, %v, want \\x01", resp, err)
	}
	e := m.(ServerErrorer).ServerError()
	if e == nil || e.Status != "invalid_token" || e.Scope != "example_scope" || e.OpenIDConfig != "https://example.com/.well-known/openid-configuration" {
		t.Fatalf("ServerError() = %+v", e)
	}
	if _, err := m.Next([]byte("x")); !errors.Is(err, ErrUnexpectedChallenge) {
		t.Fatalf("second Next() error = %v, want ErrUnexpectedChallenge", err)
	}
	// A challenge that is not JSON still yields an error value.
	m2 := OAuthBearer("u", "t", "", 0)
	m2.Next([]byte("garbage"))
	if e := m2.(ServerErrorer).ServerError(); e == nil || e.Status != "unknown" || e.Raw != "garbage" {
		t.Fatalf("ServerError() after non-JSON challenge = %+v", e)
	}
}
