package sasl

// plain is the PLAIN mechanism (RFC 4616).
type plain struct {
	identity, username, password string
}

// Plain returns the PLAIN mechanism (RFC 4616): the authorization identity
// (usually empty, meaning the same as username), username and password are
// sent in the clear inside the (TLS-protected) connection.
func Plain(identity, username, password string) Mechanism {
	return &plain{identity: identity, username: username, password: password}
}

func (p *plain) Name() string { return "PLAIN" }

func (p *plain) Start() ([]byte, error) {
	ir := make([]byte, 0, len(p.identity)+len(p.username)+len(p.password)+2)
	ir = append(ir, p.identity...)
	ir = append(ir, 0)
	ir = append(ir, p.username...)
	ir = append(ir, 0)
	ir = append(ir, p.password...)
	return ir, nil
}

// Next answers a server challenge. PLAIN has one message; a server that
// did not take the initial response sends an empty challenge first
// (RFC 4616 section 2 with RFC 3501 AUTHENTICATE), answered with it again.
func (p *plain) Next(challenge []byte) ([]byte, error) {
	if len(challenge) == 0 {
		return p.Start()
	}
	return nil, ErrUnexpectedChallenge
}
