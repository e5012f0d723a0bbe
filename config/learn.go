package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// Learn says how an account teaches classifiers from the user's own moves
// (its [account.learn] table): a message the user moves into Junk is
// learned as spam, one moved out of Junk into a Ham folder as ham.
type Learn struct {
	Junk        string   // the junk mailbox, "/"-separated
	Ham         []string // mailboxes that count as ham, "/"-separated
	Classifiers []string // the classifiers taught, by name
}

// Mailboxes returns Junk and then the Ham folders.
func (l *Learn) Mailboxes() []string {
	if l == nil {
		return nil
	}
	return append([]string{l.Junk}, l.Ham...)
}

// IsJunk reports whether mailbox is the junk folder (INBOX compares
// case-insensitively).
func (l *Learn) IsJunk(mailbox string) bool {
	return l != nil && imap.MailboxEqual(l.Junk, mailbox)
}

// IsHam reports whether mailbox is one of the ham folders.
func (l *Learn) IsHam(mailbox string) bool {
	if l == nil {
		return false
	}
	for _, h := range l.Ham {
		if imap.MailboxEqual(h, mailbox) {
			return true
		}
	}
	return false
}

// fileLearn is the shape of an [account.learn] table.
type fileLearn struct {
	Junk        string     `toml:"junk"`
	Ham         stringList `toml:"ham"`
	Classifiers stringList `toml:"classifiers"`
}

// learn decodes an account's learn table. The classifier names are
// checked against the [[classifier]] tables by checkLearnClassifiers.
func (l *loader) learn(i int, name string, p toml.Primitive) *Learn {
	var fl fileLearn
	label := fmt.Sprintf("account[%d].learn", i)
	if !l.decodeTable(p, reflect.ValueOf(&fl).Elem(), toml.Key{"account", "learn"}, label) {
		return nil
	}
	lr := &Learn{Junk: fl.Junk, Ham: fl.Ham, Classifiers: fl.Classifiers}
	if l.hasTypeError(label) {
		return lr
	}
	if lr.Junk == "" {
		l.accountProblem(i, name, "learn", `learn: missing junk (the folder whose new arrivals are learned as spam), e.g. junk = "Junk"`)
	}
	if len(lr.Classifiers) == 0 {
		l.accountProblem(i, name, "learn", `learn: missing classifiers (which [[classifier]] to teach), e.g. classifiers = ["rspamd"]`)
	}
	for k, h := range lr.Ham {
		switch {
		case h == "":
			l.accountProblem(i, name, fmt.Sprintf("learn.ham[%d]", k), "learn: empty mailbox name in ham")
		case imap.MailboxEqual(h, lr.Junk):
			l.accountProblem(i, name, fmt.Sprintf("learn.ham[%d]", k), "learn: %q is the junk folder; it cannot count as ham too", h)
		}
	}
	return lr
}

// checkLearnClassifiers reports learn tables naming classifiers the
// configuration does not declare.
func (l *loader) checkLearnClassifiers(cfg *Config, known []string) {
	for i, a := range cfg.Accounts {
		if a.Learn == nil {
			continue
		}
		for k, c := range a.Learn.Classifiers {
			if !contains(known, c) {
				l.accountProblem(i, a.Name, fmt.Sprintf("learn.classifiers[%d]", k), "learn: unknown classifier %q%s", c, knownHint(c, known))
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// knownHint is a did-you-mean, or the list of names, for an unknown name.
func knownHint(name string, known []string) string {
	if s := rules.Closest(name, known); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	if len(known) == 0 {
		return " (no [[classifier]] is configured)"
	}
	return fmt.Sprintf(" (configured: %s)", strings.Join(known, ", "))
}
