package engine

import (
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/internal/tomlpos"
	"github.com/mailrules/mailrules/rules"
)

// Config is a loaded, validated configuration file.
type Config struct {
	Path      string // the file it was loaded from
	Accounts  []*Account
	Specs     []rules.Spec
	Rules     *rules.Set
	StatePath string // state database; "" means the default location

	// Warnings are things that load but deserve attention (a plaintext
	// password in the file, certificate checks turned off), each with
	// Severity diag.Warning. check prints them.
	Warnings diag.Problems
}

// Account is one IMAP account.
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
	PollInterval  time.Duration
	IdleRestart   time.Duration
	// Timeout is how long to wait for the server without receiving anything
	// before giving up on the command and the connection; the loader sets
	// it, DefaultTimeout when the file does not.
	Timeout   time.Duration
	Subscribe bool // subscribe to mailboxes the rules create
	Pos       diag.Position
}

// Defaults and limits for account settings.
const (
	DefaultPollInterval = 60 * time.Second
	DefaultIdleRestart  = 25 * time.Minute
	DefaultTimeout      = 2 * time.Minute
	// MaxIdleRestart is the longest an IDLE may last before it is re-issued:
	// servers may drop a client idle for 30 minutes (RFC 2177).
	MaxIdleRestart = 29 * time.Minute
	// MaxTimeout is the longest an account's timeout may be.
	MaxTimeout = time.Hour
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

// The file's shape. decodeFields fills these one key at a time, by their
// toml tags; it reports keys without a field as unknown and values of the
// wrong type as problems.
type fileConfig struct {
	State   string        `toml:"state"`
	Account []fileAccount `toml:"account"`
	Rule    []fileRule    `toml:"rule"`
}

type fileAccount struct {
	Name          string         `toml:"name"`
	Host          string         `toml:"host"`
	Port          int            `toml:"port"`
	TLS           *string        `toml:"tls"`
	Username      string         `toml:"username"`
	Password      toml.Primitive `toml:"password"`
	OAuth2        toml.Primitive `toml:"oauth2"`
	Auth          string         `toml:"auth"`
	Command       argv           `toml:"command"`
	Mailboxes     stringList     `toml:"mailboxes"`
	Trash         string         `toml:"trash"`
	Expunge       bool           `toml:"expunge"`
	AllowInsecure bool           `toml:"allow_insecure"`
	TLSSkipVerify bool           `toml:"tls_skip_verify"`
	TLSCAFile     string         `toml:"tls_ca_file"`
	PollInterval  string         `toml:"poll_interval"`
	IdleRestart   string         `toml:"idle_restart"`
	Timeout       string         `toml:"timeout"`
	Subscribe     bool           `toml:"subscribe"`
}

type fileSecret struct {
	Env     string `toml:"env"`
	File    string `toml:"file"`
	Command argv   `toml:"command"`
}

type fileOAuth2 struct {
	TokenCommand argv           `toml:"token_command"`
	ClientID     string         `toml:"client_id"`
	ClientSecret toml.Primitive `toml:"client_secret"`
	RefreshToken toml.Primitive `toml:"refresh_token"`
	TokenURL     string         `toml:"token_url"`
	Scopes       stringList     `toml:"scopes"`
}

type fileRule struct {
	Name      string     `toml:"name"`
	When      string     `toml:"when"`
	Move      string     `toml:"move"`
	Copy      stringList `toml:"copy"`
	Flag      stringList `toml:"flag"`
	Unflag    stringList `toml:"unflag"`
	Seen      *bool      `toml:"seen"`
	Delete    bool       `toml:"delete"`
	Expunge   bool       `toml:"expunge"`
	Stop      bool       `toml:"stop"`
	Accounts  stringList `toml:"accounts"`
	Mailboxes stringList `toml:"mailboxes"`
	Scope     string     `toml:"scope"`
}

// stringList is a TOML array of strings; a single string is accepted too.
type stringList []string

// UnmarshalTOML implements toml.Unmarshaler.
func (l *stringList) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		*l = stringList{x}
		return nil
	case []any:
		out := make(stringList, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("element %d is %s, want a string", i+1, tomlTypeName(e))
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("got %s, want a string or an array of strings", tomlTypeName(v))
}

// argv is a command: an array is the argument vector, a string is run with
// sh -c.
type argv []string

// UnmarshalTOML implements toml.Unmarshaler.
func (a *argv) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return errors.New("empty command")
		}
		*a = argv{"sh", "-c", x}
		return nil
	case []any:
		if len(x) == 0 {
			return errors.New("empty command")
		}
		out := make(argv, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("argument %d is %s, want a string", i+1, tomlTypeName(e))
			}
			out = append(out, s)
		}
		*a = out
		return nil
	}
	return fmt.Errorf("got %s, want a string (run with sh -c) or an array of arguments", tomlTypeName(v))
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("%T", v)
}

// Load reads, validates and compiles the configuration at path. Every
// problem found is returned at once as diag.Problems, each with its
// FILE:LINE:COL.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, diag.Problems{{Pos: diag.Position{File: path}, Msg: fmt.Sprintf("read config: %v", err)}}
	}
	var mode os.FileMode
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode()
	}
	return parse(path, string(data), mode)
}

// loader carries the state of one Load.
type loader struct {
	path     string
	dir      string
	ix       *tomlpos.Index
	md       toml.MetaData
	mode     os.FileMode
	problems diag.Problems
	warnings diag.Problems

	// Filled while decoding: values of the wrong type, in the order found,
	// their labels (see tomlpos) as a set, and the paths (toml.Key.String)
	// of keys no field takes.
	typeErrs []typeError
	bad      map[string]bool
	unknown  map[string]bool
	// Accounts whose mailboxes key had the wrong type: they watch INBOX for
	// now, and what a rule says about their mailboxes is not checked.
	badMailboxes map[*Account]bool
}

// typeError is a value of the wrong type, reported once the names of the
// accounts and rules are known.
type typeError struct {
	label string // "account[0].port", "rule[1].seen", "state"
	msg   string // "got a string, want an integer"
}

func (l *loader) problem(pos diag.Position, name, format string, args ...any) {
	l.problems = append(l.problems, diag.Problem{Pos: pos, Rule: name, Msg: fmt.Sprintf(format, args...)})
}

// accountProblem reports a problem with an account; Problem.Rule holds no
// rule then, so the account is named in the message.
func (l *loader) accountProblem(i int, name, key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if name != "" {
		msg = fmt.Sprintf("account %q: %s", name, msg)
	} else {
		msg = fmt.Sprintf("account #%d: %s", i+1, msg)
	}
	label := fmt.Sprintf("account[%d]", i)
	if key != "" {
		label += "." + key
	}
	l.problems = append(l.problems, diag.Problem{Pos: l.ix.KeyPos(label), Msg: msg})
}

func (l *loader) accountWarning(i int, name, key, format string, args ...any) {
	label := fmt.Sprintf("account[%d]", i)
	if key != "" {
		label += "." + key
	}
	l.warnings = append(l.warnings, diag.Problem{Pos: l.ix.KeyPos(label), Severity: diag.Warning,
		Msg: fmt.Sprintf("account %q: ", name) + fmt.Sprintf(format, args...)})
}

var tomlLineRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// parse does the work of Load on the file's contents.
func parse(path, src string, mode os.FileMode) (*Config, error) {
	l := &loader{path: path, dir: filepath.Dir(path), mode: mode,
		bad: map[string]bool{}, unknown: map[string]bool{}, badMailboxes: map[*Account]bool{}}
	// Only a syntax error stops here: the values stay undecoded, and
	// decodeFields decodes them one key at a time.
	var root map[string]toml.Primitive
	md, err := toml.Decode(src, &root)
	if err != nil {
		return nil, l.decodeError(err)
	}
	l.md = md
	l.ix = tomlpos.New(path, src)
	var fc fileConfig
	l.decodeFields(root, reflect.ValueOf(&fc).Elem(), nil, "")

	cfg := &Config{Path: path}
	if fc.State != "" {
		cfg.StatePath = l.resolvePath(fc.State)
	}
	names := map[string]int{}
	for i := range fc.Account {
		if l.bad[fmt.Sprintf("account[%d]", i)] {
			continue // not a table
		}
		a := l.account(i, &fc.Account[i])
		if a.Name != "" {
			if j, dup := names[a.Name]; dup {
				l.accountProblem(i, a.Name, "name", "duplicate account name (first at %s)", cfg.Accounts[j].Pos)
			} else {
				names[a.Name] = len(cfg.Accounts)
			}
		}
		cfg.Accounts = append(cfg.Accounts, a)
	}
	// An account or rule key of the wrong type has its own problem.
	if len(fc.Account) == 0 && !l.bad["account"] {
		l.problem(diag.Position{File: path}, "", "no [[account]]: nothing to run the rules on")
	}
	if len(fc.Rule) == 0 && !l.bad["rule"] {
		l.problem(diag.Position{File: path}, "", "no [[rule]]")
	}
	for i := range fc.Rule {
		if l.bad[fmt.Sprintf("rule[%d]", i)] {
			continue
		}
		cfg.Specs = append(cfg.Specs, l.spec(i, &fc.Rule[i]))
	}
	// After the accounts: their secrets are decoded there, which finds the
	// unknown keys and the type errors inside them.
	l.reportTypeErrors(&fc)
	l.unknownKeys(&fc)
	l.crossCheck(cfg)
	set, err := rules.Compile(cfg.Specs)
	if err != nil {
		var ps diag.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				if !l.followsTypeError(p, cfg.Specs) {
					l.problems = append(l.problems, p)
				}
			}
		} else {
			l.problem(diag.Position{File: path}, "", "%v", err)
		}
	}
	cfg.Rules = set
	cfg.Warnings = l.warnings
	if len(l.problems) > 0 {
		l.problems.Sort()
		return nil, l.problems
	}
	return cfg, nil
}

// decodeError turns a toml syntax error into a located problem.
func (l *loader) decodeError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" && !strings.Contains(msg, pe.LastKey) {
			msg = fmt.Sprintf("%s: %s", pe.LastKey, msg)
		}
		return diag.Problems{{Pos: diag.Position{File: l.path, Line: pe.Position.Line, Col: pe.Position.Col}, Msg: "toml: " + msg}}
	}
	return diag.Problems{{Pos: diag.Position{File: l.path}, Msg: err.Error()}}
}

var primitiveType = reflect.TypeOf(toml.Primitive{})

// decodeTable decodes the TOML table in p into the struct dst with
// decodeFields. A value that is not a table is a type error; decodeTable
// then reports false and leaves dst alone.
func (l *loader) decodeTable(p toml.Primitive, dst reflect.Value, path toml.Key, label string) bool {
	// Asked for a map, PrimitiveDecode leaves it nil, with no error, when the
	// value is not a table: look at the value first.
	if v := l.value(p); !isTable(v) {
		l.typeError(label, "got %s, want a table", tomlTypeName(v))
		return false
	}
	var table map[string]toml.Primitive
	if err := l.md.PrimitiveDecode(p, &table); err != nil {
		l.typeError(label, "%s", trimTOMLError(err))
		return false
	}
	l.decodeFields(table, dst, path, label)
	return true
}

// decodeFields decodes the keys of a table into the fields of the struct
// dst by their toml tags, one key at a time, so that one value of the
// wrong type hides nothing else: it becomes a type error, and its field
// stays zero. Keys that no field takes are recorded as unknown. path is
// the table's key as MetaData names it, label its tomlpos label.
func (l *loader) decodeFields(table map[string]toml.Primitive, dst reflect.Value, path toml.Key, label string) {
	t := dst.Type()
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		fields[t.Field(i).Tag.Get("toml")] = i
	}
	// In a stable order: problems the index cannot place share a position.
	for _, key := range slices.Sorted(maps.Keys(table)) {
		p := table[key]
		keyPath := append(path[:len(path):len(path)], key)
		i, ok := fields[key]
		if !ok {
			l.unknown[keyPath.String()] = true
			continue
		}
		keyLabel := key
		if label != "" {
			keyLabel = label + "." + key
		}
		l.decodeField(p, dst.Field(i), keyPath, keyLabel)
	}
}

// decodeField decodes one value into the field f. A toml.Primitive field
// keeps the value for later; a slice of structs takes an array of tables.
func (l *loader) decodeField(p toml.Primitive, f reflect.Value, path toml.Key, label string) {
	switch {
	case f.Type() == primitiveType:
		f.Set(reflect.ValueOf(p))
		return
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
		var elems []toml.Primitive
		if err := l.md.PrimitiveDecode(p, &elems); err != nil {
			l.typeError(label, "got %s, want [[%s]] tables", l.tomlType(p), path[len(path)-1])
			return
		}
		f.Set(reflect.MakeSlice(f.Type(), len(elems), len(elems)))
		for k, e := range elems {
			l.decodeTable(e, f.Index(k), path, fmt.Sprintf("%s[%d]", label, k))
		}
		return
	}
	err := l.md.PrimitiveDecode(p, f.Addr().Interface())
	if err == nil {
		return
	}
	f.Set(reflect.Zero(f.Type())) // a pointer may have been allocated
	var pe toml.ParseError
	got, want := l.tomlType(p), goTypeName(f.Type())
	switch {
	case errors.As(err, &pe):
		l.typeError(label, "%s", pe.Message) // from an UnmarshalTOML method
	case got == want:
		l.typeError(label, "%s", trimTOMLError(err))
	default:
		l.typeError(label, "got %s, want %s", got, want)
	}
}

func (l *loader) typeError(label, format string, args ...any) {
	l.typeErrs = append(l.typeErrs, typeError{label: label, msg: fmt.Sprintf(format, args...)})
	l.bad[label] = true
}

// hasTypeError reports whether the key with the label, or any key inside
// it, had a value of the wrong type.
func (l *loader) hasTypeError(label string) bool {
	for bad := range l.bad {
		if bad == label || strings.HasPrefix(bad, label+".") || strings.HasPrefix(bad, label+"[") {
			return true
		}
	}
	return false
}

// value returns the value in p as the toml package represents it: string,
// int64, map[string]any and so on. Decoding into an empty interface only
// copies the value, so it cannot fail.
func (l *loader) value(p toml.Primitive) any {
	var v any
	_ = l.md.PrimitiveDecode(p, &v)
	return v
}

// tomlType names the TOML type of the value in p.
func (l *loader) tomlType(p toml.Primitive) string { return tomlTypeName(l.value(p)) }

func isTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// goTypeName names the TOML type a field of type t takes, the way
// tomlTypeName names values.
func goTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Struct, reflect.Map:
		return "a table"
	case reflect.Slice:
		return "an array"
	}
	return t.String()
}

var labelRE = regexp.MustCompile(`^(account|rule)\[(\d+)\](?:\.(.+))?$`)

// reportTypeErrors turns the type errors into problems, naming the account
// or rule they are in.
func (l *loader) reportTypeErrors(fc *fileConfig) {
	for _, te := range l.typeErrs {
		m := labelRE.FindStringSubmatch(te.label)
		if m == nil {
			l.problem(l.ix.KeyPos(te.label), "", "%s: %s", te.label, te.msg)
			continue
		}
		n, _ := strconv.Atoi(m[2])
		key, msg := m[3], te.msg
		if key != "" {
			msg = key + ": " + msg
		}
		switch m[1] {
		case "account":
			name := ""
			if n < len(fc.Account) {
				name = fc.Account[n].Name
			}
			l.accountProblem(n, name, key, "%s", msg)
		case "rule":
			name := ""
			if n < len(fc.Rule) {
				name = fc.Rule[n].Name
			}
			if name == "" {
				msg = fmt.Sprintf("rule #%d: %s", n+1, msg)
			}
			l.problem(l.ix.KeyPos(te.label), name, "%s", msg)
		}
	}
}

// followsTypeError reports whether a problem rules.Compile found in a rule
// only follows from a type error already reported: the key is left empty,
// so the rule seems to have no name, no condition or no action.
func (l *loader) followsTypeError(p diag.Problem, specs []rules.Spec) bool {
	for _, sp := range specs {
		loc, ok := sp.Loc.(ruleLocator)
		if !ok || sp.Pos != p.Pos {
			continue
		}
		switch {
		case strings.HasSuffix(p.Msg, "has no name"):
			return l.bad[loc.label+".name"]
		case strings.HasPrefix(p.Msg, "missing when"):
			return l.bad[loc.label+".when"]
		case strings.HasPrefix(p.Msg, "no action"):
			return l.hasTypeError(loc.label)
		}
	}
	return false
}

// knownKeys lists the keys each table accepts, for did-you-mean.
func knownKeys(table string) []string {
	var t reflect.Type
	switch table {
	case "":
		t = reflect.TypeOf(fileConfig{})
	case "account":
		t = reflect.TypeOf(fileAccount{})
	case "rule":
		t = reflect.TypeOf(fileRule{})
	case "account.password", "account.oauth2.client_secret", "account.oauth2.refresh_token":
		t = reflect.TypeOf(fileSecret{})
	case "account.oauth2":
		t = reflect.TypeOf(fileOAuth2{})
	default:
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		out = append(out, t.Field(i).Tag.Get("toml"))
	}
	return out
}

// unknownKeys reports every key decodeFields found no field for, with its
// position. The element number of each array of tables is counted along
// Keys(), which lists keys in document order.
func (l *loader) unknownKeys(fc *fileConfig) {
	if len(l.unknown) == 0 {
		return
	}
	counts := map[string]int{}
	reported := map[string]bool{} // labels whose parent was reported
	for _, k := range l.md.Keys() {
		if l.md.Type(k...) == "ArrayHash" && len(k) == 1 {
			counts[k[0]]++
		}
		if !l.unknown[k.String()] {
			continue
		}
		// Label with the element number of the top-level array of tables.
		label := k[0]
		if n, ok := counts[k[0]]; ok && len(k) > 1 {
			label = fmt.Sprintf("%s[%d]", k[0], n-1)
		}
		for _, part := range k[1:] {
			label += "." + part
		}
		parent := label[:max(0, strings.LastIndexByte(label, '.'))]
		if reported[parent] {
			reported[label] = true
			continue
		}
		reported[label] = true
		table := strings.Join(k[:len(k)-1], ".")
		name := k[len(k)-1]
		where := "at the top level"
		if table != "" {
			where = "in [" + table + "]"
			if table == "account" || table == "rule" {
				where = "in [[" + table + "]]"
			}
		}
		msg := fmt.Sprintf("unknown key %q %s", name, where)
		if s := rules.Closest(name, knownKeys(table)); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		ruleName := ""
		if len(k) > 1 && k[0] == "rule" {
			if n := counts["rule"] - 1; n >= 0 && n < len(fc.Rule) {
				ruleName = fc.Rule[n].Name
			}
		}
		if len(k) > 1 && k[0] == "account" {
			if n := counts["account"] - 1; n >= 0 && n < len(fc.Account) && fc.Account[n].Name != "" {
				msg = fmt.Sprintf("account %q: %s", fc.Account[n].Name, msg)
			}
		}
		l.problem(l.ix.KeyPos(label), ruleName, "%s", msg)
	}
}

// resolvePath expands ~ and makes a path relative to the config file's
// directory.
func (l *loader) resolvePath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(l.dir, p)
	}
	return p
}

func isPrimitiveSet(p toml.Primitive) bool { return !reflect.ValueOf(p).IsZero() }

// secret decodes a secret source: { env = }, { file = }, { command = } or,
// when allowPlain, a plaintext string.
func (l *loader) secret(i int, acctName, key string, p toml.Primitive, allowPlain bool) *Secret {
	if !isPrimitiveSet(p) {
		return nil
	}
	label := fmt.Sprintf("account[%d].%s", i, key)
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
			l.accountProblem(i, acctName, key, "%s must be { env = ... }, { file = ... } or { command = ... }", key)
			return nil
		}
		if l.mode.Perm()&0o077 != 0 {
			l.accountProblem(i, acctName, key,
				"plaintext %s in a file others can read (mode %04o): use { env = ... }, { file = ... } or { command = ... }, or chmod 600 %s",
				key, l.mode.Perm(), l.path)
			return nil
		}
		l.accountWarning(i, acctName, key, "plaintext %s in the config file; prefer { env = ... }, { file = ... } or { command = ... }", key)
		return &Secret{value: plain, plain: true}
	}
	var fs fileSecret
	path := append(toml.Key{"account"}, strings.Split(key, ".")...)
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
		l.accountProblem(i, acctName, key, "%s: give exactly one of env, file and command", key)
		return nil
	}
	s := &Secret{Env: fs.Env, Command: fs.Command}
	if fs.File != "" {
		s.File = l.resolvePath(fs.File)
	}
	return s
}

func trimTOMLError(err error) string {
	msg := err.Error()
	if m := tomlLineRE.FindStringSubmatch(msg); m != nil {
		return m[3]
	}
	return strings.TrimPrefix(msg, "toml: ")
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

// loadCAFile reads the PEM certificates of a tls_ca_file.
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
			if _, err := loadCAFile(a.TLSCAFile); err != nil {
				l.accountProblem(i, name, "tls_ca_file", "%v", err)
			}
		}
	}

	switch a.Auth {
	case "", "plain", "login", "xoauth2", "oauthbearer":
	default:
		l.accountProblem(i, name, "auth", "auth = %q: want \"plain\", \"login\", \"xoauth2\" or \"oauthbearer\"", fa.Auth)
	}
	a.Password = l.secret(i, name, "password", fa.Password, true)
	if isPrimitiveSet(fa.OAuth2) {
		a.OAuth2 = l.oauth2(i, name, fa.OAuth2)
		if a.Auth == "" {
			a.Auth = "xoauth2"
		}
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
	o := &OAuth2{TokenCommand: fo.TokenCommand, ClientID: fo.ClientID, TokenURL: fo.TokenURL, Scopes: fo.Scopes}
	o.ClientSecret = l.secret(i, name, "oauth2.client_secret", fo.ClientSecret, false)
	o.RefreshToken = l.secret(i, name, "oauth2.refresh_token", fo.RefreshToken, false)
	if l.hasTypeError(label) {
		return o // what is missing may only be what had the wrong type
	}
	refresh := o.ClientID != "" || o.RefreshToken != nil || o.TokenURL != "" || o.ClientSecret != nil
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
					if m == mb || (strings.EqualFold(m, "INBOX") && strings.EqualFold(mb, "INBOX")) {
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
