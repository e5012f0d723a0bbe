package classify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// The classifier types a [Config] can name.
const (
	TypeRspamd  = "rspamd"  // rspamd's HTTP protocol
	TypeSpamd   = "spamd"   // SpamAssassin's spamd protocol (SPAMC/1.5)
	TypeCommand = "command" // any program, the message on its stdin
)

// Output modes of a command classifier; see [Command].
const (
	OutputExit = "exit" // the exit code says: 0 spam, 1 ham, 2 unsure
	OutputJSON = "json" // standard output is a JSON object
)

// Defaults for what a [Config] leaves out.
const (
	// DefaultRspamdURL is rspamd's normal worker, where messages are checked.
	DefaultRspamdURL = "http://127.0.0.1:11333"
	// DefaultRspamdControllerURL is rspamd's controller, where messages are
	// learned and statistics read.
	DefaultRspamdControllerURL = "http://127.0.0.1:11334"
	// DefaultSpamdAddress is where spamd listens by default.
	DefaultSpamdAddress = "127.0.0.1:783"
	// DefaultTimeout bounds one request, once it has a concurrency slot.
	DefaultTimeout = 30 * time.Second
	// DefaultConcurrency is how many requests one classifier has in flight
	// at most.
	DefaultConcurrency = 8
	// DefaultRspamdMaxSize is rspamd's own limit on a scanned message (its
	// max_message option, 50 MB); rspamc sends whatever it is given and
	// leaves the limit to the server.
	DefaultRspamdMaxSize = 50 << 20
	// DefaultSpamdMaxSize is spamc's default for -s (500 KB): larger mail
	// is not sent to spamd.
	DefaultSpamdMaxSize = 500 << 10
	// DefaultCommandMaxSize is the same as spamc's, for programs that
	// usually sit behind a mail filter with the same habits (bogofilter,
	// spamc itself).
	DefaultCommandMaxSize = 500 << 10
)

// Secret is where a password comes from; *config.Secret is one. It is an
// interface so that this package does not depend on the config package.
type Secret interface {
	Resolve(ctx context.Context) (string, error)
}

// Config is one classifier's settings, as a [[classifier]] table gives
// them. Zero values mean the defaults above, which [Config.WithDefaults]
// fills in.
type Config struct {
	Name string
	Type string // TypeRspamd, TypeSpamd or TypeCommand

	// rspamd
	URL           string // the normal worker; DefaultRspamdURL
	ControllerURL string // the controller; DefaultRspamdControllerURL
	Password      Secret // sent to the controller only; nil for none
	SettingsID    string // Settings-Id header, when set

	// spamd
	Address string // host:port, or the path of a unix socket; DefaultSpamdAddress
	User    string // User header, when set

	// command
	Command      []string // argv; the message on its stdin
	LearnCommand []string // argv for learning; the class in MAILRULES_CLASS and {class}
	Output       string   // OutputExit (default) or OutputJSON

	Timeout     time.Duration // per request; DefaultTimeout
	Concurrency int           // requests in flight at most; DefaultConcurrency
	MaxSize     int64         // largest message sent, in bytes; the type's default
}

// WithDefaults returns c with the defaults of its type filled in.
func (c Config) WithDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	switch c.Type {
	case TypeRspamd:
		if c.URL == "" {
			c.URL = DefaultRspamdURL
		}
		if c.ControllerURL == "" {
			c.ControllerURL = DefaultRspamdControllerURL
		}
		if c.MaxSize == 0 {
			c.MaxSize = DefaultRspamdMaxSize
		}
	case TypeSpamd:
		if c.Address == "" {
			c.Address = DefaultSpamdAddress
		}
		if c.MaxSize == 0 {
			c.MaxSize = DefaultSpamdMaxSize
		}
	case TypeCommand:
		if c.Output == "" {
			c.Output = OutputExit
		}
		if c.MaxSize == 0 {
			c.MaxSize = DefaultCommandMaxSize
		}
	}
	return c
}

// Check reports what is wrong with c (after WithDefaults), one problem a
// string, keyed by the config key it is about. The config loader turns
// them into FILE:LINE:COL problems; New refuses a Config with any.
func (c Config) Check() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(c.Name) == "" {
		add("name", "missing name")
	}
	if c.Timeout < 0 {
		add("timeout", "timeout %s: want more than 0s", c.Timeout)
	}
	if c.Concurrency < 0 {
		add("concurrency", "concurrency %d: want at least 1", c.Concurrency)
	}
	if c.MaxSize < 0 {
		add("max_size", "max_size %d: want at least 1", c.MaxSize)
	}
	switch c.Type {
	case TypeRspamd:
		for _, u := range []struct{ key, url string }{{"url", c.URL}, {"controller_url", c.ControllerURL}} {
			if err := checkHTTPURL(u.url); err != nil {
				add(u.key, "%s: %v", u.key, err)
			}
		}
	case TypeSpamd:
		if !strings.HasPrefix(c.Address, "/") {
			if _, port, err := net.SplitHostPort(c.Address); err != nil || port == "" {
				add("address", "address %q: want host:port or the path of a unix socket", c.Address)
			}
		}
	case TypeCommand:
		if len(c.Command) == 0 {
			add("command", "missing command: the program that gets the message on its stdin")
		}
		if c.Output != OutputExit && c.Output != OutputJSON {
			add("output", "output = %q: want %q or %q", c.Output, OutputExit, OutputJSON)
		}
	case "":
		add("type", "missing type: want %q, %q or %q", TypeRspamd, TypeSpamd, TypeCommand)
	default:
		add("type", "unknown type %q: want %q, %q or %q", c.Type, TypeRspamd, TypeSpamd, TypeCommand)
	}
	for _, h := range []struct{ key, value string }{{"settings_id", c.SettingsID}, {"user", c.User}} {
		if strings.ContainsAny(h.value, "\r\n") {
			add(h.key, "%s: a line break cannot go into a request header", h.key)
		}
	}
	// Keys that belong to another type are mistakes worth saying.
	other := func(key string, set bool, types ...string) {
		if set && c.Type != "" && !contains(types, c.Type) {
			add(key, "%s has no meaning for a %s classifier", key, c.Type)
		}
	}
	other("controller_url", c.ControllerURL != "", TypeRspamd)
	other("password", c.Password != nil, TypeRspamd)
	other("settings_id", c.SettingsID != "", TypeRspamd)
	other("address", c.Address != "", TypeSpamd)
	other("user", c.User != "", TypeSpamd)
	other("command", len(c.Command) > 0, TypeCommand)
	other("learn_command", len(c.LearnCommand) > 0, TypeCommand)
	other("output", c.Output != "", TypeCommand)
	return ps
}

// Problem is one thing wrong with a Config.
type Problem struct {
	Key string // the config key it is about; "" for the table
	Msg string
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: want an http:// or https:// URL", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q: put the password in password, not in the URL", redactURL(u))
	}
	return nil
}

// redactURL prints u without its user information.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// New returns the classifier cfg describes, with its defaults filled in.
func New(cfg Config) (Classifier, error) {
	cfg = cfg.WithDefaults()
	if ps := cfg.Check(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Msg
		}
		return nil, fmt.Errorf("classifier %q: %s", cfg.Name, strings.Join(msgs, "; "))
	}
	switch cfg.Type {
	case TypeRspamd:
		return NewRspamd(cfg), nil
	case TypeSpamd:
		return NewSpamd(cfg), nil
	default:
		return NewCommand(cfg), nil
	}
}

// Set is the configured classifiers, by name.
type Set struct {
	byName map[string]Classifier
	names  []string
}

// NewSet makes the classifiers of cfgs; names must be unique.
func NewSet(cfgs []Config) (*Set, error) {
	s := &Set{byName: make(map[string]Classifier, len(cfgs))}
	var errs []error
	for _, c := range cfgs {
		if _, dup := s.byName[c.Name]; dup {
			errs = append(errs, fmt.Errorf("classifier %q: duplicate name", c.Name))
			continue
		}
		cl, err := New(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.byName[c.Name] = cl
		s.names = append(s.names, c.Name)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Get returns the classifier called name.
func (s *Set) Get(name string) (Classifier, bool) {
	if s == nil {
		return nil, false
	}
	c, ok := s.byName[name]
	return c, ok
}

// Names returns the classifiers' names in configuration order.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s.names...)
}
