package rules

import (
	"strings"
	"time"
)

// Address is one mailbox address of a header such as From or To. In rule
// expressions its fields are name, addr, local and domain.
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

// Attachment describes a non-text part of a message. In rule expressions its
// fields are filename, contentType and size.
type Attachment struct {
	Filename    string `expr:"filename"`    // decoded; may be empty
	ContentType string `expr:"contentType"` // lower-case media type, e.g. "application/pdf"
	Size        int    `expr:"size"`        // decoded size in bytes (of what was fetched)
}

// exprEnv is the type the conditions are checked against. Every message
// value is reached through a function of $env (the per-message state), which
// the patcher inserts, so that nothing is parsed before a rule asks for it.
// It has no fields: an unknown name is an error.
type exprEnv struct{}

// evalEnv is the per-message state: the message, the pass time and lazily
// computed, cached values. One evalEnv serves every rule of one Evaluate call.
type evalEnv struct {
	msg    *Message
	now    time.Time
	dec    *decoder
	body   bodyLimit
	hdr    headerIndex
	parsed bool // hdr filled

	// cached values, boxed once so that repeated reads do not allocate
	cache [numVars]any
	// decoded single header values by name, for header()/hasHeader()
	hcache []headerCacheEntry

	bodyDone    bool
	bodyText    string
	attachments []Attachment
}

type headerCacheEntry struct {
	name  string
	value any // string, or []string for headers()
	all   bool
}

// bodyLimit is the maximum size of the decoded body text.
type bodyLimit int

func (e *evalEnv) reset(msg *Message, now time.Time) {
	e.msg = msg
	e.now = now
	e.parsed = false
	e.hdr.reset()
	clear(e.cache[:])
	clear(e.hcache)
	e.hcache = e.hcache[:0]
	e.bodyDone = false
	e.bodyText = ""
	e.attachments = nil
}

func (e *evalEnv) headers() *headerIndex {
	if !e.parsed {
		raw := e.msg.Header
		if len(raw) == 0 && len(e.msg.Raw) > 0 {
			raw, _ = splitHeader(e.msg.Raw)
		}
		e.hdr.parseInPlace(raw)
		e.parsed = true
	}
	return &e.hdr
}

// headerValue returns the first value of the named field, unfolded and
// decoded (RFC 2047), or "" when absent.
func (e *evalEnv) headerValue(name string) string {
	for i := range e.hcache {
		if !e.hcache[i].all && strings.EqualFold(e.hcache[i].name, name) {
			return e.hcache[i].value.(string)
		}
	}
	raw, ok := e.headers().first(name)
	v := ""
	if ok {
		v = e.dec.decodeText(raw)
	}
	e.hcache = append(e.hcache, headerCacheEntry{name: name, value: v})
	return v
}

func (e *evalEnv) headerBoxed(name string) any {
	for i := range e.hcache {
		if !e.hcache[i].all && strings.EqualFold(e.hcache[i].name, name) {
			return e.hcache[i].value
		}
	}
	e.headerValue(name)
	return e.hcache[len(e.hcache)-1].value
}

// headerValues returns every value of the named field, decoded.
func (e *evalEnv) headerValues(name string) any {
	for i := range e.hcache {
		if e.hcache[i].all && strings.EqualFold(e.hcache[i].name, name) {
			return e.hcache[i].value
		}
	}
	raws := e.headers().all(name)
	vs := make([]string, len(raws))
	for i, raw := range raws {
		vs[i] = e.dec.decodeText(raw)
	}
	var boxed any = vs
	e.hcache = append(e.hcache, headerCacheEntry{name: name, value: boxed, all: true})
	return boxed
}

func (e *evalEnv) addresses(field string) []Address {
	h := e.headers()
	var out []Address
	for _, raw := range h.all(field) {
		out = append(out, parseAddressList(raw, e.dec)...)
	}
	if out == nil {
		out = []Address{}
	}
	return out
}

func (e *evalEnv) hasFlag(flag string) bool {
	for _, f := range e.msg.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

func (e *evalEnv) internalDate() time.Time {
	return e.msg.InternalDate
}

func (e *evalEnv) age() time.Duration {
	if e.msg.InternalDate.IsZero() {
		return 0
	}
	return e.now.Sub(e.msg.InternalDate)
}

func (e *evalEnv) loadBody() {
	if e.bodyDone {
		return
	}
	e.bodyDone = true
	e.bodyText, e.attachments = parseBody(e.msg.Raw, e.dec, int(e.body))
	if e.attachments == nil {
		e.attachments = []Attachment{}
	}
}
