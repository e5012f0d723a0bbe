package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Secret says where a password or token comes from. It never holds the
// value except for a plaintext password written in the config file, and
// its String, GoString and MarshalText methods never reveal that value.
type Secret struct {
	Env     string   // an environment variable
	File    string   // a file; a final newline is dropped
	Command []string // a command's standard output, first line; ["sh","-c",s] for a string

	value string // plaintext from the config file
	plain bool
}

// String describes the source without the value, e.g. "env:MAILRULES_PASSWORD".
func (s Secret) String() string {
	switch {
	case s.plain:
		return "plaintext:<redacted>"
	case s.Env != "":
		return "env:" + s.Env
	case s.File != "":
		return "file:" + s.File
	case len(s.Command) > 0:
		return "command:" + strings.Join(s.Command, " ")
	}
	return "none"
}

// GoString implements fmt.GoStringer so that %#v does not reveal the value either.
func (s Secret) GoString() string { return "engine.Secret(" + s.String() + ")" }

// MarshalText implements encoding.TextMarshaler with the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Resolve returns the secret's value: it reads the environment variable or
// the file, or runs the command. The value is never logged; errors name
// the source, not the value.
func (s *Secret) Resolve(ctx context.Context) (string, error) {
	if s == nil {
		return "", errors.New("no secret configured")
	}
	switch {
	case s.plain:
		return s.value, nil
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	case s.File != "":
		data, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("read secret: %w", err)
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", s.File)
		}
		return v, nil
	case len(s.Command) > 0:
		return runSecretCommand(ctx, s.Command)
	}
	return "", errors.New("empty secret source")
}

// runSecretCommand runs argv and returns the first line of its output.
func runSecretCommand(ctx context.Context, argv []string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg != "" {
			return "", fmt.Errorf("secret command %s: %w: %s", argv[0], err, msg)
		}
		return "", fmt.Errorf("secret command %s: %w", argv[0], err)
	}
	v, _, _ := strings.Cut(stdout.String(), "\n")
	v = strings.TrimSuffix(v, "\r")
	if v == "" {
		return "", fmt.Errorf("secret command %s printed nothing", argv[0])
	}
	return v, nil
}

// OAuth2 says how to get an OAuth 2.0 access token for XOAUTH2 or
// OAUTHBEARER (RFC 7628): from a command (e.g. a helper that keeps tokens
// fresh), or by the refresh-token grant (RFC 6749 section 6) at TokenURL.
type OAuth2 struct {
	TokenCommand []string
	ClientID     string
	ClientSecret *Secret // optional for public clients
	RefreshToken *Secret
	TokenURL     string
	Scopes       []string
}

// Token returns a fresh access token. With the refresh-token grant it posts
// to TokenURL with client, a nil client meaning one with a 30 s timeout.
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
	refresh, err := o.RefreshToken.Resolve(ctx)
	if err != nil {
		return "", fmt.Errorf("oauth2 refresh_token: %w", err)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {o.ClientID}}
	if o.ClientSecret != nil {
		secret, err := o.ClientSecret.Resolve(ctx)
		if err != nil {
			return "", fmt.Errorf("oauth2 client_secret: %w", err)
		}
		form.Set("client_secret", secret)
	}
	if len(o.Scopes) > 0 {
		form.Set("scope", strings.Join(o.Scopes, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("oauth2 token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("oauth2 token request to %s: %w", o.TokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("oauth2 token response: %w", err)
	}
	// RFC 6749 section 5.1 (success) and 5.2 (error).
	var tr struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("oauth2 token response from %s (HTTP %d): not JSON", o.TokenURL, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		if tr.Error != "" {
			return "", fmt.Errorf("oauth2 token request to %s: %s: %s", o.TokenURL, tr.Error, tr.Description)
		}
		return "", fmt.Errorf("oauth2 token request to %s: HTTP %d without access_token", o.TokenURL, resp.StatusCode)
	}
	return tr.AccessToken, nil
}
