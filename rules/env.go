package rules

import (
	"strings"
	"time"

	"github.com/mailrules/mailrules/message"
)

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
	dec    *message.Decoder
	body   bodyLimit
	hdr    message.Header
	parsed bool // hdr filled

	// cached values, boxed once so that repeated reads do not allocate
	cache [numVars]any
	// decoded single header values by name, for header()/hasHeader()
	hcache []headerCacheEntry

	bodyDone    bool
	bodyText    string
	attachments []message.Attachment
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
	e.hdr.Reset()
	clear(e.cache[:])
	clear(e.hcache)
	e.hcache = e.hcache[:0]
	e.bodyDone = false
	e.bodyText = ""
	e.attachments = nil
}

func (e *evalEnv) headers() *message.Header {
	if !e.parsed {
		raw := e.msg.Header
		if len(raw) == 0 && len(e.msg.Raw) > 0 {
			raw, _ = message.SplitHeader(e.msg.Raw)
		}
		e.hdr.ParseInPlace(raw)
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
	raw, ok := e.headers().Lookup(name)
	v := ""
	if ok {
		v = e.dec.Text(raw)
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
	raws := e.headers().Values(name)
	vs := make([]string, len(raws))
	for i, raw := range raws {
		vs[i] = e.dec.Text(raw)
	}
	var boxed any = vs
	e.hcache = append(e.hcache, headerCacheEntry{name: name, value: boxed, all: true})
	return boxed
}

func (e *evalEnv) addresses(field string) []message.Address {
	h := e.headers()
	var out []message.Address
	for _, raw := range h.Values(field) {
		out = append(out, e.dec.AddressList(raw)...)
	}
	if out == nil {
		out = []message.Address{}
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
	e.bodyText, e.attachments = e.dec.Body(e.msg.Raw, int(e.body))
	if e.attachments == nil {
		e.attachments = []message.Attachment{}
	}
}
