package gmailfilter

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// precedence of a piece of expr code, to know when it needs parentheses.
type precedence int

const (
	precOr   precedence = iota // a || b
	precAnd                    // a && b
	precCmp                    // a > b, a == b
	precAtom                   // a call, a name, !a
)

// code is a translated piece of a condition.
type code struct {
	src  string
	prec precedence
}

// wrap returns c's source, in parentheses when it binds looser than prec.
func (c code) wrap(prec precedence) string {
	if c.prec < prec {
		return "(" + c.src + ")"
	}
	return c.src
}

// Untranslatable is a search term that mailrules cannot express.
type Untranslatable struct {
	Term   string // as written in Gmail syntax
	Reason string
}

// Error returns "TERM: REASON".
func (u *Untranslatable) Error() string { return u.Term + ": " + u.Reason }

// condition turns parsed Gmail searches into one expr condition.
type condition struct {
	opts    *Options
	me      string // the export's author address, for from:me and to:me
	missing []*Untranslatable
}

// translate returns the expr code of n. Terms it cannot express are
// recorded in c.missing and stand in the code as UNTRANSLATED("term"),
// which does not compile: such a rule is only ever written commented out.
func (c *condition) translate(n Node) code {
	switch n := n.(type) {
	case Term:
		return c.term(n)
	case And:
		return c.join(n, " && ", precAnd)
	case Or:
		return c.join(n, " || ", precOr)
	case Not:
		return code{"!" + c.translate(n.X).wrap(precAtom), precAtom}
	}
	return code{"true", precAtom}
}

func (c *condition) join(ns []Node, sep string, prec precedence) code {
	parts := make([]string, len(ns))
	for i, x := range ns {
		parts[i] = c.translate(x).wrap(prec + 1)
	}
	return code{strings.Join(parts, sep), prec}
}

// untranslated records t as missing and returns its placeholder.
func (c *condition) untranslated(t Term, format string, args ...any) code {
	c.missing = append(c.missing, &Untranslatable{Term: t.String(), Reason: fmt.Sprintf(format, args...)})
	return code{"UNTRANSLATED(" + quote(t.String()) + ")", precAtom}
}

// quote writes s as an expr string literal.
func quote(s string) string { return strconv.Quote(s) }

// atom wraps a formatted call or name.
func atom(format string, args ...any) code { return code{fmt.Sprintf(format, args...), precAtom} }

// compare wraps a formatted comparison.
func compare(format string, args ...any) code { return code{fmt.Sprintf(format, args...), precCmp} }

// term translates one search term.
func (c *condition) term(t Term) code {
	v := t.Value
	switch t.Op {
	case "":
		if !t.Quoted && v == "AROUND" {
			return c.untranslated(t, "AROUND (words near each other) has no counterpart in mailrules")
		}
		if len(v) > 1 && v[0] == '+' && !t.Quoted {
			v = v[1:] // +word: this very word, which substrings approximate anyway
		}
		return c.words(v)
	case "from":
		return c.address(t, "from")
	case "to":
		// Gmail's to: also finds the Cc and Bcc recipients.
		return c.address(t, "recipients")
	case "cc", "bcc":
		return c.address(t, t.Op)
	case "subject":
		return c.text("subject", v)
	case "list":
		// list:info@example.org finds List-Id: <info.example.org>.
		return atom("icontains(listId, %s)", quote(strings.ToLower(strings.ReplaceAll(v, "@", "."))))
	case "filename":
		return atom("any(attachments, icontains(.filename, %s))", quote(v))
	case "deliveredto":
		return atom(`any(headers("Delivered-To"), icontains(#, %s))`, quote(v))
	case "rfc822msgid":
		return compare("messageId == %s", quote(strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")))
	case "has":
		if strings.EqualFold(v, "attachment") {
			return compare("len(attachments) > 0")
		}
		return c.untranslated(t, "Gmail's has:%s has no counterpart over IMAP", v)
	case "is":
		switch strings.ToLower(v) {
		case "unread":
			return atom("!seen")
		case "read":
			return atom("seen")
		case "starred":
			return atom("flagged")
		}
		return c.untranslated(t, "Gmail's is:%s has no counterpart over IMAP", v)
	case "in":
		if strings.EqualFold(v, "inbox") {
			return atom(`iequals(mailbox, "INBOX")`)
		}
		return c.untranslated(t, "in:%s: a filter sees new mail, which is in the inbox", v)
	case "label", "category":
		return c.untranslated(t, "a message's Gmail labels and categories are not visible to a rule")
	case "larger", "size", "smaller":
		n, err := parseSize(v)
		if err != nil {
			return c.untranslated(t, "%v", err)
		}
		op := ">"
		if t.Op == "smaller" {
			op = "<"
		}
		return compare("size %s %s", op, n)
	case "older_than", "newer_than":
		d, err := parseRelative(v)
		if err != nil {
			return c.untranslated(t, "%v", err)
		}
		if t.Op == "older_than" {
			return atom("olderThan(%s)", quote(d))
		}
		return atom("newerThan(%s)", quote(d))
	case "after", "newer", "before", "older":
		day, err := parseDay(v)
		if err != nil {
			return c.untranslated(t, "%v", err)
		}
		if t.Op == "after" || t.Op == "newer" {
			return compare("internalDate >= date(%s)", quote(day))
		}
		return compare("internalDate < date(%s)", quote(day))
	}
	return c.untranslated(t, "unknown operator")
}

// words matches a word or phrase where Gmail looks for plain words: the
// Subject, the sender's name and address, and (unless Options.NoBody) the
// text of the message.
func (c *condition) words(v string) code {
	q := quote(v)
	parts := []string{
		c.text("subject", v).wrap(precOr + 1),
		fmt.Sprintf("any(from, icontains(.name, %s) || icontains(.addr, %s))", q, q),
	}
	if !c.opts.NoBody {
		parts = append(parts, c.text("body", v).wrap(precOr+1))
	}
	return code{strings.Join(parts, " || "), precOr}
}

// wordBoundary is what separates words: anything but a letter, a digit
// or a combining mark.
const wordBoundary = `[^\pL\pN\pM]`

// text matches the words of v, in order and as whole words, in the string
// variable name (subject, body), ignoring case, as Gmail matches words:
// punctuation between them does not matter ("O'Reilly" finds "O Reilly"),
// and "sale" does not find "wholesale". A v without letters or digits is
// looked for as it is.
func (c *condition) text(name, v string) code {
	words := strings.FieldsFunc(v, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
	if len(words) == 0 {
		return atom("icontains(%s, %s)", name, quote(v))
	}
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	pattern := "(?i)(^|" + wordBoundary + ")" + strings.Join(words, wordBoundary+"+") + "(" + wordBoundary + "|$)"
	return compare("%s matches %s", name, quote(pattern))
}

// address matches the address list list (from, recipients, cc, bcc): a
// whole address exactly, @domain by domain, anything else as a part of a
// name or address, as Gmail does; "me" is the export's owner.
func (c *condition) address(t Term, list string) code {
	// "Name <a@b.c>" pasted into the From field, or a list with commas.
	v := strings.Trim(t.Value, "<>,;")
	if v == "" {
		v = t.Value
	}
	if strings.EqualFold(v, "me") && !t.Quoted {
		if c.me == "" {
			return c.untranslated(t, "the export names no owner for \"me\"")
		}
		v = c.me
	}
	local, domain, ok := strings.Cut(v, "@")
	switch {
	case ok && local != "" && domain != "" && !strings.ContainsAny(v, " *"):
		return atom("any(%s, iequals(.addr, %s))", list, quote(v))
	case ok && local == "" && domain != "":
		return atom("any(%s, iequals(.domain, %s))", list, quote(domain))
	}
	q := quote(v)
	return atom("any(%s, icontains(.name, %s) || icontains(.addr, %s))", list, q, q)
}

// parseSize reads a Gmail size (larger:10M, smaller:500K, size:12345)
// into expr code: kb(n), mb(n) or a number of bytes.
func parseSize(s string) (string, error) {
	num := strings.TrimRight(s, "kKmMbB")
	unit := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "b"), "B"))
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || len(unit) > 1 {
		return "", fmt.Errorf("size %q: want a number of bytes, or a number and K or M", s)
	}
	switch unit {
	case "k":
		return fmt.Sprintf("kb(%d)", n), nil
	case "m":
		return fmt.Sprintf("mb(%d)", n), nil
	}
	return strconv.Itoa(n), nil
}

// parseRelative reads Gmail's older_than/newer_than value (3d, 2m, 1y)
// into mailrules' duration syntax, where m means minutes: a Gmail month
// becomes 30 days.
func parseRelative(s string) (string, error) {
	if len(s) < 2 {
		return "", fmt.Errorf("age %q: want a number and d, m or y", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 0 {
		return "", fmt.Errorf("age %q: want a number and d, m or y", s)
	}
	switch s[len(s)-1] {
	case 'd', 'D':
		return fmt.Sprintf("%dd", n), nil
	case 'm', 'M':
		return fmt.Sprintf("%dd", 30*n), nil
	case 'y', 'Y':
		return fmt.Sprintf("%dy", n), nil
	}
	return "", fmt.Errorf("age %q: unknown unit %q (want d, m or y)", s, s[len(s)-1:])
}

// parseDay reads a Gmail date (2024/01/31, 2024-01-31, 01/31/2024) or a
// Unix time in seconds into the form expr's date() reads, in UTC.
func parseDay(s string) (string, error) {
	for _, layout := range []string{"2006/1/2", "2006-1-2", "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02"), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Unix(n, 0).UTC().Format(time.RFC3339), nil
	}
	return "", fmt.Errorf("date %q: want YYYY/MM/DD, MM/DD/YYYY or seconds since 1970", s)
}

// Condition translates a Gmail search into an expr condition for a
// rule's when. owner is the address "me" stands for ("" for none). The
// error is a *SyntaxError, or one *Untranslatable per term mailrules
// cannot express (errors.Join). A blank search is "true".
func Condition(search, owner string, opts *Options) (string, error) {
	if opts == nil {
		opts = &Options{}
	}
	n, err := Parse(search)
	if err != nil {
		return "", err
	}
	if n == nil {
		return "true", nil
	}
	c := &condition{opts: opts, me: owner}
	src := c.translate(n).src
	if len(c.missing) > 0 {
		errs := make([]error, len(c.missing))
		for i, m := range c.missing {
			errs[i] = m
		}
		return "", errors.Join(errs...)
	}
	return src, nil
}
