package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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
