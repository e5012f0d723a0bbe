package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/internal/termtext"
	"github.com/mailrules/mailrules/message"
	"github.com/mailrules/mailrules/rules"
)

// localMessage is a message read from a file, a Maildir or stdin.
type localMessage struct {
	name string // as shown: the path, or "-"
	msg  rules.Message
}

// testReport is one message's outcome, as printed by --json.
type testReport struct {
	Message     string   `json:"message"`
	MessageID   string   `json:"messageId,omitempty"`
	From        string   `json:"from,omitempty"`
	Subject     string   `json:"subject,omitempty"`
	Matched     []string `json:"matched"`
	AddFlags    []string `json:"addFlags,omitempty"`
	RemoveFlags []string `json:"removeFlags,omitempty"`
	Copies      []string `json:"copies,omitempty"`
	// CopyFlags are, by mailbox of Copies, the flags a copy is stored
	// with when they are its own (a Sieve fileinto's), not the message's.
	CopyFlags map[string][]string `json:"copyFlags,omitempty"`
	Final     *finalReport        `json:"final"`
	Actions   string              `json:"actions"`
	// Sieve lists what each Sieve script that applies did, in Sieve's
	// terms (fileinto, keep, discard, with flags), before the mapping
	// onto a message in a mailbox that Actions shows.
	Sieve  []sieveReport `json:"sieve,omitempty"`
	Errors []string      `json:"errors,omitempty"`
	// Verdicts are the classifiers' answers the rules asked for.
	Verdicts []verdictReport `json:"verdicts,omitempty"`
	// Undecided, when set, is why no action is decided: a classifier a
	// rule reached gave no verdict (a pass leaves such a message alone).
	Undecided string `json:"undecided,omitempty"`
}

type finalReport struct {
	Kind    string `json:"kind"`
	Mailbox string `json:"mailbox,omitempty"`
	Rule    string `json:"rule"`
}

// testOptions are test's flags.
type testOptions struct {
	config, account, mailbox, now *string
	asJSON                        *bool
	on                            *string
}

// testFlags registers test's flags on fs.
func testFlags(fs *flag.FlagSet) testOptions {
	return testOptions{
		config:  configFlag(fs),
		asJSON:  fs.Bool("json", false, "print JSON for scripts"),
		account: fs.String("account", "", "evaluate as if in this `account` (default: the first)"),
		mailbox: fs.String("mailbox", "", "evaluate as if in this `mailbox` (default: the account's first)"),
		now:     fs.String("now", "", "evaluate at this `time` (RFC 3339) instead of the current time"),
		on:      fs.String("on", "arrival", "evaluate as on this `event`: arrival (new mail), or flags (the message's flags just changed, for rules with on = [\"flags\"])"),
	}
}

// cmdTest shows which rules match local messages and what would happen to
// them. It never connects to a server; every message counts as new, or
// with -on flags as one whose flags just changed.
func cmdTest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("test", stderr)
	opts := testFlags(fs)
	// Flags may come after the messages: parse, take a positional, repeat.
	var inputs []string
	for {
		if err := fs.Parse(args); err != nil {
			return exitConfig
		}
		if fs.NArg() == 0 {
			break
		}
		inputs = append(inputs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(inputs) == 0 {
		fs.Usage()
		return exitConfig
	}
	now := time.Now()
	if *opts.now != "" {
		t, err := time.Parse(time.RFC3339, *opts.now)
		if err != nil {
			fmt.Fprintf(stderr, "mailrules test: -now: %v\n", err)
			return exitConfig
		}
		now = t
	}
	if *opts.on != string(rules.OnArrival) && *opts.on != string(rules.OnFlags) {
		fmt.Fprintf(stderr, "mailrules test: -on %q: want arrival or flags\n", *opts.on)
		return exitConfig
	}
	cfg, ok := loadConfig(*opts.config, stderr)
	if !ok {
		return exitConfig
	}
	acct, mb, err := pickAccount(cfg, *opts.account, *opts.mailbox)
	if err != nil {
		fmt.Fprintf(stderr, "mailrules test: %v\n", err)
		return exitConfig
	}
	set := cfg.Rules.For(acct, mb)
	classifiers, err := newClassifiers(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mailrules test: %v\n", err)
		return exitConfig
	}

	var msgs []localMessage
	failed := false
	for _, in := range inputs {
		got, err := readMessages(in, stdin, now)
		if err != nil {
			fmt.Fprintf(stderr, "mailrules test: %s\n", termtext.Escape(err.Error())) // paths from a Maildir
			failed = true
			continue
		}
		msgs = append(msgs, got...)
	}
	reports := make([]testReport, 0, len(msgs))
	exists := configMailboxes(cfg, acct)
	for i := range msgs {
		m := &msgs[i]
		m.msg.Account, m.msg.Mailbox = acct, mb
		m.msg.MailboxExists = exists
		m.msg.UID = uint32(i + 1)
		m.msg.FlagsChanged = *opts.on == string(rules.OnFlags)
		res, verdicts, cerr := evaluateClassified(set, &m.msg, now, classifiers)
		r := makeReport(m, res)
		for _, v := range verdicts {
			r.Verdicts = append(r.Verdicts, makeVerdictReport(v))
		}
		if cerr != nil {
			r.Undecided = cerr.Error()
			r.Actions = "undecided: left where it is"
			failed = true
		}
		r.Sieve = sieveReports(cfg, acct, &m.msg, now)
		reports = append(reports, r)
		if len(res.Errors) > 0 {
			failed = true
		}
	}
	if *opts.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(reports); err != nil {
			fmt.Fprintf(stderr, "mailrules test: %v\n", err)
			return exitFailure
		}
	} else {
		printReports(stdout, acct, mb, set, reports)
		if set.Needs().Mailboxes {
			fmt.Fprintf(stdout, "\nmailboxexists: test does not connect, so only INBOX and the mailboxes and Trash the account's configuration names exist\n")
		}
	}
	if failed {
		return exitFailure
	}
	return exitOK
}

// configMailboxes answers rules.Message.MailboxExists for test, which
// does not connect to the server: a mailbox exists when it is INBOX, one
// of the account's mailboxes or its Trash, as the configuration names
// them.
func configMailboxes(cfg *config.Config, account string) func(path string) bool {
	existing := map[string]bool{"INBOX": true}
	for _, a := range cfg.Accounts {
		if a.Name != account {
			continue
		}
		for _, mb := range append(slices.Clone(a.Mailboxes), a.Trash) {
			if name := actions.MailboxName(mb, "/", ""); name != "" {
				existing[imap.MailboxKey(name)] = true
			}
		}
	}
	return func(path string) bool { return existing[imap.MailboxKey(actions.MailboxName(path, "/", ""))] }
}

// pickAccount chooses the account and mailbox to evaluate as.
func pickAccount(cfg *config.Config, account, mailbox string) (string, string, error) {
	var acct *config.Account
	if account == "" {
		acct = cfg.Accounts[0]
	} else {
		var names []string
		for _, a := range cfg.Accounts {
			names = append(names, a.Name)
			if a.Name == account {
				acct = a
			}
		}
		if acct == nil {
			return "", "", fmt.Errorf("--account %q: no such account (have %s)", account, strings.Join(names, ", "))
		}
	}
	if mailbox == "" {
		mailbox = acct.Mailboxes[0]
	}
	return acct.Name, mailbox, nil
}

func makeReport(m *localMessage, res rules.Result) testReport {
	sum := message.Summarize(m.msg.Header)
	r := testReport{Message: m.name, MessageID: sum.MessageID, From: sum.From, Subject: sum.Subject,
		Matched: res.Matched, Actions: res.String()}
	if r.Matched == nil {
		r.Matched = []string{}
	}
	for _, f := range res.AddFlags {
		r.AddFlags = append(r.AddFlags, f.Flag)
	}
	for _, f := range res.RemoveFlags {
		r.RemoveFlags = append(r.RemoveFlags, f.Flag)
	}
	for _, c := range res.Copies {
		r.Copies = append(r.Copies, c.Mailbox)
		if c.OwnFlags {
			if r.CopyFlags == nil {
				r.CopyFlags = make(map[string][]string)
			}
			r.CopyFlags[c.Mailbox] = append([]string{}, c.Flags...)
		}
	}
	if res.Final != nil {
		r.Final = &finalReport{Kind: res.Final.Kind.String(), Mailbox: res.Final.Mailbox, Rule: res.Final.Rule}
	}
	for _, e := range res.Errors {
		r.Errors = append(r.Errors, e.Error())
	}
	return r
}

// printReports writes the human-readable table. Everything in it that
// comes from a message (a subject, a file name, a mailbox a template made
// of a header) goes through termtext.Escape: a terminal would act on the
// control characters in it.
func printReports(w io.Writer, acct, mb string, set *rules.Set, reports []testReport) {
	esc := termtext.Escape
	fmt.Fprintf(w, "account %s, mailbox %s: %d %s apply\n\n", esc(acct), esc(mb), set.Len(), plural(set.Len(), "rule", "rules"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tSUBJECT\tMATCHED\tACTIONS")
	for _, r := range reports {
		matched := strings.Join(r.Matched, ", ")
		if matched == "" {
			matched = "-"
		}
		// Clipped before it is escaped, so that no escape is cut in two.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", esc(r.Message), esc(clip(oneLine(r.Subject), 40)), esc(matched), esc(r.Actions))
	}
	tw.Flush()
	for _, r := range reports {
		for _, sr := range r.Sieve {
			fmt.Fprintf(w, "%s: %s: %s\n", esc(r.Message), esc(sr.Script), esc(strings.Join(sr.Actions, "; ")))
		}
		for _, v := range r.Verdicts {
			fmt.Fprintf(w, "%s: %s\n", esc(r.Message), esc(v.String()))
		}
		if r.Undecided != "" {
			fmt.Fprintf(w, "%s: no verdict, so no rule acts on it (a pass leaves it where it is and tries again later): %s\n",
				esc(r.Message), esc(r.Undecided))
		}
		for _, e := range r.Errors {
			fmt.Fprintf(w, "%s: error: %s\n", esc(r.Message), esc(e))
		}
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// readMessages reads one input: "-" (stdin), a Maildir folder or a file.
func readMessages(in string, stdin io.Reader, now time.Time) ([]localMessage, error) {
	if in == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return []localMessage{newLocalMessage("-", data, time.Time{}, now, nil)}, nil
	}
	fi, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(in)
		if err != nil {
			return nil, err
		}
		return []localMessage{newLocalMessage(in, data, fi.ModTime(), now, nil)}, nil
	}
	return readMaildir(in, now)
}

// readMaildir reads the messages in a Maildir's new/ and cur/ folders, or,
// in a folder that is not a Maildir, every regular file.
func readMaildir(dir string, now time.Time) ([]localMessage, error) {
	subdirs := []string{"new", "cur"}
	if !isDir(filepath.Join(dir, "cur")) && !isDir(filepath.Join(dir, "new")) {
		subdirs = []string{""}
	}
	var out []localMessage
	for _, sub := range subdirs {
		d := filepath.Join(dir, sub)
		entries, err := os.ReadDir(d)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("read maildir: %w", err)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(d, e.Name())
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			var mtime time.Time
			if fi, err := e.Info(); err == nil {
				mtime = fi.ModTime()
			}
			var flags []string
			if sub == "cur" {
				flags = maildirFlags(e.Name())
			}
			// Dovecot uses a Maildir file's mtime as its INTERNALDATE.
			out = append(out, newLocalMessage(p, data, mtime, now, flags))
		}
	}
	return out, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// maildirFlags reads the flags from a Maildir file name's ":2," info
// (https://cr.yp.to/proto/maildir.html).
func maildirFlags(name string) []string {
	i := strings.LastIndex(name, ":2,")
	if i < 0 {
		return nil
	}
	var flags []string
	for _, c := range name[i+3:] {
		switch c {
		case 'S':
			flags = append(flags, `\Seen`)
		case 'R':
			flags = append(flags, `\Answered`)
		case 'F':
			flags = append(flags, `\Flagged`)
		case 'D':
			flags = append(flags, `\Draft`)
		case 'T':
			flags = append(flags, `\Deleted`)
		}
	}
	return flags
}

// newLocalMessage makes a rules.Message from a file's bytes the way an
// IMAP server would present it: the size counts CRLF line ends (RFC 3501
// section 2.3.4), the internal date is the Maildir mtime, or the Date
// header, or the file's mtime, or now.
func newLocalMessage(name string, data []byte, mtime, now time.Time, flags []string) localMessage {
	hdr, _ := message.SplitHeader(data)
	internal := mtime
	if !strings.Contains(filepath.ToSlash(name), "/cur/") && !strings.Contains(filepath.ToSlash(name), "/new/") {
		if d := message.Date(hdr); !d.IsZero() {
			internal = d
		}
	}
	if internal.IsZero() {
		internal = now
	}
	bareLF := bytes.Count(data, []byte("\n")) - bytes.Count(data, []byte("\r\n"))
	return localMessage{name: name, msg: rules.Message{
		Flags: flags, InternalDate: internal, Size: int64(len(data) + bareLF),
		Header: hdr, Raw: data, New: true,
	}}
}
