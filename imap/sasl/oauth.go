package sasl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// OAuthError is the error a server reports in the challenge of a failed
// XOAUTH2 or OAUTHBEARER exchange (RFC 7628 section 3.2.2), a JSON object
// such as {"status":"invalid_token","scope":"..."}.
type OAuthError struct {
	Status       string `json:"status"`                         // e.g. "invalid_token", or "401" (Gmail's XOAUTH2)
	Schemes      string `json:"schemes,omitempty"`              // XOAUTH2: e.g. "Bearer"
	Scope        string `json:"scope,omitempty"`                // the scope the token would need
	OpenIDConfig string `json:"openid-configuration,omitempty"` // where to discover the authorization server
	Raw          string `json:"-"`                              // the challenge as received
}

// Error describes the rejection with the server's status and scope.
func (e *OAuthError) Error() string {
	msg := "sasl: server rejected the OAuth token: status " + strconv.Quote(e.Status)
	if e.Scope != "" {
		msg += ", scope " + strconv.Quote(e.Scope)
	}
	return msg
}

// ServerErrorer is implemented by the OAuth mechanisms: after a failed
// Authenticate, ServerError returns the error the server described in its
// challenge, or nil if it sent none.
type ServerErrorer interface {
	ServerError() *OAuthError
}

func parseOAuthError(challenge []byte) *OAuthError {
	e := &OAuthError{Raw: string(challenge)}
	if err := json.Unmarshal(challenge, e); err != nil || e.Status == "" {
		e.Status = "unknown"
	}
	return e
}

// xoauth2 is Google's and Microsoft's XOAUTH2 mechanism.
type xoauth2 struct {
	username, token string
	err             *OAuthError
}

// XOAuth2 returns the XOAUTH2 mechanism (Google, Microsoft): the initial
// response is "user=" username ^A "auth=Bearer " token ^A ^A. When the
// server rejects the token it sends a JSON error as a challenge; the
// client answers with an empty response, the server ends the exchange
// with NO, and the JSON is kept for ServerError.
func XOAuth2(username, token string) Mechanism {
	return &xoauth2{username: username, token: token}
}

func (m *xoauth2) Name() string { return "XOAUTH2" }

func (m *xoauth2) Start() ([]byte, error) {
	if strings.ContainsRune(m.username, '\x01') || strings.ContainsRune(m.token, '\x01') {
		return nil, fmt.Errorf("sasl: XOAUTH2: username or token contains ^A")
	}
	return []byte("user=" + m.username + "\x01auth=Bearer " + m.token + "\x01\x01"), nil
}

// Next answers the error challenge with an empty response.
func (m *xoauth2) Next(challenge []byte) ([]byte, error) {
	if m.err != nil {
		return nil, ErrUnexpectedChallenge
	}
	m.err = parseOAuthError(challenge)
	return []byte{}, nil
}

// ServerError returns the JSON error the server sent, nil if none.
func (m *xoauth2) ServerError() *OAuthError { return m.err }

// oauthBearer is the OAUTHBEARER mechanism of RFC 7628.
type oauthBearer struct {
	username, token, host string
	port                  int
	err                   *OAuthError
}

// OAuthBearer returns the OAUTHBEARER mechanism (RFC 7628 section 3.1).
// The initial response is the GS2 header "n,a=" username "," followed by
// ^A "host=" host ^A "port=" port ^A "auth=Bearer " token ^A ^A; host
// and port are left out when empty or zero. When the server rejects the
// token it sends a JSON error challenge (section 3.2.2), which the client
// answers with ^A (section 3.2.3) and keeps for ServerError.
func OAuthBearer(username, token, host string, port int) Mechanism {
	return &oauthBearer{username: username, token: token, host: host, port: port}
}

func (m *oauthBearer) Name() string { return "OAUTHBEARER" }

func (m *oauthBearer) Start() ([]byte, error) {
	for _, s := range []string{m.username, m.token, m.host} {
		if strings.ContainsRune(s, '\x01') {
			return nil, fmt.Errorf("sasl: OAUTHBEARER: argument contains ^A")
		}
	}
	var sb strings.Builder
	sb.WriteString("n,")
	if m.username != "" {
		// RFC 5801 section 4: saslname escapes "," and "=".
		sb.WriteString("a=")
		sb.WriteString(strings.NewReplacer("=", "=3D", ",", "=2C").Replace(m.username))
	}
	sb.WriteString(",\x01")
	if m.host != "" {
		sb.WriteString("host=" + m.host + "\x01")
	}
	if m.port != 0 {
		sb.WriteString("port=" + strconv.Itoa(m.port) + "\x01")
	}
	sb.WriteString("auth=Bearer " + m.token + "\x01\x01")
	return []byte(sb.String()), nil
}

// Next answers the error challenge with the dummy response ^A.
func (m *oauthBearer) Next(challenge []byte) ([]byte, error) {
	if m.err != nil {
		return nil, ErrUnexpectedChallenge
	}
	m.err = parseOAuthError(challenge)
	return []byte{'\x01'}, nil
}

// ServerError returns the JSON error the server sent, nil if none.
func (m *oauthBearer) ServerError() *OAuthError { return m.err }
