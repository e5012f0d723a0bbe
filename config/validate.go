package config

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/internal/tomlpos"
	"github.com/mailrules/mailrules/rules"
)

// owner is the table a key belongs to: an [[account]] or a
// [[classifier]], by number and name; problems with its keys name it.
type owner struct {
	table string // "account" or "classifier"
	index int
	name  string
}

func (o owner) label(key string) string {
	label := fmt.Sprintf("%s[%d]", o.table, o.index)
	if key != "" {
		label += "." + key
	}
	return label
}

func (l *loader) ownerProblem(o owner, key, format string, args ...any) {
	if o.table == "classifier" {
		l.classifierProblem(o.index, o.name, key, format, args...)
		return
	}
	l.accountProblem(o.index, o.name, key, format, args...)
}

func (l *loader) ownerWarning(o owner, key, format string, args ...any) {
	l.warnings = append(l.warnings, diag.Problem{Pos: l.ix.KeyPos(o.label(key)), Severity: diag.Warning,
		Msg: fmt.Sprintf("%s %q: ", o.table, o.name) + fmt.Sprintf(format, args...)})
}

// secret decodes a secret source of the table o: { env = }, { file = },
// { command = } or, when allowPlain, a plaintext string.
func (l *loader) secret(o owner, key string, p toml.Primitive, allowPlain bool) *Secret {
	if !isPrimitiveSet(p) {
		return nil
	}
	label := o.label(key)
	v := l.value(p)
	plain, isString := v.(string)
	if !isString && !isTable(v) {
		want := "{ env = ... }, { file = ... } or { command = ... }"
		if allowPlain {
			want = "a string or " + want
		}
		l.typeError(label, "got %s, want %s", tomlTypeName(v), want)
		return nil
	}
	if isString {
		if !allowPlain {
			l.ownerProblem(o, key, "%s must be { env = ... }, { file = ... } or { command = ... }", key)
			return nil
		}
		if l.mode.Perm()&0o077 != 0 {
			l.ownerProblem(o, key,
				"plaintext %s in a file others can read (mode %04o): use { env = ... }, { file = ... } or { command = ... }, or chmod 600 %s",
				key, l.mode.Perm(), l.path)
			return nil
		}
		l.ownerWarning(o, key, "plaintext %s in the config file; prefer { env = ... }, { file = ... } or { command = ... }", key)
		return &Secret{value: plain, plain: true}
	}
	var fs fileSecret
	path := append(toml.Key{o.table}, strings.Split(key, ".")...)
	if !l.decodeTable(p, reflect.ValueOf(&fs).Elem(), path, label) || l.hasTypeError(label) {
		return nil
	}
	n := 0
	for _, set := range []bool{fs.Env != "", fs.File != "", len(fs.Command) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		l.ownerProblem(o, key, "%s: give exactly one of env, file and command", key)
		return nil
	}
	s := &Secret{Env: fs.Env, Command: fs.Command}
	if fs.File != "" {
		s.File = l.resolvePath(fs.File)
	}
	return s
}

func parseDuration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. \"90s\", \"5m\", \"1h\")", s)
	}
	return d, nil
}

// loadCAFile reads the PEM certificates of a tls_ca_file, once: the
// session dials with the pool it returns.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls_ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls_ca_file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// account validates and fills in one [[account]].
func (l *loader) account(i int, fa *fileAccount) *Account {
	a := &Account{
		Name: fa.Name, Host: fa.Host, Port: fa.Port, Username: fa.Username, Auth: strings.ToLower(fa.Auth),
		Command: fa.Command, Mailboxes: fa.Mailboxes, Trash: fa.Trash, Expunge: fa.Expunge,
		AllowInsecure: fa.AllowInsecure, TLSSkipVerify: fa.TLSSkipVerify, Subscribe: fa.Subscribe,
	}
	label := fmt.Sprintf("account[%d]", i)
	a.Pos = l.ix.KeyPos(label)
	name := a.Name
	if strings.TrimSpace(name) == "" && !l.bad[label+".name"] {
		l.accountProblem(i, "", "", "missing name")
	}
	if len(a.Mailboxes) == 0 {
		a.Mailboxes = []string{"INBOX"}
	}
	if l.bad[label+".mailboxes"] {
		l.badMailboxes[a] = true
	}
	for k, m := range a.Mailboxes {
		if strings.TrimSpace(m) == "" || strings.HasPrefix(m, "/") || strings.HasSuffix(m, "/") || strings.Contains(m, "//") {
			l.problems = append(l.problems, diag.Problem{Pos: l.accountValuePos(i, "mailboxes", k),
				Msg: fmt.Sprintf("account %q: mailbox %q: not a valid /-separated path", name, m)})
		}
	}
	switch {
	case a.Host != "" && len(a.Command) > 0:
		l.accountProblem(i, name, "command", "give host or command, not both")
	case a.Host == "" && len(a.Command) == 0 && !l.bad[label+".host"] && !l.bad[label+".command"]:
		l.accountProblem(i, name, "", "missing host (or command, to talk IMAP to a local process)")
	}
	if len(a.Command) > 0 {
		if fa.TLS != nil {
			l.accountProblem(i, name, "tls", "tls has no meaning for a command account")
		}
		if fa.Port != 0 {
			l.accountProblem(i, name, "port", "port has no meaning for a command account")
		}
	} else {
		a.TLS = "implicit"
		if fa.TLS != nil {
			a.TLS = strings.ToLower(*fa.TLS)
		}
		switch a.TLS {
		case "implicit":
			if a.Port == 0 {
				a.Port = 993
			}
		case "starttls", "none":
			if a.Port == 0 {
				a.Port = 143
			}
		default:
			l.accountProblem(i, name, "tls", "tls = %q: want \"implicit\", \"starttls\" or \"none\"", a.TLS)
		}
		if a.Port < 0 || a.Port > 65535 {
			l.accountProblem(i, name, "port", "port %d out of range", a.Port)
		}
		if a.TLS == "none" && a.Host != "" && !isLoopback(a.Host) && !a.AllowInsecure {
			l.accountProblem(i, name, "tls",
				"tls = \"none\" to %s would send the password unencrypted; use \"implicit\" or \"starttls\", or set allow_insecure = true", a.Host)
		}
		if a.TLSSkipVerify {
			l.accountWarning(i, name, "tls_skip_verify", "tls_skip_verify = true: the server's certificate is not checked")
		}
		if fa.TLSCAFile != "" {
			a.TLSCAFile = l.resolvePath(fa.TLSCAFile)
			pool, err := loadCAFile(a.TLSCAFile)
			if err != nil {
				l.accountProblem(i, name, "tls_ca_file", "%v", err)
			}
			a.TLSRootCAs = pool
		}
	}

	switch a.Auth {
	case "", "plain", "login", "xoauth2", "oauthbearer":
	default:
		l.accountProblem(i, name, "auth", "auth = %q: want \"plain\", \"login\", \"xoauth2\" or \"oauthbearer\"", fa.Auth)
	}
	a.Password = l.secret(owner{"account", i, name}, "password", fa.Password, true)
	if isPrimitiveSet(fa.OAuth2) {
		a.OAuth2 = l.oauth2(i, name, fa.OAuth2)
		if a.Auth == "" {
			a.Auth = "xoauth2"
		}
	}
	if isPrimitiveSet(fa.Learn) {
		a.Learn = l.learn(i, name, fa.Learn)
	}
	oauth := a.Auth == "xoauth2" || a.Auth == "oauthbearer"
	switch {
	case oauth && !isPrimitiveSet(fa.OAuth2):
		l.accountProblem(i, name, "auth", "auth = %q needs an oauth2 = { token_command = ... } or refresh-token table", a.Auth)
	case !oauth && isPrimitiveSet(fa.OAuth2) && a.Auth != "":
		l.accountProblem(i, name, "oauth2", "oauth2 is set but auth = %q; use auth = \"xoauth2\" or \"oauthbearer\"", a.Auth)
	case a.Host != "" && !oauth && !isPrimitiveSet(fa.Password):
		l.accountProblem(i, name, "", "missing password source: password = { env = \"VAR\" }, { file = \"path\" } or { command = \"...\" }")
	}
	if a.Host != "" && a.Username == "" && !l.bad[label+".username"] {
		l.accountProblem(i, name, "", "missing username")
	}
	var err error
	if a.PollInterval, err = parseDuration(fa.PollInterval, DefaultPollInterval); err != nil {
		l.accountProblem(i, name, "poll_interval", "poll_interval: %v", err)
	} else if a.PollInterval < time.Second {
		l.accountProblem(i, name, "poll_interval", "poll_interval %s is too short (at least 1s)", a.PollInterval)
	}
	if a.IdleRestart, err = parseDuration(fa.IdleRestart, DefaultIdleRestart); err != nil {
		l.accountProblem(i, name, "idle_restart", "idle_restart: %v", err)
	} else if a.IdleRestart < time.Minute || a.IdleRestart > MaxIdleRestart {
		l.accountProblem(i, name, "idle_restart", "idle_restart %s: want between 1m and 29m (RFC 2177: servers may drop a client idle for 30 minutes)", a.IdleRestart)
	}
	a.MaxConnections = DefaultMaxConnections
	if fa.MaxConnections != nil {
		if n := *fa.MaxConnections; n < 1 || n > 1000 {
			l.accountProblem(i, name, "max_connections", "max_connections = %d: want at least 1 (and at most 1000); Gmail allows 15 in all, shared with the user's other mail clients", n)
		} else {
			a.MaxConnections = int(n)
		}
	}
	if a.Timeout, err = parseDuration(fa.Timeout, DefaultTimeout); err != nil {
		l.accountProblem(i, name, "timeout", "timeout: %v", err)
	} else if a.Timeout <= 0 || a.Timeout > MaxTimeout {
		l.accountProblem(i, name, "timeout", "timeout %s: want more than 0s and at most 1h", a.Timeout)
	}
	return a
}

func (l *loader) accountValuePos(i int, key string, index int) diag.Position {
	label := fmt.Sprintf("account[%d].%s", i, key)
	if p, ok := l.ix.ValuePos(label, index, 0); ok {
		return p
	}
	return l.ix.KeyPos(label)
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// secureTokenURL reports whether the client secret and refresh token may
// be posted to raw: over https, or over http only to a loopback host
// (a test or a local token broker). The host is parsed, not matched as a
// prefix, so that "http://localhost.example.net" does not pass.
func secureTokenURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return isLoopback(u.Hostname())
	}
	return false
}

// oauth2 decodes an oauth2 table.
func (l *loader) oauth2(i int, name string, p toml.Primitive) *OAuth2 {
	var fo fileOAuth2
	label := fmt.Sprintf("account[%d].oauth2", i)
	if !l.decodeTable(p, reflect.ValueOf(&fo).Elem(), toml.Key{"account", "oauth2"}, label) {
		return nil
	}
	o := &OAuth2{TokenCommand: fo.TokenCommand, ClientID: fo.ClientID, TokenURL: fo.TokenURL, Scopes: fo.Scopes,
		AuthURL: fo.AuthURL, DeviceAuthURL: fo.DeviceAuthURL, StoreCommand: fo.StoreCommand}
	o.ClientSecret = l.secret(owner{"account", i, name}, "oauth2.client_secret", fo.ClientSecret, false)
	o.RefreshToken = l.secret(owner{"account", i, name}, "oauth2.refresh_token", fo.RefreshToken, false)
	if l.hasTypeError(label) {
		return o // what is missing may only be what had the wrong type
	}
	refresh := o.ClientID != "" || o.RefreshToken != nil || o.TokenURL != "" || o.ClientSecret != nil ||
		o.AuthURL != "" || o.DeviceAuthURL != "" || len(o.StoreCommand) > 0
	switch {
	case len(o.TokenCommand) > 0 && refresh:
		l.accountProblem(i, name, "oauth2", "oauth2: give token_command or the refresh-token fields, not both")
	case len(o.TokenCommand) == 0 && !refresh:
		l.accountProblem(i, name, "oauth2", "oauth2: give token_command, or client_id, refresh_token and token_url")
	case refresh:
		var missing []string
		if o.ClientID == "" {
			missing = append(missing, "client_id")
		}
		if o.RefreshToken == nil {
			missing = append(missing, "refresh_token")
		}
		if o.TokenURL == "" {
			missing = append(missing, "token_url")
		} else if !secureTokenURL(o.TokenURL) {
			l.accountProblem(i, name, "oauth2.token_url", "oauth2: token_url must be https:// (http:// only to a loopback host)")
		}
		// The authorization endpoints get no secret, but the code
		// and device grants' answers are what the refresh token is
		// made of; the same rule as for token_url keeps them private.
		for _, u := range []struct{ key, url string }{{"auth_url", o.AuthURL}, {"device_auth_url", o.DeviceAuthURL}} {
			if u.url != "" && !secureTokenURL(u.url) {
				l.accountProblem(i, name, "oauth2."+u.key, "oauth2: %s must be https:// (http:// only to a loopback host)", u.key)
			}
		}
		if len(missing) > 0 {
			l.accountProblem(i, name, "oauth2", "oauth2: missing %s", strings.Join(missing, ", "))
		}
	}
	return o
}

// spec turns one [[rule]] into a rules.Spec with positions.
func (l *loader) spec(i int, fr *fileRule) rules.Spec {
	label := fmt.Sprintf("rule[%d]", i)
	return rules.Spec{
		Name: fr.Name, When: fr.When, Move: fr.Move, Copy: fr.Copy, Flag: fr.Flag, Unflag: fr.Unflag,
		Seen: fr.Seen, Delete: fr.Delete, Expunge: fr.Expunge, Stop: fr.Stop,
		Accounts: fr.Accounts, Mailboxes: fr.Mailboxes, Scope: rules.Scope(fr.Scope),
		On:  fr.On,
		Pos: l.ix.KeyPos(label),
		Loc: ruleLocator{ix: l.ix, label: label},
	}
}

// ruleLocator implements rules.Locator for one [[rule]].
type ruleLocator struct {
	ix    *tomlpos.Index
	label string
}

// Locate implements rules.Locator.
func (r ruleLocator) Locate(field string, index, offset int) (diag.Position, bool) {
	return r.ix.ValuePos(r.label+"."+field, index, offset)
}

// crossCheck checks what spans accounts and rules: accounts a rule names
// exist, mailboxes a rule names are watched by an account it applies to.
func (l *loader) crossCheck(cfg *Config) {
	byName := map[string]*Account{}
	for _, a := range cfg.Accounts {
		byName[a.Name] = a
	}
	for _, sp := range cfg.Specs {
		targets := cfg.Accounts
		if len(sp.Accounts) > 0 {
			targets = nil
			for k, name := range sp.Accounts {
				a, ok := byName[name]
				if !ok {
					pos, _ := sp.Loc.Locate("accounts", k, 0)
					msg := fmt.Sprintf("unknown account %q", name)
					var names []string
					for n := range byName {
						names = append(names, n)
					}
					sort.Strings(names)
					if s := rules.Closest(name, names); s != "" {
						msg += fmt.Sprintf("; did you mean %q?", s)
					} else if len(names) > 0 {
						msg += fmt.Sprintf(" (accounts: %s)", strings.Join(names, ", "))
					}
					l.problem(pos, sp.Name, "%s", msg)
					continue
				}
				targets = append(targets, a)
			}
		}
		for k, mb := range sp.Mailboxes {
			watched := false
			for _, a := range targets {
				watched = watched || l.badMailboxes[a]
				for _, m := range a.Mailboxes {
					if imap.MailboxEqual(m, mb) {
						watched = true
					}
				}
			}
			if !watched && len(targets) > 0 {
				pos, _ := sp.Loc.Locate("mailboxes", k, 0)
				l.problem(pos, sp.Name, "mailbox %q is not in the mailboxes of any account this rule applies to, so the rule would never run", mb)
			}
		}
		if sp.Delete {
			for _, a := range targets {
				for _, m := range a.Mailboxes {
					if a.Trash != "" && m == a.Trash {
						pos, _ := sp.Loc.Locate("delete", 0, 0)
						l.warnings = append(l.warnings, diag.Problem{Pos: pos, Rule: sp.Name, Severity: diag.Warning,
							Msg: fmt.Sprintf("account %q watches its Trash %q; delete there moves nothing", a.Name, m)})
					}
				}
			}
		}
	}
}
