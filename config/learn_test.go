package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/internal/diag"
)

const learnBase = `[[account]]
name     = "mail"
host     = "imap.example.org"
username = "alice"
password = { env = "X" }
%s

[[classifier]]
name = "rspamd"
type = "rspamd"

[[rule]]
name = "r"
when = 'classify("rspamd").spam'
move = "Junk"
`

func TestLearnTable(t *testing.T) {
	cfg, err := parse("c.toml", strings.Replace(learnBase, "%s",
		`learn = { junk = "Junk", ham = ["INBOX", "Archive"], classifiers = "rspamd" }`, 1), 0o600)
	if err != nil {
		t.Fatalf("parse = %v", err)
	}
	want := &Learn{Junk: "Junk", Ham: []string{"INBOX", "Archive"}, Classifiers: []string{"rspamd"}}
	if got := cfg.Accounts[0].Learn; !reflect.DeepEqual(got, want) {
		t.Fatalf("Learn = %+v, want %+v", got, want)
	}
	if !want.IsJunk("Junk") || !want.IsHam("inbox") || want.IsHam("Junk") {
		t.Fatalf("IsJunk/IsHam disagree with %+v", want)
	}
	if got := cfg.ClassifierNames(); !reflect.DeepEqual(got, []string{"rspamd"}) {
		t.Fatalf("ClassifierNames() = %v", got)
	}
}

func TestLearnTableProblems(t *testing.T) {
	tests := []struct {
		learn, want string
	}{
		{`learn = { ham = ["INBOX"], classifiers = ["rspamd"] }`, `c.toml:6:1: account "mail": learn: missing junk`},
		{`learn = { junk = "Junk", ham = ["INBOX"] }`, `learn: missing classifiers`},
		{`learn = { junk = "Junk", ham = ["Junk"], classifiers = ["rspamd"] }`, `"Junk" is the junk folder; it cannot count as ham too`},
		{`learn = { junk = "Junk", classifiers = ["rspamdd"] }`, `learn: unknown classifier "rspamdd"; did you mean "rspamd"?`},
		{`learn = { junk = "Junk", classifiers = ["rspamd"], spam = "x" }`, `unknown key`},
	}
	for _, tc := range tests {
		_, err := parse("c.toml", strings.Replace(learnBase, "%s", tc.learn, 1), 0o600)
		var ps diag.Problems
		if !errors.As(err, &ps) || !strings.Contains(ps.Error(), tc.want) {
			t.Errorf("parse(%s) = %v, want a problem with %q", tc.learn, err, tc.want)
		}
	}
}
