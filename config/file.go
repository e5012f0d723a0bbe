package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// The file's shape. decodeFields fills these one key at a time, by their
// toml tags; it reports keys keyTable does not list as unknown and values
// of the wrong type as problems. Every key of keyTable has a field here.
type fileConfig struct {
	State          string           `toml:"state"`
	Sieve          string           `toml:"sieve"`
	SieveGlobalDir string           `toml:"sieve_global_dir"`
	Account        []fileAccount    `toml:"account"`
	Rule           []fileRule       `toml:"rule"`
	Classifier     []fileClassifier `toml:"classifier"`
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
	Sieve         string         `toml:"sieve"`
	// MaxConnections is a pointer so that 0, an error, differs from unset.
	MaxConnections *int64         `toml:"max_connections"`
	Learn          toml.Primitive `toml:"learn"`
}

type fileSecret struct {
	Env     string `toml:"env"`
	File    string `toml:"file"`
	Command argv   `toml:"command"`
}

type fileOAuth2 struct {
	TokenCommand  argv           `toml:"token_command"`
	ClientID      string         `toml:"client_id"`
	ClientSecret  toml.Primitive `toml:"client_secret"`
	RefreshToken  toml.Primitive `toml:"refresh_token"`
	TokenURL      string         `toml:"token_url"`
	Scopes        stringList     `toml:"scopes"`
	AuthURL       string         `toml:"auth_url"`
	DeviceAuthURL string         `toml:"device_auth_url"`
	StoreCommand  argv           `toml:"store_command"`
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
	On        stringList `toml:"on"`
}

type fileClassifier struct {
	Name          string         `toml:"name"`
	Type          string         `toml:"type"`
	URL           string         `toml:"url"`
	ControllerURL string         `toml:"controller_url"`
	Password      toml.Primitive `toml:"password"`
	SettingsID    string         `toml:"settings_id"`
	Address       string         `toml:"address"`
	User          string         `toml:"user"`
	Command       argv           `toml:"command"`
	LearnCommand  argv           `toml:"learn_command"`
	Output        string         `toml:"output"`
	Timeout       string         `toml:"timeout"`
	Concurrency   *int           `toml:"concurrency"`
	MaxSize       byteSize       `toml:"max_size"`
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
		out, err := tomlStrings(x, "element")
		if err == nil {
			*l = out
		}
		return err
	}
	return fmt.Errorf("got %s, want a string or an array of strings", tomlTypeName(v))
}

// tomlStrings converts a TOML array whose elements must be strings; what
// names an element in the error ("element 2 is an integer, want a string").
func tomlStrings(x []any, what string) ([]string, error) {
	out := make([]string, 0, len(x))
	for i, e := range x {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%s %d is %s, want a string", what, i+1, tomlTypeName(e))
		}
		out = append(out, s)
	}
	return out, nil
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
		out, err := tomlStrings(x, "argument")
		if err == nil {
			*a = out
		}
		return err
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

// byteSize is a number of bytes: an integer, or a string with a unit
// ("500KB", "50MB", "1GB"; KB is 1024 bytes, as spamc counts).
type byteSize int64

// UnmarshalTOML implements toml.Unmarshaler.
func (b *byteSize) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x <= 0 {
			return fmt.Errorf("%d: want a size of at least 1 byte", x)
		}
		*b = byteSize(x)
		return nil
	case string:
		n, err := parseByteSize(x)
		if err != nil {
			return err
		}
		*b = byteSize(n)
		return nil
	}
	return fmt.Errorf("got %s, want an integer (bytes) or a string such as \"500KB\"", tomlTypeName(v))
}

func parseByteSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size (e.g. 512000, \"500KB\", \"50MB\")", s)
	}
	return n * mult, nil
}
