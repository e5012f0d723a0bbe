package sasl

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
)

// cramMD5 is the CRAM-MD5 mechanism (RFC 2195).
type cramMD5 struct {
	username, secret string
	done             bool
}

// CRAMMD5 returns the CRAM-MD5 mechanism (RFC 2195), imaplib's
// login_cram_md5: the server sends a challenge and the client answers with
// its username and the keyed MD5 digest (HMAC-MD5, RFC 2104) of the
// challenge under the password. The password itself never crosses the
// wire, so the mechanism is allowed without TLS (SafeWithoutTLS), although
// an eavesdropper can still attack the digest offline.
func CRAMMD5(username, password string) Mechanism {
	return &cramMD5{username: username, secret: password}
}

func (m *cramMD5) Name() string { return "CRAM-MD5" }

// Start returns no initial response: the server speaks first (RFC 2195 section 2).
func (m *cramMD5) Start() ([]byte, error) { return nil, nil }

// Next answers the challenge with "username SP hex(HMAC-MD5(password, challenge))".
func (m *cramMD5) Next(challenge []byte) ([]byte, error) {
	if m.done {
		return nil, ErrUnexpectedChallenge
	}
	m.done = true
	mac := hmac.New(md5.New, []byte(m.secret))
	mac.Write(challenge)
	resp := make([]byte, 0, len(m.username)+1+2*md5.Size)
	resp = append(resp, m.username...)
	resp = append(resp, ' ')
	return hex.AppendEncode(resp, mac.Sum(nil)), nil
}

// SafeWithoutTLS reports true: CRAM-MD5 never sends the password.
func (m *cramMD5) SafeWithoutTLS() bool { return true }
