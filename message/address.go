package message

import (
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Address is one mailbox address of a header field such as From or To. The
// expr tags name its fields in rule expressions: name, addr, local and
// domain.
type Address struct {
	Name   string `expr:"name"`   // display name, decoded; may be empty
	Addr   string `expr:"addr"`   // local@domain as written (domain lower-cased)
	Local  string `expr:"local"`  // part before the last @
	Domain string `expr:"domain"` // part after the last @, lower-case
}

// String formats the address as "Name <addr>" or just addr.
func (a Address) String() string {
	if a.Name == "" {
		return a.Addr
	}
	return a.Name + " <" + a.Addr + ">"
}

// AddressList parses an address-list field value (RFC 5322 section 3.4),
// groups included, and decodes the display names (RFC 2047, RFC 6532). When
// the strict parser gives up it falls back to a lenient split on commas, so
// a malformed field yields whatever addresses can be recognised and never
// an error. It returns nil for an empty value.
func (d *Decoder) AddressList(raw string) []Address {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	if list, ok := simpleAddressList(raw, d); ok {
		return list
	}
	p := mail.AddressParser{WordDecoder: &d.wd}
	if list, err := p.ParseList(raw); err == nil {
		out := make([]Address, 0, len(list))
		for _, a := range list {
			out = append(out, makeAddress(a.Name, a.Address))
		}
		return out
	}
	var out []Address
	for _, part := range splitAddressList(raw) {
		if a, ok := lenientAddress(part, &p, d); ok {
			out = append(out, a)
		}
	}
	return out
}

// makeAddress splits addr at its last '@' and lower-cases the domain.
func makeAddress(name, addr string) Address {
	addr = strings.TrimSpace(addr)
	a := Address{Name: strings.TrimSpace(name), Addr: addr, Local: addr}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		a.Local = addr[:i]
		a.Domain = strings.ToLower(addr[i+1:])
		a.Addr = a.Local + "@" + a.Domain
	}
	return a
}

// splitAddressList splits at commas and semicolons that are outside quoted
// strings, comments and angle brackets, dropping group names ("team: a, b;").
func splitAddressList(s string) []string {
	var parts []string
	var quoted, angle bool
	depth := 0
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (quoted || depth > 0):
			i++
		case quoted:
			if c == '"' {
				quoted = false
			}
		case c == '"':
			// An unterminated quote is taken literally.
			quoted = strings.IndexByte(s[i+1:], '"') >= 0
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			// Only a bracket that closes before the next one opens counts.
			rest := s[i+1:]
			closeAt, nextOpen := strings.IndexByte(rest, '>'), strings.IndexByte(rest, '<')
			angle = closeAt >= 0 && (nextOpen < 0 || closeAt < nextOpen)
		case c == '>':
			angle = false
		case angle:
		case c == ':':
			// A group name: whatever came before is not an address.
			start = i + 1
		case c == ',' || c == ';':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		parts = append(parts, s[start:])
	}
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// lenientAddress makes the best of one malformed address.
func lenientAddress(part string, p *mail.AddressParser, dec *Decoder) (Address, bool) {
	if a, err := p.Parse(part); err == nil {
		return makeAddress(a.Name, a.Address), true
	}
	if i := strings.LastIndexByte(part, '<'); i >= 0 {
		addr := part[i+1:]
		if j := strings.IndexByte(addr, '>'); j >= 0 {
			addr = addr[:j]
		}
		name := cleanName(part[:i], dec)
		addr = strings.Trim(strings.TrimSpace(addr), `"'`)
		if addr == "" || strings.HasPrefix(addr, "@") {
			return Address{}, false
		}
		return makeAddress(name, addr), true
	}
	fields := strings.Fields(part)
	for k, f := range fields {
		if strings.Contains(f, "@") {
			addr := strings.Trim(f, `<>"'(),;`)
			if strings.HasPrefix(addr, "@") {
				continue
			}
			name := cleanName(strings.Join(append(append([]string{}, fields[:k]...), fields[k+1:]...), " "), dec)
			return makeAddress(name, addr), true
		}
	}
	if len(fields) == 1 {
		// A bare local part such as MAILER-DAEMON.
		return makeAddress("", strings.Trim(fields[0], `<>"'(),;`)), true
	}
	return Address{}, false
}

// cleanName trims quotes and comment parentheses from a display name and
// decodes encoded words.
func cleanName(s string, dec *Decoder) string {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, `"`)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "("), ")"))
	s = strings.ReplaceAll(s, `\"`, `"`)
	return dec.Text(s)
}

// simpleAddressList parses the common shapes quickly: addr, Name <addr>,
// "Name" <addr>, separated by commas. ok is false for anything else
// (comments, groups, quoted local parts, escapes), which the full parser
// then handles.
func simpleAddressList(raw string, dec *Decoder) ([]Address, bool) {
	if strings.ContainsAny(raw, "():;\\[]") {
		return nil, false
	}
	n := strings.Count(raw, ",") + 1
	out := make([]Address, 0, n)
	for raw != "" {
		var part string
		if strings.IndexByte(raw, '"') >= 0 {
			// Split at the first comma outside quotes.
			quoted, cut := false, -1
			for i := 0; i < len(raw); i++ {
				switch raw[i] {
				case '"':
					quoted = !quoted
				case ',':
					if !quoted && cut < 0 {
						cut = i
					}
				}
				if cut >= 0 {
					break
				}
			}
			if quoted {
				return nil, false
			}
			if cut < 0 {
				part, raw = raw, ""
			} else {
				part, raw = raw[:cut], raw[cut+1:]
			}
		} else if i := strings.IndexByte(raw, ','); i >= 0 {
			part, raw = raw[:i], raw[i+1:]
		} else {
			part, raw = raw, ""
		}
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, false
		}
		name, addr := "", part
		if lt := strings.IndexByte(part, '<'); lt >= 0 {
			if !strings.HasSuffix(part, ">") {
				return nil, false
			}
			name, addr = strings.TrimSpace(part[:lt]), part[lt+1:len(part)-1]
			if strings.HasPrefix(name, `"`) {
				if len(name) < 2 || !strings.HasSuffix(name, `"`) {
					return nil, false
				}
				name = name[1 : len(name)-1]
			}
			if strings.ContainsAny(name, `"<>`) {
				return nil, false
			}
		}
		if !simpleAddrSpec(addr) {
			return nil, false
		}
		if strings.Contains(name, "=?") {
			name = dec.Text(name)
		} else if !utf8.ValidString(name) {
			return nil, false
		}
		out = append(out, makeAddress(name, addr))
	}
	return out, true
}

// simpleAddrSpec accepts local@domain made of printable ASCII without
// spaces, quotes or brackets (RFC 5322 section 3.4.1 dot-atoms).
func simpleAddrSpec(a string) bool {
	at := strings.IndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.IndexByte(a[at+1:], '@') >= 0 {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == ',' {
			return false
		}
	}
	return true
}
