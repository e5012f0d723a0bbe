package sieve

import (
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/mailrules/mailrules/message"
)

// test evaluates a test node.
func (r *run) test(sc *scope, n *node) (bool, error) {
	switch n.name {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "not":
		ok, err := r.test(sc, n.tests[0])
		return !ok, err
	case "allof", "anyof":
		all := n.name == "allof"
		for _, t := range n.tests {
			ok, err := r.test(sc, t)
			if err != nil {
				return false, err
			}
			if ok != all {
				return ok, nil
			}
		}
		return all, nil
	case "exists":
		for _, name := range r.strings(sc, n.args[0]) {
			if _, ok := r.hdr.Lookup(name); !ok {
				return false, nil
			}
		}
		return true, nil
	case "size":
		size := r.env.Size
		if size == 0 {
			size = int64(len(r.env.Raw))
		}
		if _, over := n.tags["over"]; over {
			return size > n.args[0].Num, nil
		}
		return size < n.args[0].Num, nil
	case "header":
		var values []string
		for _, name := range r.strings(sc, n.args[0]) {
			for _, v := range indexed(n, r.hdr.Values(name)) {
				values = append(values, r.dec.Text(v))
			}
		}
		return r.match(sc, n, values, r.strings(sc, n.args[1]))
	case "address":
		var values []string
		for _, name := range r.strings(sc, n.args[0]) {
			for _, v := range indexed(n, r.hdr.Values(name)) {
				for _, a := range r.addresses(v) {
					if p, ok := addressPart(n.addrPart, a); ok {
						values = append(values, p)
					}
				}
			}
		}
		return r.match(sc, n, values, r.strings(sc, n.args[1]))
	case "envelope":
		var values []string
		for _, part := range r.strings(sc, n.args[0]) {
			if v, ok := r.envelope(strings.ToLower(part)); ok {
				if p, ok := addressPart(n.addrPart, v); ok || v == "" {
					values = append(values, p)
				}
			}
		}
		return r.match(sc, n, values, r.strings(sc, n.args[1]))
	case "hasflag":
		var flags []string
		if n.hasFirst {
			for _, name := range r.strings(sc, n.args[0]) {
				flags = append(flags, splitFlags([]string{r.variable(sc, name)})...)
			}
		} else {
			flags = r.flags
		}
		return r.match(sc, n, flags, r.strings(sc, n.args[1]))
	case "string":
		var values []string
		for _, v := range r.strings(sc, n.args[0]) {
			if n.match != "count" || v != "" {
				values = append(values, v)
			}
		}
		return r.match(sc, n, values, r.strings(sc, n.args[1]))
	case "mailboxexists":
		for _, name := range r.strings(sc, n.args[0]) {
			if r.env.MailboxExists != nil && !r.env.MailboxExists(name) {
				return false, nil
			}
		}
		return true, nil
	case "spamtest":
		_, percent := n.tags["percent"]
		return r.match(sc, n, []string{r.spamValue(percent)}, r.strings(sc, n.args[0]))
	case "date":
		name := r.expand(sc, n.args[0].Strs[0].Value)
		var values []string
		if v := indexed(n, r.hdr.Values(name)); len(v) > 0 {
			if t, ok := parseDate(v[0]); ok {
				if _, orig := n.tags["originalzone"]; !orig {
					t = r.inZone(sc, n, t)
				}
				if v, ok := datePart(t, strings.ToLower(r.expand(sc, n.args[1].Strs[0].Value))); ok {
					values = append(values, v)
				}
			}
		}
		return r.match(sc, n, values, r.strings(sc, n.args[2]))
	case "currentdate":
		t := r.inZone(sc, n, r.env.Now)
		var values []string
		if v, ok := datePart(t, strings.ToLower(r.expand(sc, n.args[0].Strs[0].Value))); ok {
			values = append(values, v)
		}
		return r.match(sc, n, values, r.strings(sc, n.args[1]))
	case "body":
		return r.match(sc, n, r.body(sc, n), r.strings(sc, n.args[0]))
	}
	return false, fmt.Errorf("%s: test %s cannot be evaluated", n.pos, n.name)
}

// indexed picks the occurrence :index names (counting from the end with
// :last; RFC 5260 section 6), or keeps them all without :index; the date
// test without :index looks at the first.
func indexed(n *node, values []string) []string {
	ix, ok := n.tags["index"]
	if !ok {
		if n.name == "date" && len(values) > 1 {
			return values[:1]
		}
		return values
	}
	i := int(ix.Num) - 1
	if _, last := n.tags["last"]; last {
		i = len(values) - 1 - i
	}
	if i < 0 || i >= len(values) {
		return nil
	}
	return values[i : i+1]
}

// match compares the values against the keys with the node's comparator
// and match type, and on success sets the match variables
// (RFC 5229 section 3.2).
func (r *run) match(sc *scope, n *node, values, keys []string) (bool, error) {
	if n.match == "count" {
		return countMatch(n, len(values), keys), nil
	}
	for _, v := range values {
		for i, k := range keys {
			var re *regexp.Regexp
			if n.regex != nil && i < len(n.regex) {
				re = n.regex[i]
			}
			ok, caps, err := matchOne(n, n.comparator, v, k, re)
			if err != nil {
				return false, fmt.Errorf("%s: %s :regex %q: %w", n.pos, n.name, k, err)
			}
			if ok {
				if caps != nil && sc.s.caps["variables"] {
					r.matchVars = caps
				}
				return true, nil
			}
		}
	}
	return false, nil
}

// addresses returns the addresses of an address-list field as written
// (RFC 5322 section 3.4), the case of their domains kept, so that
// i;octet sees what the message says. A field with no address in it (an
// empty group such as "undisclosed-recipients:;", or no address at all)
// yields its whole value, which only :all can match, as in Pigeonhole
// (RFC 5228 section 2.7.4).
func (r *run) addresses(v string) []string {
	var out []string
	if list, err := mail.ParseAddressList(v); err == nil {
		for _, a := range list {
			out = append(out, a.Address)
		}
	} else {
		for _, a := range r.dec.AddressList(v) {
			out = append(out, a.Addr)
		}
	}
	if len(out) == 0 && strings.TrimSpace(v) != "" {
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

// addressPart picks :localpart, :domain or :all of an address
// (RFC 5228 section 2.7.4). ok is false for the local part or domain of
// something that is no address (no "@"): only :all can match it. A quoted
// local part is given unquoted, as Pigeonhole does.
func addressPart(part, addr string) (string, bool) {
	at := strings.LastIndexByte(addr, '@')
	switch part {
	case "localpart":
		if at < 0 {
			return "", false
		}
		return unquoteLocal(addr[:at]), true
	case "domain":
		if at < 0 {
			return "", false
		}
		return addr[at+1:], true
	}
	return addr, true
}

// unquoteLocal removes the quotes of a quoted-string local part
// (RFC 5322 section 3.4.1) and its backslash escapes.
func unquoteLocal(local string) string {
	if len(local) < 2 || local[0] != '"' || local[len(local)-1] != '"' {
		return local
	}
	var b strings.Builder
	for i := 1; i < len(local)-1; i++ {
		if local[i] == '\\' && i+1 < len(local)-1 {
			i++
		}
		b.WriteByte(local[i])
	}
	return b.String()
}

// envelope answers the envelope test from the header fields the delivering
// server left: from is Return-Path (RFC 5321 section 4.4), to is
// Delivered-To, else X-Original-To. ok is false when the field is absent.
func (r *run) envelope(part string) (string, bool) {
	var v string
	var ok bool
	switch part {
	case "from":
		v, ok = r.hdr.Lookup("Return-Path")
	case "to":
		if v, ok = r.hdr.Lookup("Delivered-To"); !ok {
			v, ok = r.hdr.Lookup("X-Original-To")
		}
	}
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
	return strings.TrimSpace(v), true
}

// spamMax is the score that maps onto spamtest 10 and :percent 100.
const spamMax = 10.0

// spamValue maps the spam score mailrules reads (X-Spam-Status,
// X-Spam-Score, X-Rspamd-Score) onto RFC 5235 as Pigeonhole does with
// sieve_spamtest_status_type = score and sieve_spamtest_max_value = 10:
// "0" when the message was not tested (no such field); else, of the score
// s clamped to 0..10, 1 + floor(9*s/10) (1 not spam .. 10 spam), and with
// :percent round(100*s/10). The score is held as a float32 first, as
// Pigeonhole holds it, so that a score such as 1.05 gives the same
// percentage.
func (r *run) spamValue(percent bool) string {
	tested := false
	for _, h := range message.SpamScoreFields() {
		if _, ok := r.hdr.Lookup(h); ok {
			tested = true
		}
	}
	if !tested {
		return "0"
	}
	score := float64(float32(math.Max(0, math.Min(message.SpamScore(r.hdr.Get), spamMax))))
	if percent {
		return strconv.Itoa(int(score/spamMax*100 + 0.5))
	}
	return strconv.Itoa(min(10, 1+int(score/spamMax*9)))
}

// body returns what a body test looks at (RFC 5173 section 5): with :raw
// the body as it is; with :content the parts of those media types ("text"
// a whole type, "text/plain" one subtype, "" every part), transfer
// encoding undone and text parts decoded from their charset; with :text,
// the default, the text of the message (its first text/plain part, or its
// first text/html part without the markup).
func (r *run) body(sc *scope, n *node) []string {
	if _, raw := n.tags["raw"]; raw {
		_, b := message.SplitHeader(r.env.Raw)
		return []string{string(b)}
	}
	if types, ok := n.tags["content"]; ok {
		want := r.strings(sc, types)
		var out []string
		for _, p := range r.dec.Parts(r.env.Raw, 0) {
			if !contentTypeIn(p.ContentType, want) {
				continue
			}
			if strings.HasPrefix(p.ContentType, "text/") {
				out = append(out, p.Text())
			} else {
				out = append(out, string(p.Body))
			}
		}
		return out
	}
	text, _ := r.dec.Body(r.env.Raw, 0)
	return []string{text}
}

// contentTypeIn reports whether a media type is one of the :content list.
func contentTypeIn(mediaType string, list []string) bool {
	for _, w := range list {
		w = strings.ToLower(strings.TrimSpace(w))
		major, _, _ := strings.Cut(mediaType, "/")
		if w == "" || w == mediaType || (!strings.Contains(w, "/") && w == major) {
			return true
		}
	}
	return false
}
