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
//	mailrules auth    [-c FILE] ACCOUNT          sign in with OAuth 2.0 and store the refresh token
//	mailrules status  [-c FILE] [--json]         the last passes and what is pending, per mailbox
//	mailrules version                            print the version
//
// The configuration is $XDG_CONFIG_HOME/mailrules/config.toml
// (~/.config/mailrules/config.toml) unless -c says otherwise.
//
// Exit status: 0 success, 1 runtime failure, 2 configuration or usage error.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a runtime failure: a server, a message, a file
	exitConfig  = 2 // a configuration or usage error
)

const usage = `mailrules files mail on IMAP servers by rules.

Usage:
  mailrules run     [-c FILE] [flags]     one pass over every account (for cron)
  mailrules watch   [-c FILE] [flags]     keep going: IDLE or polling, reconnecting
  mailrules check   [-c FILE]             validate the configuration and rules
  mailrules test    [-c FILE] [--json] [--account A] [--mailbox M] MESSAGE...
                                          which rules match local messages (.eml files,
                                          Maildir folders, - for stdin) and what would happen
  mailrules auth    [-c FILE] ACCOUNT     sign in with OAuth 2.0 and store the refresh token
  mailrules status  [-c FILE] [--json]    the last passes and what is pending, per mailbox
                                          (also while watch runs)
  mailrules version                       print the version

The configuration file is $XDG_CONFIG_HOME/mailrules/config.toml
(~/.config/mailrules/config.toml) unless -c says otherwise.
Run "mailrules COMMAND -h" for a command's flags.

Exit status: 0 success, 1 runtime failure, 2 configuration or usage error.
`

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the subcommand named by args[0] and returns the exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest)
	case "watch":
		return cmdWatch(rest)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "test":
		return cmdTest(rest, os.Stdin, stdout, stderr)
	case "auth":
		return cmdAuth(rest, stdout, stderr)
	case "status":
		return cmdStatus(rest, stdout, stderr)
	case "version", "--version", "-version":
		return cmdVersion(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "mailrules: unknown command %q\n\n%s", cmd, usage)
	return exitConfig
}
