package sieve

import (
	"sort"
	"strings"

	"github.com/mailrules/mailrules/message"
	"github.com/mailrules/mailrules/rules"
)

// envelopeFields are the header fields the envelope test reads: the
// delivering server's record of the envelope (RFC 5321 section 4.4 for
// Return-Path; Delivered-To and X-Original-To as Postfix, Exim and Dovecot
// write them).
var envelopeFields = []string{"RETURN-PATH", "DELIVERED-TO", "X-ORIGINAL-TO"}

// scriptNeeds walks a script and what it includes for what they read.
func scriptNeeds(s *Script) rules.Needs {
	w := &needsWalker{headers: map[string]bool{}, seen: map[*Script]bool{}}
	w.script(s)
	n := w.n
	for h := range w.headers {
		n.Headers = append(n.Headers, h)
	}
	sort.Strings(n.Headers)
	return n
}

type needsWalker struct {
	n       rules.Needs
	headers map[string]bool
	seen    map[*Script]bool
}

func (w *needsWalker) script(s *Script) {
	if w.seen[s] {
		return
	}
	w.seen[s] = true
	if s.caps["imap4flags"] {
		w.n.Flags = true
	}
	w.nodes(s.cmds, s)
}

func (w *needsWalker) nodes(list []*node, s *Script) {
	for _, n := range list {
		w.node(n, s)
	}
}

func (w *needsWalker) node(n *node, s *Script) {
	for _, b := range n.branches {
		if b.test != nil {
			w.node(b.test, s)
		}
		w.nodes(b.block, s)
	}
	w.nodes(n.tests, s)
	switch n.name {
	case "header", "address", "exists", "date":
		for _, str := range n.args[0].Strs {
			if s.caps["variables"] && strings.Contains(str.Value, "${") {
				w.n.AllHeaders = true
				continue
			}
			w.headers[strings.ToUpper(str.Value)] = true
		}
	case "envelope":
		for _, h := range envelopeFields {
			w.headers[h] = true
		}
	case "size":
		w.n.Size = true
	case "body":
		w.n.Body = true
	case "mailboxexists":
		w.n.Mailboxes = true
	case "spamtest":
		for _, h := range message.SpamScoreFields() {
			w.headers[h] = true
		}
	case "include":
		if n.include != nil {
			w.script(n.include)
		}
	}
}
