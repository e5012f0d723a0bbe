// Package bench holds what the mailrules benchmarks share: the bench rule
// sets (rules.toml, and a generated 50-rule set) and Decide, the same bench
// rule set in plain Go, from which the floor client's UID sets and the check
// of mailrules' results are computed.
//
// The runner is ./cmd/bench (make bench); see BENCHMARKS.md.
package bench

import (
	_ "embed"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"time"
)

// RulesTOML is the bench rule set: [[rule]] tables to append to a config.
//
//go:embed rules.toml
var RulesTOML string

// Needs lists the header fields the bench rule set reads, upper-case and
// sorted, as rules.Set.Needs reports them; the rules also need INTERNALDATE.
var Needs = []string{"LIST-ID", "SUBJECT", "X-SPAM-FLAG"}

// FlagKeyword is the flag the "flag" rule adds.
const FlagKeyword = `\Flagged`

// ArchiveBefore is the archive rule's cut-off.
func ArchiveBefore() time.Time { return time.Date(2002, time.September, 1, 0, 0, 0, 0, time.UTC) }

// Destinations are the mailboxes the bench rules move to, "/"-separated.
func Destinations() []string {
	return []string{"Junk", "Lists/FoRK", "Lists/Linux/ILUG", "Lists/Linux/RPM", "Lists/SpamAssassin/Talk", "Archive"}
}

// Decider evaluates the bench rule set. Its zero value is not usable; call
// NewDecider.
type Decider struct {
	subject *regexp.Regexp
	lists   map[string]string
	words   mime.WordDecoder
}

// NewDecider returns a Decider.
func NewDecider() *Decider {
	return &Decider{
		subject: regexp.MustCompile(`(?i)\b(urgent|free|security|release|update)\b`),
		lists: map[string]string{
			"fork.xent.com":                             "Lists/FoRK",
			"ilug.linux.ie":                             "Lists/Linux/ILUG",
			"rpm-zzzlist.freshrpms.net":                 "Lists/Linux/RPM",
			"spamassassin-talk.example.sourceforge.net": "Lists/SpamAssassin/Talk",
		},
	}
}

// Decision is what the bench rules do with one message.
type Decision struct {
	Flag bool   // add \Flagged
	Move string // destination, "/"-separated; "" stays in INBOX
}

// Decide applies the bench rule set, in rules.toml's order, to a message's
// fetched header fields (a CRLF header block) and internal date.
func (d *Decider) Decide(header []byte, internalDate time.Time) Decision {
	var dec Decision
	if strings.TrimSpace(field(header, "X-Spam-Flag")) == "YES" {
		dec.Move = "Junk"
		return dec
	}
	subject := field(header, "Subject")
	if s, err := d.words.DecodeHeader(subject); err == nil {
		subject = s
	}
	dec.Flag = d.subject.MatchString(subject)
	if dest, ok := d.lists[listID(field(header, "List-Id"))]; ok {
		dec.Move = dest
		return dec
	}
	if internalDate.Before(ArchiveBefore()) {
		dec.Move = "Archive"
	}
	return dec
}

// field returns the unfolded value of the first header field called name.
func field(header []byte, name string) string {
	lines := strings.Split(string(header), "\r\n")
	for i := 0; i < len(lines); i++ {
		colon := strings.IndexByte(lines[i], ':')
		if colon < 0 || !strings.EqualFold(strings.TrimSpace(lines[i][:colon]), name) {
			continue
		}
		v := lines[i][colon+1:]
		for i+1 < len(lines) && len(lines[i+1]) > 0 && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			i++
			v += lines[i]
		}
		return strings.TrimSpace(v)
	}
	return ""
}

// listID returns the identifier in a List-Id value (RFC 2919 section 3):
// what is between the last angle brackets, lower-case.
func listID(v string) string {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// Rules50TOML returns a 50-rule set for the rules benchmark: 43 rules of the
// kinds people write (sender domains, subject words, header presence,
// sizes), none of which matches a corpus message, so every message is
// tested against all of them, followed by the bench rule set's seven.
func Rules50TOML() string {
	var b strings.Builder
	kinds := []string{
		`any(from, .domain == "example%d.org")`,
		`subject contains "[topic-%d]"`,
		`hasHeader("X-Bench-%d")`,
		`size > mb(%d) && seen`,
		`icontains(header("X-Mailer"), "mailer-%d")`,
		`any(to, .addr == "list%d@example.net") || glob(header("Sender"), "*@lists%d.invalid")`,
	}
	for i := 0; i < 43; i++ {
		when := kinds[i%len(kinds)]
		when = strings.ReplaceAll(when, "%d", fmt.Sprint(i+1))
		fmt.Fprintf(&b, "[[rule]]\nname = \"extra-%02d\"\nwhen = '%s'\nmove = \"Extra/%02d\"\n\n", i+1, when, i+1)
	}
	b.WriteString(RulesTOML)
	return b.String()
}
