package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/internal/golden"
	"github.com/mailrules/mailrules/rules"
)

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "config", name), got)
}

func TestLoadProblemsGolden(t *testing.T) {
	for _, name := range []string{"bad", "syntax", "types"} {
		path := filepath.Join("testdata", "config", name+".toml")
		cfg, err := Load(path)
		if cfg != nil || err == nil {
			t.Fatalf("Load(%s) = %v, %v; want problems", path, cfg, err)
		}
		var ps rules.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("Load(%s) error %T is not rules.Problems", path, err)
		}
		checkGolden(t, name+".golden", ps.Error()+"\n")
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
		Expunge    bool
		Secret     string
	}
	var got []summary
	for _, a := range cfg.Accounts {
		s := summary{a.Name, a.Host, a.Port, a.TLS, a.Auth, a.Command, a.Mailboxes, a.Trash, a.PollInterval, a.IdleRestart, a.Expunge, ""}
		if a.Password != nil {
			s.Secret = a.Password.String()
		}
		got = append(got, s)
	}
	want := []summary{
		{"personal", "imap.example.org", 993, "implicit", "", nil, []string{"INBOX"}, "", time.Minute, 25 * time.Minute, false, "env:MAILRULES_TEST_PASSWORD"},
		{"work", "127.0.0.1", 143, "none", "", nil, []string{"INBOX", "Lists/Go"}, "Deleted Items", 30 * time.Second, 10 * time.Minute, true, "command:sh -c echo s3cret"},
		{"local", "", 0, "", "", []string{"sh", "-c", "/usr/lib/dovecot/imap -o mail_location=maildir:~/Maildir"}, []string{"INBOX"}, "", time.Minute, 25 * time.Minute, false, ""},
		{"gmail", "imap.gmail.com", 993, "implicit", "xoauth2", nil, []string{"INBOX"}, "", time.Minute, 25 * time.Minute, false, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("accounts:\n got %+v\nwant %+v", got, want)
	}
	if cfg.Accounts[0].Pos.Line != 3 || cfg.Specs[1].Pos.Line != 39 {
		t.Errorf("positions: account %v, rule %v; want lines 3 and 39", cfg.Accounts[0].Pos, cfg.Specs[1].Pos)
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

func TestRawOffset(t *testing.T) {
	tests := []struct {
		raw    string
		offset int
		want   int
	}{
		{`'abc'`, 2, 3},
		{`"abc"`, 0, 1},
		{`"a\"b"`, 2, 4},                  // decoded a"b: b is at raw 4
		{`"\u00e9x"`, 2, 7},               // é is 2 bytes decoded, 6 raw
		{"'''\nab\ncd'''", 3, 7},          // newline after ''' trimmed
		{"\"\"\"a \\\n   b\"\"\"", 2, 10}, // line-ending backslash drops the white space
	}
	for _, tc := range tests {
		if got := rawOffset(tc.raw, tc.offset); got != tc.want {
			t.Errorf("rawOffset(%q, %d) = %d, want %d", tc.raw, tc.offset, got, tc.want)
		}
	}
}
