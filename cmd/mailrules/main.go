// Command mailrules files mail on IMAP servers by rules written as expr
// expressions.
//
// Usage:
//
//	mailrules run     [-c FILE] [flags]          one pass over every account (for cron)
//	mailrules watch   [-c FILE] [flags]          keep going: IDLE or polling, reconnecting
//	mailrules check   [-c FILE]                  validate the configuration and rules
//	mailrules test    [-c FILE] [--json] MESSAGE.eml|MAILDIR|- ...
//	                                             which rules match local messages, and what would happen
//	mailrules import  [-o FILE] gmail FILE|-     translate Gmail filters (mailFilters.xml) into rules
//	mailrules learn   [-c FILE] [--dry-run]      teach the classifiers from Junk (spam) and the ham folders
//	mailrules auth    [-c FILE] ACCOUNT          sign in with OAuth 2.0 and store the refresh token
//	mailrules status  [-c FILE] [--json]         the last passes and what is pending, per mailbox
//	mailrules completion bash|zsh|fish           print a shell completion script
//	mailrules version                            print the version
//
// The configuration is $XDG_CONFIG_HOME/mailrules/config.toml
// (~/.config/mailrules/config.toml) unless -c says otherwise.
//
// Exit status: 0 success, 1 runtime failure, 2 configuration or usage error.
//
// The commands, their flags and their help come from one table
// (commandTable); --help, the manual pages (mailrules man) and the shell
// completions (mailrules completion) are all generated from it.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a runtime failure: a server, a message, a file
	exitConfig  = 2 // a configuration or usage error
)

// exitStatuses says what each exit code means, for --help and the manual.
var exitStatuses = []struct {
	code    int
	meaning string
}{
	{exitOK, "success"},
	{exitFailure, "a runtime failure: some pass failed (a server, a mailbox, the state file), the server refused some messages' actions, a classifier gave no verdict on some messages (left untouched for the next pass) or some lessons failed (everything else was done)"},
	{exitConfig, "a configuration or usage error"},
}

// A command is one subcommand of mailrules. Its help (-h), its part of
// the manual page and its shell completion are generated from these
// fields and from the flags that flags registers, so they cannot drift
// apart. Adding a command is adding one entry to commandTable.
type command struct {
	name     string
	operands string // what follows the flags in the synopsis, e.g. "MESSAGE..."
	summary  string // one line for the list in mailrules --help
	doc      string // paragraphs (separated by a blank line) for -h and the manual
	// flags registers the command's flags on fs. The command itself must
	// register them with the same function, on the flag set that
	// newFlagSet makes; TestCommandHelp checks that it does. nil means
	// the command takes no flags.
	flags func(fs *flag.FlagSet)
	// complete lists the words the shells offer for the operands; nil
	// offers file names when operands is not empty.
	complete []string
	hidden   bool // left out of --help, the manual and the completions
	run      func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commandTable is every command, in the order --help lists them. It is a
// function, not a variable, because the commands look themselves up in it.
func commandTable() []command {
	return []command{
		{
			name:    "run",
			summary: "one pass over every account (for cron)",
			doc: "Log in to every account, apply the rules to the mail that arrived since the last pass " +
				"(or, for rules with scope = \"all\", to the whole mailbox), carry out the actions, " +
				"record progress in the state database, and exit.",
			flags: func(fs *flag.FlagSet) { runFlags(fs) },
			run:   func(args []string, _ io.Reader, _, _ io.Writer) int { return cmdRun(args) },
		},
		{
			name:    "watch",
			summary: "keep going: IDLE or polling, reconnecting",
			doc: "Run a pass on every mailbox, then keep watching them: IDLE where the server has it, " +
				"NOOP polling every poll_interval where it does not, a pass whenever new mail arrives. " +
				"Lost connections are re-established with exponential backoff. " +
				"SIGHUP re-reads the configuration: mailboxes whose account settings did not change keep " +
				"their connection, and rule changes apply from the next pass; a configuration that check " +
				"rejects is logged and the old one stays. " +
				"SIGINT or SIGTERM finishes the batch in flight, then exits.",
			flags: func(fs *flag.FlagSet) { watchFlags(fs) },
			run:   func(args []string, _ io.Reader, _, _ io.Writer) int { return cmdWatch(args) },
		},
		{
			name:    "check",
			summary: "validate the configuration and rules",
			doc: "Load and compile the configuration and its rules; report every problem " +
				"as FILE:LINE:COL: rule \"NAME\": message. Exit 0 when clean, 2 otherwise. " +
				"When clean, print what each mailbox's rules will fetch.",
			flags: func(fs *flag.FlagSet) { configFlag(fs) },
			run:   func(args []string, _ io.Reader, stdout, stderr io.Writer) int { return cmdCheck(args, stdout, stderr) },
		},
		{
			name:     "test",
			operands: "MESSAGE...",
			summary:  "which rules match local messages, and what would happen",
			doc: "Evaluate the rules on local messages and show which rules match and what " +
				"would happen. MESSAGE is an .eml file, a Maildir folder (its cur/ and new/) " +
				"or - for standard input. Nothing connects to a server; every message is " +
				"treated as new mail. Flags may follow the messages.",
			flags: func(fs *flag.FlagSet) { testFlags(fs) },
			run:   cmdTest,
		},
		{
			name:     "import",
			operands: "gmail FILE",
			summary:  "translate Gmail filters (mailFilters.xml) into rules",
			doc: "Translate Gmail's filter export (Settings, Filters and Blocked Addresses, Export; FILE, or - for " +
				"standard input) into [[rule]] tables and print them, to be added to the configuration after its " +
				"accounts. Each rule follows comments that give its Gmail filter; what cannot be translated (importance, " +
				"categories, forwarding, never spam, label: and is:important searches) is a comment in the output and " +
				"a warning, FILE:LINE:COL, on standard error, and a rule that cannot stand for its filter is written " +
				"commented out. The output passes mailrules check.\n\n" +
				"A label is a copy to the mailbox of that name (a/b for a nested label), or a move with Skip the Inbox; " +
				"Skip the Inbox alone moves to --archive; Mark as read, Star it and Delete it are seen, flag \\Flagged " +
				"and delete. Plain words are looked for in the Subject, the sender and the body, ignoring case. " +
				"Rules that only label, star or mark read come before those that move or delete, so that every " +
				"matching filter takes effect, as in Gmail.",
			flags: func(fs *flag.FlagSet) { importFlags(fs) },
			run:   cmdImport,
		},
		{
			name:    "learn",
			summary: "teach the classifiers from what Junk (spam) and the ham folders hold now",
			doc: "For every account with a learn table, teach its classifiers every message in its junk folder " +
				"as spam and every message in its ham folders as ham (like isbg --teachonly), then print how many " +
				"lessons were taken, given before, failed and skipped (over the classifier's max_size), per " +
				"mailbox, counted per message and classifier. A lesson is recorded in the state database once " +
				"the classifier took it and never given again, by learn, run or watch; a message is known by its " +
				"Message-ID, or by a hash of it when it has none. With --dry-run nothing is taught or recorded " +
				"and the counts say what would be.\n\n" +
				"run and watch learn from the user's moves as they happen: a message the user moves into the " +
				"junk folder is learned as spam (those mailrules filed there itself are not), one the user moves " +
				"out of it into a ham folder as ham, and it is flagged $NotJunk.",
			flags: func(fs *flag.FlagSet) { learnFlags(fs) },
			run:   func(args []string, _ io.Reader, _, _ io.Writer) int { return cmdLearn(args) },
		},
		{
			name:     "auth",
			operands: "ACCOUNT",
			summary:  "sign in with OAuth 2.0 and store the refresh token",
			doc: "Sign in to ACCOUNT's OAuth 2.0 provider and store the refresh token where its oauth2 table " +
				"says: the file of refresh_token = { file = ... } (created 0600), or store_command, which " +
				"receives it on its standard input.\n\n" +
				"With device_auth_url, the device authorization grant (RFC 8628): enter the printed code at the " +
				"printed address, on any device. Otherwise the authorization code grant with PKCE (RFC 7636): " +
				"open the printed URL in a browser on this machine; the provider sends it back to mailrules on " +
				"http://127.0.0.1 (RFC 8252).",
			flags:    func(fs *flag.FlagSet) { authFlags(fs) },
			complete: []string{},
			run:      func(args []string, _ io.Reader, stdout, stderr io.Writer) int { return cmdAuth(args, stdout, stderr) },
		},
		{
			name:    "status",
			summary: "the last passes and what is pending, per mailbox (also while watch runs)",
			doc: "Per account and mailbox: the last pass (time, result, counts), UIDVALIDITY, the highest UID " +
				"handled, a journaled batch in flight and the messages to try again. While run or watch holds " +
				"the state database, the status it published next to it after its last pass is shown instead " +
				"(which, and how old, is said).",
			flags: func(fs *flag.FlagSet) { statusFlags(fs) },
			run:   func(args []string, _ io.Reader, stdout, stderr io.Writer) int { return cmdStatus(args, stdout, stderr) },
		},
		{
			name:     "completion",
			operands: "SHELL",
			summary:  "print a completion script for SHELL: bash, zsh or fish",
			doc: "Print a completion script for bash, zsh or fish on standard output. " +
				"make install puts them where each shell looks; to try one, " +
				"source <(mailrules completion bash).",
			complete: completionShells,
			run: func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
				return cmdCompletion(args, stdout, stderr)
			},
		},
		{
			name:    "version",
			summary: "print the version",
			doc:     "Print the version (as stamped by make release, else the VCS revision), the Go version and the platform.",
			run: func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
				return cmdVersion(args, stdout, stderr)
			},
		},
		{
			name:     "man",
			operands: "1|5",
			summary:  "print the manual page mailrules(1) or mailrules.toml(5) in roff",
			doc:      "Print mailrules(1) or mailrules.toml(5) in roff; make man writes them to man/.",
			hidden:   true,
			run:      func(args []string, _ io.Reader, stdout, stderr io.Writer) int { return cmdMan(args, stdout, stderr) },
		},
	}
}

// lookupCommand returns the command called name.
func lookupCommand(name string) (command, bool) {
	for _, c := range commandTable() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// visibleCommands returns the commands that --help, the manual and the
// completions show.
func visibleCommands() []command {
	var out []command
	for _, c := range commandTable() {
		if !c.hidden {
			out = append(out, c)
		}
	}
	return out
}

// flagSet returns a fresh flag set holding c's flags, for documentation.
func (c command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs)
	}
	return fs
}

// newFlagSet makes the flag set the command name parses its arguments
// with: errors and -h go to stderr (os.Stderr when nil), and -h prints the
// help generated from the command table.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if stderr != nil {
		fs.SetOutput(stderr)
	}
	fs.Usage = func() { printCommandHelp(fs.Output(), name, fs) }
	return fs
}

// printCommandHelp writes command name's -h text, with the flags of fs.
func printCommandHelp(w io.Writer, name string, fs *flag.FlagSet) {
	c, _ := lookupCommand(name)
	fmt.Fprintf(w, "Usage: %s\n\n", synopsis(c.name, c.operands, fs))
	for _, p := range strings.Split(c.doc, "\n\n") {
		fmt.Fprintf(w, "%s\n\n", wrap(p, 76))
	}
	if hasFlags(fs) {
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
	}
}

// flagInfo is what the documentation and completions need of one flag.
type flagInfo struct {
	name    string // without dashes
	arg     string // the value's name, upper case; "" for a boolean flag
	usage   string // the usage string with the value name unquoted
	defText string // the default in words; "" for none
}

// spelled is the flag as written on the command line: -c or --state.
func (f flagInfo) spelled() string {
	if len(f.name) == 1 {
		return "-" + f.name
	}
	return "--" + f.name
}

// takesFile reports whether the flag's value is a file name.
func (f flagInfo) takesFile() bool { return f.arg == "FILE" }

// flagInfos lists fs's flags: one-letter flags first, then the rest by name.
func flagInfos(fs *flag.FlagSet) []flagInfo {
	var short, long []flagInfo
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		info := flagInfo{name: f.Name, usage: usage, defText: docDefault(f)}
		if !isBoolFlag(f) {
			info.arg = strings.ToUpper(arg)
		}
		if len(f.Name) == 1 {
			short = append(short, info)
		} else {
			long = append(long, info)
		}
	})
	return append(short, long...)
}

// hasFlags reports whether fs has any flag.
func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// isBoolFlag reports whether f is a boolean flag (given without a value).
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// docDefaults gives, in words, the defaults that depend on the machine or
// the environment, so that the manual reads the same wherever it is made.
var docDefaults = map[string]string{
	"c":     "$XDG_CONFIG_HOME/mailrules/config.toml",
	"trace": "", // its usage string names $MAILRULES_TRACE
}

// docDefault returns f's default in words, "" when there is none worth
// saying (false, empty, or given by the usage string).
func docDefault(f *flag.Flag) string {
	if d, ok := docDefaults[f.Name]; ok {
		return d
	}
	switch f.DefValue {
	case "", "false", "0":
		return ""
	}
	return f.DefValue
}

// synopsis is the command line of command name with the flags of fs.
func synopsis(name, operands string, fs *flag.FlagSet) string {
	parts := []string{"mailrules", name}
	for _, f := range flagInfos(fs) {
		if f.arg == "" {
			parts = append(parts, "["+f.spelled()+"]")
		} else {
			parts = append(parts, "["+f.spelled()+" "+f.arg+"]")
		}
	}
	if operands != "" {
		parts = append(parts, operands)
	}
	return strings.Join(parts, " ")
}

// wrap breaks s into lines of at most width bytes at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// printUsage writes mailrules --help.
func printUsage(w io.Writer) {
	fmt.Fprint(w, "mailrules files mail on IMAP servers by rules.\n\nUsage:\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range visibleCommands() {
		line := "mailrules " + c.name
		if hasFlags(c.flagSet()) {
			line += " [flags]"
		}
		if c.operands != "" {
			line += " " + c.operands
		}
		fmt.Fprintf(tw, "  %s\t%s\n", line, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
The configuration file is $XDG_CONFIG_HOME/mailrules/config.toml
(~/.config/mailrules/config.toml) unless -c says otherwise.
Run "mailrules COMMAND -h" for a command's flags, and see mailrules(1).

Exit status:
`)
	for _, s := range exitStatuses {
		fmt.Fprintf(w, "  %d  %s\n", s.code, strings.ReplaceAll(wrap(s.meaning, 70), "\n", "\n     "))
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the subcommand named by args[0] and returns the exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitConfig
	}
	name, rest := args[0], args[1:]
	switch name {
	case "--version", "-version":
		name = "version"
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return exitOK
	}
	c, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "mailrules: unknown command %q\n\n", name)
		printUsage(stderr)
		return exitConfig
	}
	return c.run(rest, os.Stdin, stdout, stderr)
}
