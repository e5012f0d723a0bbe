// Package sasl defines the client side of SASL (RFC 4422) authentication
// mechanisms used by the IMAP AUTHENTICATE command (RFC 3501 section 6.2.2,
// with the initial response of RFC 4959 SASL-IR).
//
// A Mechanism is a small state machine: Start returns the optional initial
// response, then Next answers each server challenge until the server ends the
// exchange with a tagged response. Challenges and responses are raw bytes;
// the IMAP client does the base64 encoding. The interface covers
// challenge-response mechanisms (LOGIN, CRAM-MD5) as well as the token
// mechanisms whose error challenge must be answered (XOAUTH2, OAUTHBEARER).
package sasl

import "errors"

// Mechanism is one client authentication exchange. A Mechanism is used for a
// single exchange and is not safe for concurrent use.
type Mechanism interface {
	// Name is the IANA-registered mechanism name, e.g. "PLAIN".
	Name() string
	// Start begins the exchange. ir is the initial response: nil means the
	// mechanism has none (the client waits for a first challenge), a non-nil
	// empty slice is an empty initial response (sent as "=" with SASL-IR).
	Start() (ir []byte, err error)
	// Next answers a server challenge. An error aborts the exchange (the
	// client sends "*", RFC 3501 section 6.2.2).
	Next(challenge []byte) (response []byte, err error)
}

// SafeWithoutTLS is implemented by mechanisms that never send a reusable
// secret (CRAM-MD5, for example) and so may be used over an unencrypted
// connection. Mechanisms that do not implement it, or return false, are
// refused on an unencrypted non-loopback connection unless the client is
// told otherwise.
type SafeWithoutTLS interface {
	SafeWithoutTLS() bool
}

// ErrUnexpectedChallenge is returned by mechanisms that received a challenge
// they did not expect.
var ErrUnexpectedChallenge = errors.New("sasl: unexpected server challenge")
