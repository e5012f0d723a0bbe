package config

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/internal/diag"
	"github.com/mailrules/mailrules/internal/golden"
)

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "config", name), got)
}

// TestLoadProblemsGolden loads files with problems; types.toml and
// types-every.toml check that a value of the wrong type is one problem
// among the others, not the only one reported.
func TestLoadProblemsGolden(t *testing.T) {
	for _, name := range []string{"bad", "syntax", "types", "types-every"} {
		path := filepath.Join("testdata", "config", name+".toml")
		cfg, err := Load(path)
		if cfg != nil || err == nil {
			t.Fatalf("Load(%s) = %v, %v; want problems", path, cfg, err)
		}
		var ps diag.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("Load(%s) error %T is not diag.Problems", path, err)
		}
		checkGolden(t, name+".golden", ps.Error()+"\n")
	}
}

// TestLoadTablesOfTheWrongType covers what cannot share a file with
// [[account]] and [[rule]]: those keys themselves of the wrong type.
func TestLoadTablesOfTheWrongType(t *testing.T) {
	const rule = "[[rule]]\nname = \"r\"\nwhen = 'true'\nstop = true\n"
	const account = "[[account]]\nname = \"a\"\ncommand = \"imap\"\n"
	tests := []struct {
		src  string
		want string // every problem, joined by "\n", without the file name
	}{
		{"account = \"x\"\n" + rule, `:1:1: account: got a string, want [[account]] tables`},
		{"account = [\"x\"]\n" + rule, `:1:1: account #1: got a string, want a table`},
		{"[account]\nname = \"a\"\n" + rule, `:1:1: account: got a table, want [[account]] tables`},
		{"account = [{ name = \"a\", command = \"imap\", port = \"1\" }]\n" + rule,
			`:1:44: account "a": port: got a string, want an integer`},
		{"rule = 5\n" + account, `:1:1: rule: got an integer, want [[rule]] tables`},
		{account + "oauth2 = \"token\"\n" + rule, `:4:1: account "a": oauth2: got a string, want a table`},
	}
	for _, tc := range tests {
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		want := path + strings.ReplaceAll(tc.want, "\n", "\n"+path)
		if err == nil || err.Error() != want {
			t.Errorf("Load(%q) error:\n%v\nwant:\n%s", tc.src, err, want)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join("testdata", "config", "good.toml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := filepath.Join("testdata", "config", "state", "mailrules.db"); cfg.StatePath != want {
		t.Errorf("StatePath = %q, want %q", cfg.StatePath, want)
	}
	type summary struct {
		Name, Host string
		Port       int
		TLS, Auth  string
		Command    []string
		Mailboxes  []string
		Trash      string
		Poll, Idle time.Duration
		Timeout    time.Duration
		Expunge    bool
		Secret     string
	}
	var got []summary
	for _, a := range cfg.Accounts {
		s := summary{a.Name, a.Host, a.Port, a.TLS, a.Auth, a.Command, a.Mailboxes, a.Trash, a.PollInterval, a.IdleRestart, a.Timeout, a.Expunge, ""}
		if a.Password != nil {
			s.Secret = a.Password.String()
		}
		got = append(got, s)
	}
	want := []summary{
		{"personal", "imap.example.org", 993, "implicit", "", nil, []string{"INBOX"}, "", time.Minute, 25 * time.Minute, 2 * time.Minute, false, "env:MAILRULES_TEST_PASSWORD"},
		{"work", "127.0.0.1", 143, "none", "", nil, []string{"INBOX", "Lists/Go"}, "Deleted Items", 30 * time.Second, 10 * time.Minute, 45 * time.Second, true, "command:sh -c echo s3cret"},
		{"local", "", 0, "", "", []string{"sh", "-c", "/usr/lib/dovecot/imap -o mail_location=maildir:~/Maildir"}, []string{"INBOX"}, "", time.Minute, 25 * time.Minute, 2 * time.Minute, false, ""},
		{"gmail", "imap.gmail.com", 993, "implicit", "xoauth2", nil, []string{"INBOX"}, "", time.Minute, 25 * time.Minute, 2 * time.Minute, false, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("accounts:\n got %+v\nwant %+v", got, want)
	}
	if cfg.Accounts[0].Pos.Line != 3 || cfg.Specs[1].Pos.Line != 40 {
		t.Errorf("positions: account %v, rule %v; want lines 3 and 40", cfg.Accounts[0].Pos, cfg.Specs[1].Pos)
	}
	if got := cfg.Rules.For("work", "INBOX").Len(); got != 2 {
		t.Errorf("rules for work/INBOX = %d, want 2", got)
	}
	if sp := cfg.Specs[1]; !reflect.DeepEqual(sp.Flag, []string{"$X"}) || sp.Seen == nil || *sp.Seen {
		t.Errorf("rule flag: Flag %q Seen %v; want [$X] and false", sp.Flag, sp.Seen)
	}
	ctx := context.Background()
	if v, err := cfg.Accounts[1].Password.Resolve(ctx); err != nil || v != "s3cret" {
		t.Errorf("command secret Resolve = %q, %v; want s3cret", v, err)
	}
	if v, err := cfg.Accounts[3].OAuth2.Token(ctx, nil); err != nil || v != "tok" {
		t.Errorf("token_command Token = %q, %v; want tok", v, err)
	}
}

func TestAccountTimeout(t *testing.T) {
	tests := []struct {
		value   string // as written after timeout =; "" leaves the key out
		want    time.Duration
		wantErr string
	}{
		{"", DefaultTimeout, ""},
		{`"30s"`, 30 * time.Second, ""},
		{`"1h"`, time.Hour, ""},
		{`"1ms"`, time.Millisecond, ""},
		{`"0s"`, 0, `:5:1: account "a": timeout 0s: want more than 0s and at most 1h`},
		{`"-5s"`, 0, `:5:1: account "a": timeout -5s: want more than 0s and at most 1h`},
		{`"61m"`, 0, `:5:1: account "a": timeout 1h1m0s: want more than 0s and at most 1h`},
		{`"soon"`, 0, `:5:1: account "a": timeout: "soon" is not a duration (e.g. "90s", "5m", "1h")`},
		{`120`, 0, `:5:1: account "a": timeout: got an integer, want a string`},
	}
	for _, tc := range tests {
		src := "[[account]]\nname = \"a\"\nhost = \"imap.example.org\"\nusername = \"u\"\n"
		if tc.value != "" {
			src += "timeout = " + tc.value + "\n"
		} else {
			src += "# no timeout\n"
		}
		src += "password = { env = \"P\" }\n[[rule]]\nname = \"r\"\nwhen = 'true'\nstop = true\n"
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if tc.wantErr != "" {
			if err == nil || err.Error() != path+tc.wantErr {
				t.Errorf("timeout = %s: Load error %v, want %s", tc.value, err, path+tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("timeout = %s: Load: %v", tc.value, err)
			continue
		}
		if got := cfg.Accounts[0].Timeout; got != tc.want {
			t.Errorf("timeout = %s: Timeout = %v, want %v", tc.value, got, tc.want)
		}
	}
}

// TestExamplesLoad loads every shipped configuration.
func TestExamplesLoad(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.toml"))
	paths = append(paths, filepath.Join("..", "rules.example.toml"))
	if len(paths) < 7 {
		t.Fatalf("found %d example configurations, want at least 7", len(paths))
	}
	for _, p := range paths {
		cfg, err := Load(p)
		if err != nil {
			t.Errorf("Load(%s):\n%v", p, err)
			continue
		}
		if len(cfg.Accounts) == 0 || cfg.Rules.Len() == 0 {
			t.Errorf("Load(%s): %d accounts, %d rules", p, len(cfg.Accounts), cfg.Rules.Len())
		}
	}
}

// TestExamplesDocumentEveryKey checks that every key of the key table is
// shown, set or commented out, in rules.example.toml or examples/.
func TestExamplesDocumentEveryKey(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.toml"))
	paths = append(paths, filepath.Join("..", "rules.example.toml"))
	var docs strings.Builder
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(src)
	}
	for _, key := range Keys() {
		k := regexp.QuoteMeta(key.Name)
		// Keys of the top level, [[account]], [[rule]] and [[classifier]]
		// start a line; those of inline tables (secrets, oauth2) may follow
		// a "{" or ",".
		re := regexp.MustCompile(`(?m)^#?[ \t]*(` + k + `[ \t]*=|\[\[` + k + `\]\])`)
		if key.Table != "" && key.Table != "account" && key.Table != "rule" && key.Table != "classifier" {
			re = regexp.MustCompile(`(?m)(^#?|[{,])[ \t]*` + k + `[ \t]*=`)
		}
		if !re.MatchString(docs.String()) {
			t.Errorf("key %q of [%s] is in no example configuration", key.Name, key.Table)
		}
	}
}

// TestKeyTableMatchesFileShape checks that the key table and the structs
// the loader decodes into name the same keys, table by table, and that
// every key has a type and a doc line.
func TestKeyTableMatchesFileShape(t *testing.T) {
	shapes := map[string]reflect.Type{
		"":               reflect.TypeOf(fileConfig{}),
		"account":        reflect.TypeOf(fileAccount{}),
		"account.oauth2": reflect.TypeOf(fileOAuth2{}),
		"account.learn":  reflect.TypeOf(fileLearn{}),
		"secret":         reflect.TypeOf(fileSecret{}),
		"rule":           reflect.TypeOf(fileRule{}),
		"classifier":     reflect.TypeOf(fileClassifier{}),
	}
	for table, typ := range shapes {
		var fields []string
		for i := 0; i < typ.NumField(); i++ {
			fields = append(fields, typ.Field(i).Tag.Get("toml"))
		}
		var keys []string
		for _, k := range Keys() {
			if k.Table == table {
				keys = append(keys, k.Name)
			}
		}
		slices.Sort(fields)
		slices.Sort(keys)
		if !slices.Equal(fields, keys) {
			t.Errorf("table %q: key table has %q, file shape %v has %q", table, keys, typ, fields)
		}
	}
	for _, k := range Keys() {
		if _, ok := shapes[k.Table]; !ok {
			t.Errorf("key %q: table %q has no file shape", k.Name, k.Table)
		}
		if k.Type == "" || k.Doc == "" {
			t.Errorf("key %q of [%s]: Type %q, Doc %q; want both", k.Name, k.Table, k.Type, k.Doc)
		}
	}
	for _, path := range []string{"account.password", "account.oauth2.client_secret", "account.oauth2.refresh_token", "classifier.password"} {
		if !slices.Equal(knownKeys(path), knownKeys("secret")) {
			t.Errorf("knownKeys(%q) = %q, want the secret keys", path, knownKeys(path))
		}
	}
}

// TestKeyTableDurationDefaults checks that the defaults the key table
// documents for durations are the ones the loader uses.
func TestKeyTableDurationDefaults(t *testing.T) {
	want := map[string]time.Duration{
		"account.poll_interval": DefaultPollInterval,
		"account.idle_restart":  DefaultIdleRestart,
		"account.timeout":       DefaultTimeout,
		"classifier.timeout":    classify.DefaultTimeout,
	}
	for _, k := range Keys() {
		if k.Type != "duration" {
			continue
		}
		d, err := time.ParseDuration(k.Default)
		if err != nil || d != want[k.Table+"."+k.Name] {
			t.Errorf("key %q of [%s]: Default %q = %v, %v; want %v", k.Name, k.Table, k.Default, d, err, want[k.Table+"."+k.Name])
		}
	}
}

func TestPlaintextPassword(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "config", "plaintext.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), "plaintext password in a file others can read") {
		t.Fatalf("Load(world-readable plaintext) = %v, want a plaintext problem", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error reveals the password: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(0600 plaintext) = %v", err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0].Msg, "plaintext password") {
		t.Errorf("Warnings = %v, want one about the plaintext password", cfg.Warnings)
	}
	s := cfg.Accounts[0].Password
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", *s, *s, *s, s), fmt.Sprintf("%+v", cfg.Accounts[0])} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("formatting reveals the password: %s", out)
		}
	}
	if v, err := s.Resolve(context.Background()); err != nil || v != "hunter2" {
		t.Errorf("Resolve = %q, %v; want the plaintext", v, err)
	}
}

func TestSecretResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAILRULES_SECRET_TEST", "from-env")
	ctx := context.Background()
	tests := []struct {
		s       Secret
		want    string
		wantErr string
	}{
		{Secret{Env: "MAILRULES_SECRET_TEST"}, "from-env", ""},
		{Secret{Env: "MAILRULES_SECRET_UNSET_XYZ"}, "", "environment variable MAILRULES_SECRET_UNSET_XYZ is not set"},
		{Secret{File: file}, "from-file", ""},
		{Secret{File: filepath.Join(dir, "missing")}, "", "no such file"},
		{Secret{Command: []string{"sh", "-c", "printf 'line1\\nline2\\n'"}}, "line1", ""},
		{Secret{Command: []string{"sh", "-c", "echo oops >&2; exit 3"}}, "", "exit status 3: oops"},
		{Secret{Command: []string{"true"}}, "", "printed nothing"},
	}
	for _, tc := range tests {
		got, err := tc.s.Resolve(ctx)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Resolve(%v) = %q, %v; want error containing %q", tc.s, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%v) = %q, %v; want %q", tc.s, got, err, tc.want)
		}
	}
}

func TestOAuth2RefreshToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != "rt" ||
			r.Form.Get("client_id") != "cid" || r.Form.Get("client_secret") != "cs" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"bad refresh token"}`)
			return
		}
		fmt.Fprint(w, `{"access_token":"at-123","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	t.Setenv("MAILRULES_RT", "rt")
	t.Setenv("MAILRULES_CS", "cs")
	o := &OAuth2{ClientID: "cid", ClientSecret: &Secret{Env: "MAILRULES_CS"}, RefreshToken: &Secret{Env: "MAILRULES_RT"}, TokenURL: srv.URL}
	tok, err := o.Token(context.Background(), srv.Client())
	if err != nil || tok != "at-123" {
		t.Fatalf("Token = %q, %v; want at-123", tok, err)
	}
	o.ClientID = "other"
	if _, err := o.Token(context.Background(), srv.Client()); err == nil || !strings.Contains(err.Error(), "invalid_grant: bad refresh token") {
		t.Fatalf("Token with a bad client = %v, want invalid_grant", err)
	}
}

// FuzzParse checks that no file makes the loader panic, and that a file it
// rejects gets at least one problem.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "config", "*.toml"))
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	f.Add("account = [[1], {name = 2}]\nrule = [{}]\n")
	f.Add("[account]\npassword.env = 1\n[[rule]]\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := parse("fuzz.toml", src, 0o600)
		if err == nil {
			if cfg == nil {
				t.Fatal("parse = nil, nil")
			}
			return
		}
		var ps diag.Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("parse error %v (%T) is not a non-empty diag.Problems", err, err)
		}
	})
}

func TestClassifierProblemsGolden(t *testing.T) {
	path := filepath.Join("testdata", "config", "classifiers.toml")
	_, err := Load(path)
	var ps diag.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load(%s) = %v; want diag.Problems", path, err)
	}
	checkGolden(t, "classifiers.golden", ps.Error()+"\n")
}

func TestClassifierDefaults(t *testing.T) {
	src := `[[account]]
name = "a"
command = "imap"

[[rule]]
name = "r"
when = 'true'
stop = true

[[classifier]]
name = "rspamd"
type = "rspamd"
password = { env = "RSPAMD_PASSWORD" }
settings_id = "mailrules"

[[classifier]]
name = "sa"
type = "spamd"
address = "/run/spamd.sock"
user = "alice"
max_size = "1MB"
timeout = "5s"
concurrency = 2

[[classifier]]
name = "bogo"
type = "command"
command = ["bogofilter"]
learn_command = "bogofilter -{class}"
output = "exit"
max_size = 1000
`
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Classifiers) != 3 {
		t.Fatalf("got %d classifiers, want 3", len(cfg.Classifiers))
	}
	r, sa, bogo := cfg.Classifiers[0], cfg.Classifiers[1], cfg.Classifiers[2]
	if r.URL != "http://127.0.0.1:11333" || r.ControllerURL != "http://127.0.0.1:11334" || r.Timeout != 30*time.Second ||
		r.Concurrency != 8 || r.MaxSize != 50<<20 || r.SettingsID != "mailrules" || r.Password == nil {
		t.Errorf("rspamd classifier = %+v", r.Config)
	}
	if got := fmt.Sprint(r.Password); got != "env:RSPAMD_PASSWORD" {
		t.Errorf("rspamd password = %s, want env:RSPAMD_PASSWORD", got)
	}
	if sa.Address != "/run/spamd.sock" || sa.User != "alice" || sa.MaxSize != 1<<20 || sa.Timeout != 5*time.Second || sa.Concurrency != 2 {
		t.Errorf("spamd classifier = %+v", sa.Config)
	}
	if !slices.Equal(bogo.Command, []string{"bogofilter"}) || !slices.Equal(bogo.LearnCommand, []string{"sh", "-c", "bogofilter -{class}"}) ||
		bogo.Output != "exit" || bogo.MaxSize != 1000 {
		t.Errorf("command classifier = %+v", bogo.Config)
	}
	if r.Pos.Line != 10 {
		t.Errorf("rspamd classifier at %s, want line 10", r.Pos)
	}
	set, err := cfg.NewClassifiers()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "rspamd,sa,bogo" {
		t.Errorf("NewClassifiers().Names() = %q, want rspamd,sa,bogo", got)
	}
	if c, ok := set.Get("sa"); !ok || c.MaxSize() != 1<<20 {
		t.Errorf("NewClassifiers().Get(sa) = %v, %v; want max size 1 MiB", c, ok)
	}
}
