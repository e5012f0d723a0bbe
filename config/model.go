package config

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/rules"
)

// Config is a loaded, validated configuration file: the model the engine
// runs on. [Load] makes one; code that builds one by hand (tests) fills in
// what Load would have defaulted.
type Config struct {
	Path      string // the file it was loaded from
	Accounts  []*Account
	Specs     []rules.Spec
	Rules     *rules.Set
	StatePath string // state database; "" means the default location
	// Classifiers are the [[classifier]] tables, in file order, with
	// their defaults filled in; classify.NewSet makes the clients.
	Classifiers []Classifier

	// Warnings are things that load but deserve attention (a plaintext
	// password in the file, certificate checks turned off), each with
	// Severity diag.Warning. check prints them.
	Warnings diag.Problems
}

// Account is one IMAP account. Load fills in the defaults: Port from TLS,
// Mailboxes ["INBOX"], PollInterval, IdleRestart and Timeout from the
// Default constants.
type Account struct {
	Name     string
	Host     string
	Port     int    // defaults from TLS: 993 implicit, 143 starttls and none
	TLS      string // implicit | starttls | none ("" for command accounts)
	Username string
	Password *Secret
	OAuth2   *OAuth2
	Auth     string   // "", plain, login, xoauth2, oauthbearer
	Command  []string // IMAP over a local process's stdin/stdout instead of Host
	// Mailboxes are what run and watch look at, "/"-separated; default ["INBOX"].
	Mailboxes     []string
	Trash         string // mailbox for delete; "" means the server's \Trash (SPECIAL-USE) or "Trash"
	Expunge       bool   // allow the bare EXPUNGE fallback on servers without UIDPLUS
	AllowInsecure bool   // permit a password over an unencrypted non-loopback connection
	TLSSkipVerify bool   // do not verify the server certificate (testing only)
	TLSCAFile     string // PEM certificates to trust instead of the system's (a private CA, a self-signed server)
	// TLSRootCAs holds the certificates of TLSCAFile, which the loader reads
	// once; nil means the system's. Sessions verify the server with it.
	TLSRootCAs   *x509.CertPool
	PollInterval time.Duration
	IdleRestart  time.Duration
	// Timeout is how long to wait for the server without receiving anything
	// before giving up on the command and the connection; the loader sets
	// it, DefaultTimeout when the file does not.
	Timeout   time.Duration
	Subscribe bool // subscribe to mailboxes the rules create
	// MaxConnections is the most connections watch holds to the account
	// at once where the server has no NOTIFY (DefaultMaxConnections when
	// the file sets none); with NOTIFY watch holds one.
	MaxConnections int
	// Learn, when set, teaches classifiers from the user's moves into and
	// out of the junk folder ([account.learn]).
	Learn *Learn
	Pos   diag.Position // where the [[account]] starts
}

// Classifier is one [[classifier]]: the settings package classify takes,
// and where the table starts.
type Classifier struct {
	classify.Config
	Pos diag.Position
}

// Defaults and limits for account settings.
const (
	// DefaultPollInterval is how often a mailbox is checked with NOOP when
	// the server has no IDLE and the account sets no poll_interval.
	DefaultPollInterval = 60 * time.Second
	// DefaultIdleRestart is how long an IDLE lasts before it is re-issued
	// when the account sets no idle_restart.
	DefaultIdleRestart = 25 * time.Minute
	// DefaultTimeout is an account's timeout when it sets none.
	DefaultTimeout = 2 * time.Minute
	// MaxIdleRestart is the longest an IDLE may last before it is re-issued:
	// servers may drop a client idle for 30 minutes (RFC 2177).
	MaxIdleRestart = 29 * time.Minute
	// MaxTimeout is the longest an account's timeout may be.
	MaxTimeout = time.Hour
	// DefaultMaxConnections is an account's connection budget when it
	// sets no max_connections: a third of Gmail's 15 simultaneous
	// connections per account, which the user's phone and desktop clients
	// share, and within the 5 to 10 that many other providers allow per
	// account or address. Four mailboxes get their own IDLE, the others
	// are polled together on the fifth.
	DefaultMaxConnections = 5
)

// DefaultConfigPath is $XDG_CONFIG_HOME/mailrules/config.toml, falling back
// to ~/.config/mailrules/config.toml.
func DefaultConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "mailrules", "config.toml")
}
