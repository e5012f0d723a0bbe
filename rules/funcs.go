package rules

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailrules/mailrules/message"
)

// varIndex numbers the message variables for the per-message cache.
type varIndex int

const (
	varSubject varIndex = iota
	varFrom
	varTo
	varCc
	varBcc
	varReplyTo
	varSender
	varRecipients
	varListID
	varListName
	varMessageID
	varDate
	varInternalDate
	varAge
	varNow
	varSize
	varFlags
	varSeen
	varAnswered
	varFlagged
	varDraft
	varMailbox
	varAccount
	varUID
	varBody
	varAttachments
	varSpamScore
	numVars
)

// need is what reading a variable or calling a function costs in fetches.
type need struct {
	headers      []string
	flags        bool
	internalDate bool
	size         bool
	body         bool
}

// variable is a message value that rules read by name (subject, from...).
type variable struct {
	name    string
	index   varIndex
	typ     any // a func(any) T value whose T is the variable's type
	need    need
	compute func(e *evalEnv) any
	doc     string
}

// function is a helper rules call (header("X"), days(3)...).
type function struct {
	name    string
	withEnv bool  // the patcher passes $env as the first argument
	types   []any // func types, without the env argument for withEnv functions
	need    need
	// headerArg: the first user argument names a header (header, headers, hasHeader)
	headerArg bool
	// durationArg: the first user argument is a duration string checked at compile time
	durationArg bool
	// classifierArg: the first user argument names a configured classifier (classify)
	classifierArg bool
	// globArg: the second argument is a glob pattern
	fn  func(e *evalEnv, args []any) (any, error)
	doc string
}

var (
	typString    = new(func(any) string)
	typAddresses = new(func(any) []message.Address)
	typTime      = new(func(any) time.Time)
	typDuration  = new(func(any) time.Duration)
	typInt       = new(func(any) int)
	typBool      = new(func(any) bool)
	typStrings   = new(func(any) []string)
)

// variables returns the message variables. It is a function, not a table,
// so that the package keeps no mutable state.
func variables() []variable {
	addr := func(field string) func(e *evalEnv) any {
		return func(e *evalEnv) any { return e.addresses(field) }
	}
	hv := func(field string) func(e *evalEnv) any {
		return func(e *evalEnv) any { return e.headerValue(field) }
	}
	flag := func(f string) func(e *evalEnv) any {
		return func(e *evalEnv) any { return e.hasFlag(f) }
	}
	return []variable{
		{name: "subject", index: varSubject, typ: typString, need: need{headers: []string{"SUBJECT"}}, compute: hv("Subject"),
			doc: "Subject header, RFC 2047 decoded"},
		{name: "from", index: varFrom, typ: typAddresses, need: need{headers: []string{"FROM"}}, compute: addr("From"),
			doc: "From addresses"},
		{name: "to", index: varTo, typ: typAddresses, need: need{headers: []string{"TO"}}, compute: addr("To"),
			doc: "To addresses"},
		{name: "cc", index: varCc, typ: typAddresses, need: need{headers: []string{"CC"}}, compute: addr("Cc"),
			doc: "Cc addresses"},
		{name: "bcc", index: varBcc, typ: typAddresses, need: need{headers: []string{"BCC"}}, compute: addr("Bcc"),
			doc: "Bcc addresses"},
		{name: "replyTo", index: varReplyTo, typ: typAddresses, need: need{headers: []string{"REPLY-TO"}}, compute: addr("Reply-To"),
			doc: "Reply-To addresses"},
		{name: "sender", index: varSender, typ: typAddresses, need: need{headers: []string{"SENDER"}}, compute: addr("Sender"),
			doc: "Sender addresses"},
		{name: "recipients", index: varRecipients, typ: typAddresses, need: need{headers: []string{"BCC", "CC", "TO"}},
			compute: func(e *evalEnv) any {
				var out []message.Address
				out = append(out, e.addresses("To")...)
				out = append(out, e.addresses("Cc")...)
				out = append(out, e.addresses("Bcc")...)
				if out == nil {
					out = []message.Address{}
				}
				return out
			},
			doc: "To, Cc and Bcc addresses together"},
		{name: "listId", index: varListID, typ: typString, need: need{headers: []string{"LIST-ID"}},
			compute: func(e *evalEnv) any { return message.ParseListID(e.headerValue("List-Id")) },
			doc:     "the id inside <...> of List-Id, lower-case"},
		{name: "listName", index: varListName, typ: typString, need: need{headers: []string{"LIST-ID"}},
			compute: func(e *evalEnv) any { return message.ListName(message.ParseListID(e.headerValue("List-Id"))) },
			doc:     "a folder-safe short name from List-Id"},
		{name: "messageId", index: varMessageID, typ: typString, need: need{headers: []string{"MESSAGE-ID"}},
			compute: func(e *evalEnv) any { return message.ParseMsgID(e.headerValue("Message-Id")) },
			doc:     "Message-ID without the angle brackets"},
		{name: "date", index: varDate, typ: typTime, need: need{headers: []string{"DATE"}},
			compute: func(e *evalEnv) any { return message.ParseDate(e.headerValue("Date")) },
			doc:     "Date header (zero time when missing or unreadable)"},
		{name: "internalDate", index: varInternalDate, typ: typTime, need: need{internalDate: true},
			compute: func(e *evalEnv) any { return e.internalDate() },
			doc:     "the server's arrival time (INTERNALDATE)"},
		{name: "age", index: varAge, typ: typDuration, need: need{internalDate: true},
			compute: func(e *evalEnv) any { return e.age() },
			doc:     "now - internalDate"},
		{name: "now", index: varNow, typ: typTime,
			compute: func(e *evalEnv) any { return e.now },
			doc:     "the time of this pass, the same for every message"},
		{name: "size", index: varSize, typ: typInt, need: need{size: true},
			compute: func(e *evalEnv) any { return int(e.msg.Size) },
			doc:     "RFC822.SIZE in bytes"},
		{name: "flags", index: varFlags, typ: typStrings, need: need{flags: true},
			compute: func(e *evalEnv) any {
				if e.msg.Flags == nil {
					return []string{}
				}
				return e.msg.Flags
			},
			doc: "the message's flags"},
		{name: "seen", index: varSeen, typ: typBool, need: need{flags: true}, compute: flag(`\Seen`), doc: `has \Seen`},
		{name: "answered", index: varAnswered, typ: typBool, need: need{flags: true}, compute: flag(`\Answered`), doc: `has \Answered`},
		{name: "flagged", index: varFlagged, typ: typBool, need: need{flags: true}, compute: flag(`\Flagged`), doc: `has \Flagged`},
		{name: "draft", index: varDraft, typ: typBool, need: need{flags: true}, compute: flag(`\Draft`), doc: `has \Draft`},
		{name: "mailbox", index: varMailbox, typ: typString,
			compute: func(e *evalEnv) any { return e.msg.Mailbox },
			doc:     "the mailbox being processed"},
		{name: "account", index: varAccount, typ: typString,
			compute: func(e *evalEnv) any { return e.msg.Account },
			doc:     "the account name"},
		{name: "uid", index: varUID, typ: typInt,
			compute: func(e *evalEnv) any { return int(e.msg.UID) },
			doc:     "the message UID"},
		{name: "body", index: varBody, typ: typString, need: need{body: true},
			compute: func(e *evalEnv) any { e.loadBody(); return e.bodyText },
			doc:     "text of the first text part, decoded, size-limited"},
		{name: "attachments", index: varAttachments, typ: new(func(any) []message.Attachment), need: need{body: true},
			compute: func(e *evalEnv) any { e.loadBody(); return e.attachments },
			doc:     "non-text parts: filename, contentType, size"},
	}
}

// spamHeaders are the fields spamScore() reads. Made once: functions() runs
// for every constant the SWEEP prefilter derives.
var spamHeaders = message.SpamScoreFields()

// functions returns the helper functions.
func functions() []function {
	str := func(a any) string { s, _ := a.(string); return s }
	return []function{
		{name: "header", withEnv: true, headerArg: true, types: []any{new(func(any, string) string)},
			fn:  func(e *evalEnv, a []any) (any, error) { return e.headerBoxed(str(a[0])), nil },
			doc: "first value of a header field, decoded; \"\" when absent"},
		{name: "headers", withEnv: true, headerArg: true, types: []any{new(func(any, string) []string)},
			fn:  func(e *evalEnv, a []any) (any, error) { return e.headerValues(str(a[0])), nil },
			doc: "every value of a header field, decoded"},
		{name: "hasHeader", withEnv: true, headerArg: true, types: []any{new(func(any, string) bool)},
			fn: func(e *evalEnv, a []any) (any, error) {
				_, ok := e.headers().Lookup(str(a[0]))
				return ok, nil
			},
			doc: "whether the message has the header field"},
		{name: "hasFlag", withEnv: true, types: []any{new(func(any, string) bool)}, need: need{flags: true},
			fn:  func(e *evalEnv, a []any) (any, error) { return e.hasFlag(str(a[0])), nil },
			doc: "whether the message has the flag (case-insensitive)"},
		{name: "spamScore", withEnv: true, types: []any{new(func(any) float64)}, need: need{headers: spamHeaders},
			fn: func(e *evalEnv, _ []any) (any, error) {
				if v := e.cache[varSpamScore]; v != nil {
					return v, nil
				}
				v := any(message.SpamScore(e.headerValue))
				e.cache[varSpamScore] = v
				return v, nil
			},
			doc: "spam score from X-Spam-Status score=, X-Spam-Score or X-Rspamd-Score; 0 when absent"},
		{name: "olderThan", withEnv: true, durationArg: true, types: []any{new(func(any, string) bool)}, need: need{internalDate: true},
			fn: func(e *evalEnv, a []any) (any, error) {
				d, err := parseAge(str(a[0]))
				if err != nil {
					return nil, err
				}
				return !e.msg.InternalDate.IsZero() && e.age() > d, nil
			},
			doc: `olderThan("30d"): internalDate is more than that before now (units s m h d w y)`},
		{name: "newerThan", withEnv: true, durationArg: true, types: []any{new(func(any, string) bool)}, need: need{internalDate: true},
			fn: func(e *evalEnv, a []any) (any, error) {
				d, err := parseAge(str(a[0]))
				if err != nil {
					return nil, err
				}
				return !e.msg.InternalDate.IsZero() && e.age() < d, nil
			},
			doc: `newerThan("2w"): internalDate is less than that before now`},
		{name: "icontains", types: []any{new(func(string, string) bool)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return containsFold(str(a[0]), str(a[1])), nil },
			doc: "case-insensitive substring test"},
		{name: "iequals", types: []any{new(func(string, string) bool)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return strings.EqualFold(str(a[0]), str(a[1])), nil },
			doc: "case-insensitive equality"},
		{name: "glob", types: []any{new(func(string, string) bool)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return globMatch(str(a[1]), str(a[0])), nil },
			doc: `glob(s, "*.example.org"): case-insensitive shell pattern with * and ?`},
		{name: "days", types: []any{new(func(int) time.Duration)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return time.Duration(toInt(a[0])) * 24 * time.Hour, nil },
			doc: "n days as a duration"},
		{name: "weeks", types: []any{new(func(int) time.Duration)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return time.Duration(toInt(a[0])) * 7 * 24 * time.Hour, nil },
			doc: "n weeks as a duration"},
		{name: "hours", types: []any{new(func(int) time.Duration)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return time.Duration(toInt(a[0])) * time.Hour, nil },
			doc: "n hours as a duration"},
		{name: "kb", types: []any{new(func(int) int)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return toInt(a[0]) << 10, nil },
			doc: "n KiB in bytes"},
		{name: "mb", types: []any{new(func(int) int)},
			fn:  func(_ *evalEnv, a []any) (any, error) { return toInt(a[0]) << 20, nil },
			doc: "n MiB in bytes"},
		classifyFunction(),
	}
}

func toInt(a any) int {
	switch v := a.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	rv := reflect.ValueOf(a)
	if rv.CanInt() {
		return int(rv.Int())
	}
	return 0
}

// parseAge parses a duration such as "30d", "2w", "12h", "90m", "1y" or
// "1d12h". A year is 365 days.
func parseAge(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("bad duration %q: want a number and a unit (s, m, h, d, w, y), e.g. \"30d\"", orig)
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: %w", orig, err)
		}
		var unit time.Duration
		switch s[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		case 'y':
			unit = 365 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("bad duration %q: unknown unit %q (use s, m, h, d, w, y)", orig, s[i])
		}
		total += time.Duration(n) * unit
		s = s[i+1:]
	}
	return total, nil
}

// containsFold reports whether substr is within s under Unicode simple
// case folding, without allocating.
func containsFold(s, substr string) bool {
	if substr == "" {
		return true
	}
	// An ASCII substr can only match ASCII bytes of s, except for the
	// Kelvin sign and the long s, which fold to k and s.
	if isASCII(substr) && (isASCII(s) || !strings.ContainsAny(substr, "kKsS")) {
		n := len(substr)
		first := lowerASCII(substr[0])
		for i := 0; i+n <= len(s); i++ {
			if lowerASCII(s[i]) == first && asciiEqualFold(s[i:i+n], substr) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(s); {
		if hasPrefixFold(s[i:], substr) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return false
}

// hasPrefixFold reports whether s starts with prefix under simple folding.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		if r1 != r2 && !equalFoldRune(r1, r2) {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}

// equalFoldRune reports whether r1 and r2 are the same under simple folding.
func equalFoldRune(r1, r2 rune) bool {
	if r1 < utf8.RuneSelf && r2 < utf8.RuneSelf {
		if 'A' <= r1 && r1 <= 'Z' {
			r1 += 'a' - 'A'
		}
		if 'A' <= r2 && r2 <= 'Z' {
			r2 += 'a' - 'A'
		}
		return r1 == r2
	}
	for f := unicode.SimpleFold(r1); f != r1; f = unicode.SimpleFold(f) {
		if f == r2 {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// asciiEqualFold compares a and b of equal length, folding ASCII letters only.
func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// globMatch matches name against a shell pattern with * (any run) and ?
// (one character), ignoring case. '/' is not special.
func globMatch(pattern, name string) bool {
	pattern = strings.ToLower(pattern)
	name = strings.ToLower(name)
	// Iterative matcher with backtracking on the last star.
	px, nx := 0, 0
	starPx, starNx := -1, 0
	for nx < len(name) {
		if px < len(pattern) {
			switch pattern[px] {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				_, size := utf8.DecodeRuneInString(name[nx:])
				px++
				nx += size
				continue
			default:
				if pattern[px] == name[nx] {
					px++
					nx++
					continue
				}
			}
		}
		if starPx >= 0 {
			starNx++
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
