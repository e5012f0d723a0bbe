package sasl

import "strings"

// login is the LOGIN mechanism (draft-murchison-sasl-login).
type login struct {
	username, password string
	step               int
}

// Login returns the LOGIN mechanism (draft-murchison-sasl-login): the
// server asks "Username:" and "Password:" and the client answers each in
// the clear. It has no initial response. Prefer PLAIN where offered.
func Login(username, password string) Mechanism {
	return &login{username: username, password: password}
}

func (l *login) Name() string { return "LOGIN" }

func (l *login) Start() ([]byte, error) { return nil, nil }

// Next answers the username prompt, then the password prompt. The prompts'
// text is only advisory (the draft says so), so the order decides, except
// that a prompt naming the password is always answered with it.
func (l *login) Next(challenge []byte) ([]byte, error) {
	l.step++
	prompt := strings.ToLower(string(challenge))
	switch {
	case strings.HasPrefix(prompt, "pass"):
		return []byte(l.password), nil
	case l.step == 1:
		return []byte(l.username), nil
	case l.step == 2:
		return []byte(l.password), nil
	}
	return nil, ErrUnexpectedChallenge
}
