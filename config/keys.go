package config

import (
	"slices"
	"strconv"

	"github.com/mailrules/mailrules/classify"
)

// Key describes one key of the configuration file. The loader takes
// exactly the keys of [Keys]: any other is reported as unknown, with the
// closest known key of its table as a suggestion, and a test checks that
// rules.example.toml or examples/ shows every one of them.
type Key struct {
	// Table is where the key goes: "" for the top level, "account",
	// "rule" and "classifier" for [[account]], [[rule]] and [[classifier]], "account.oauth2" for an
	// account's oauth2 table, "secret" for the tables that say where a
	// secret comes from (password, oauth2.client_secret,
	// oauth2.refresh_token, a classifier's password).
	Table string
	Name  string
	Type  string // the TOML value it takes, in words
	// Default is what leaving the key out means, in words; "" when the key
	// is required or leaving it out means nothing.
	Default string
	Doc     string // one line
}

// keyTable is every key the loader takes, table by table, in the order
// rules.example.toml introduces them. The file shape (fileConfig and the
// structs it holds) has one field for each; TestKeyTableMatchesFileShape
// checks that the two agree.
var keyTable = []Key{
	{"", "state", "string (a path)", "~/.local/state/mailrules/state.db ($XDG_STATE_HOME)", "state database, relative to the config file's directory"},
	{"", "account", "array of tables", "", "the IMAP accounts the rules run on"},
	{"", "rule", "array of tables", "", "the rules, applied in file order"},
	{"", "classifier", "array of tables", "", "spam classifiers (rspamd, spamd, a command) that rules can ask and learning teaches"},
	{"", "sieve", "string (a path)", "", "a Sieve script (RFC 5228) run on every account without a sieve of its own, after the [[rule]] tables; relative to the config file's directory"},
	{"", "sieve_global_dir", "string (a path)", "", "where include :global finds Sieve scripts (RFC 6609); relative to the config file's directory"},

	{"account", "name", "string", "", "the account's name, for rules, logs and state; unique"},
	{"account", "host", "string", "", "IMAP server host name; give host or command"},
	{"account", "port", "integer", "993 with tls = \"implicit\", 143 otherwise", "IMAP server port"},
	{"account", "tls", "string", "implicit", "implicit (TLS from the start), starttls, or none (loopback or allow_insecure only)"},
	{"account", "username", "string", "", "login name; required with host"},
	{"account", "password", "string or secret table", "", "{ env = ... }, { file = ... } or { command = ... }; a plaintext string only in a file only its owner can read"},
	{"account", "oauth2", "table", "", "how to get an OAuth 2.0 token: token_command, or client_id, refresh_token and token_url (and for mailrules auth, auth_url or device_auth_url)"},
	{"account", "auth", "string", "plain login, or xoauth2 with oauth2", "SASL mechanism: plain, login, xoauth2 or oauthbearer"},
	{"account", "command", "string or array of strings", "", "talk IMAP to a local process's stdin/stdout instead of host; a string runs with sh -c"},
	{"account", "mailboxes", "string or array of strings", "[\"INBOX\"]", "mailboxes run and watch look at, /-separated"},
	{"account", "trash", "string", "the server's \\Trash mailbox (SPECIAL-USE), or Trash", "where delete moves messages"},
	{"account", "expunge", "boolean", "false", "allow the bare EXPUNGE fallback on servers without UIDPLUS"},
	{"account", "allow_insecure", "boolean", "false", "permit a password over an unencrypted connection to a host that is not loopback"},
	{"account", "tls_skip_verify", "boolean", "false", "do not verify the server certificate (testing only)"},
	{"account", "tls_ca_file", "string (a path)", "the system's certificates", "PEM certificates to trust, relative to the config file's directory"},
	{"account", "poll_interval", "duration", "1m", "how often to check with NOOP when the server has no IDLE; at least 1s"},
	{"account", "idle_restart", "duration", "25m", "how long an IDLE lasts before it is re-issued; 1m to 29m"},
	{"account", "timeout", "duration", "2m", "how long to wait for the server before giving up on the connection; at most 1h"},
	{"account", "subscribe", "boolean", "false", "subscribe to mailboxes the rules create"},
	{"account", "sieve", "string (a path)", "the top-level sieve", "a Sieve script for this account instead of the top-level one, run after the [[rule]] tables"},
	{"account", "max_connections", "integer", "5", "the most connections watch opens to the account where the server has no NOTIFY (with NOTIFY it opens one); IDLE for the first mailboxes listed, STATUS polling every poll_interval for the rest"},
	{"account", "learn", "table", "", "teach classifiers from the user's moves: junk, ham and classifiers"},

	{"secret", "env", "string", "", "an environment variable holds the secret"},
	{"secret", "file", "string (a path)", "", "a file holds the secret (a final newline is dropped), relative to the config file's directory"},
	{"secret", "command", "string or array of strings", "", "the first line a command prints is the secret; a string runs with sh -c"},

	{"account.oauth2", "token_command", "string or array of strings", "", "a command that prints a fresh access token"},
	{"account.oauth2", "client_id", "string", "", "OAuth 2.0 client for the refresh-token grant"},
	{"account.oauth2", "client_secret", "secret table", "none (a public client)", "client secret for the refresh-token grant"},
	{"account.oauth2", "refresh_token", "secret table", "", "refresh token for the refresh-token grant"},
	{"account.oauth2", "token_url", "string", "", "token endpoint: https://, or http:// to a loopback host"},
	{"account.oauth2", "scopes", "string or array of strings", "", "scopes to ask for"},
	{"account.oauth2", "auth_url", "string", "", "authorization endpoint, for mailrules auth (authorization code grant with PKCE): https://, or http:// to a loopback host"},
	{"account.oauth2", "device_auth_url", "string", "", "device authorization endpoint; mailrules auth then uses the device grant (RFC 8628)"},
	{"account.oauth2", "store_command", "string or array of strings", "", "a command that receives the refresh token mailrules auth obtains on its stdin, e.g. pass insert -m NAME"},

	{"account.learn", "junk", "string", "", "the junk folder: a message the user (not mailrules) moves here is learned as spam"},
	{"account.learn", "ham", "string or array of strings", "none", "folders that count as ham: a message moved here out of the junk folder is learned as ham"},
	{"account.learn", "classifiers", "string or array of strings", "", "the classifiers to teach, by name"},

	{"rule", "name", "string", "", "the rule's name, for logs and summaries; unique"},
	{"rule", "when", "string", "", "an expr condition on the message"},
	{"rule", "move", "string", "", "mailbox (template) to move the message to; ends processing"},
	{"rule", "copy", "string or array of strings", "", "mailboxes (templates) to copy the message to"},
	{"rule", "flag", "string or array of strings", "", "flags to add"},
	{"rule", "unflag", "string or array of strings", "", "flags to remove"},
	{"rule", "seen", "boolean", "leave \\Seen alone", "true adds \\Seen, false removes it"},
	{"rule", "delete", "boolean", "false", "move the message to the account's trash; ends processing"},
	{"rule", "expunge", "boolean", "false", "remove the message permanently; ends processing"},
	{"rule", "stop", "boolean", "false", "end processing of the message after this rule"},
	{"rule", "accounts", "string or array of strings", "every account", "limit the rule to these accounts"},
	{"rule", "mailboxes", "string or array of strings", "the account's mailboxes", "limit the rule to these mailboxes"},
	{"rule", "scope", "string", "new", "new: only messages that arrived since the last pass; all: the whole mailbox"},
	{"rule", "on", "string or array of strings", "[\"arrival\"]", "when the rule looks at a message: arrival (new mail, or the sweep of scope = \"all\"), flags (its flags changed, by another client than mailrules; needs CONDSTORE to be cheap)"},

	// The defaults come from package classify.
	{"classifier", "name", "string", "", "the classifier's name, for rules and logs; unique"},
	{"classifier", "type", "string", "", "rspamd (its HTTP protocol), spamd (SpamAssassin's spamd protocol) or command (any program, the message on its stdin)"},
	{"classifier", "url", "string", classify.DefaultRspamdURL, "rspamd: the normal worker, where messages are checked (POST /checkv2)"},
	{"classifier", "controller_url", "string", classify.DefaultRspamdControllerURL, "rspamd: the controller, where messages are learned (/learnspam, /learnham) and /stat read"},
	{"classifier", "password", "string or secret table", "", "rspamd: the controller's password, sent only to the controller; { env = ... }, { file = ... } or { command = ... }"},
	{"classifier", "settings_id", "string", "", "rspamd: a Settings-Id header, to pick settings configured in rspamd"},
	{"classifier", "address", "string", classify.DefaultSpamdAddress, "spamd: host:port, or the path of a unix socket"},
	{"classifier", "user", "string", "", "spamd: the User header, whose preferences and Bayes database spamd uses"},
	{"classifier", "command", "string or array of strings", "", "command: the program that gets each message on its stdin; a string runs with sh -c"},
	{"classifier", "learn_command", "string or array of strings", "", "command: the program that learns a message from its stdin; the class (spam or ham) is in $MAILRULES_CLASS and replaces {class} in its arguments"},
	{"classifier", "output", "string", "exit", "command: exit (exit code 0 spam, 1 ham, 2 unsure, anything else an error) or json ({\"score\": .., \"required\": .., \"spam\": .., \"symbols\": [..]} on stdout)"},
	{"classifier", "timeout", "duration", classify.DefaultTimeout.String(), "how long one request may take before the message counts as not classified"},
	{"classifier", "concurrency", "integer", strconv.Itoa(classify.DefaultConcurrency), "requests in flight at most"},
	{"classifier", "max_size", "integer or string (bytes, \"500KB\", \"50MB\")", "50MB for rspamd (rspamd's own limit), 500KB for spamd and command (spamc's -s)", "larger messages are not sent; their verdict says skipped"},
}

// Keys returns every key the configuration file takes, table by table.
func Keys() []Key { return slices.Clone(keyTable) }

// keyTableOf names the table of keyTable that the table at path (as
// toml.Key.String names it: "account", "account.password") takes its keys
// from.
func keyTableOf(path string) string {
	switch path {
	case "account.password", "account.oauth2.client_secret", "account.oauth2.refresh_token", "classifier.password":
		return "secret"
	}
	return path
}

// knownKeys lists the names of the keys the table at path takes.
func knownKeys(path string) []string {
	table := keyTableOf(path)
	var out []string
	for _, k := range keyTable {
		if k.Table == table {
			out = append(out, k.Name)
		}
	}
	return out
}

// isKnownKey reports whether the table at path takes the key name.
func isKnownKey(path, name string) bool {
	return slices.Contains(knownKeys(path), name)
}
