package engine

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mailrules/mailrules/config"
)

// TestAccountSettingsCoverEveryField: a field added to config.Account must
// be classified, or a reload would keep a connection that its change should
// have restarted.
func TestAccountSettingsCoverEveryField(t *testing.T) {
	covered := settingFields()
	typ := reflect.TypeFor[config.Account]()
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; !slices.Contains(covered, name) {
			t.Errorf("config.Account.%s is neither in accountSettings nor in notSettings", name)
		}
	}
}

func TestChangedSettings(t *testing.T) {
	base := func() *config.Account {
		return &config.Account{
			Name: "a", Host: "imap.example.org", Port: 993, TLS: "implicit", Username: "u",
			Password:  &config.Secret{Env: "PW"},
			Mailboxes: []string{"INBOX"}, IdleRestart: 25 * time.Minute, PollInterval: time.Minute, Timeout: 2 * time.Minute,
		}
	}
	for _, tc := range []struct {
		name string
		edit func(a *config.Account)
		want []string
	}{
		{"nothing", func(a *config.Account) {}, nil},
		{"mailboxes and position are not settings", func(a *config.Account) {
			a.Mailboxes = []string{"INBOX", "Lists"}
			a.Pos.Line = 40
		}, nil},
		{"same secret source, new pointer", func(a *config.Account) { a.Password = &config.Secret{Env: "PW"} }, nil},
		{"secret source", func(a *config.Account) { a.Password = &config.Secret{File: "/run/pw"} }, []string{"password"}},
		{"idle_restart", func(a *config.Account) { a.IdleRestart = time.Minute }, []string{"idle_restart"}},
		{"host and port", func(a *config.Account) { a.Host, a.Port = "other", 143 }, []string{"host", "port"}},
		{"oauth2", func(a *config.Account) {
			a.OAuth2 = &config.OAuth2{ClientID: "c", RefreshToken: &config.Secret{Env: "RT"}}
		}, []string{"oauth2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := base()
			tc.edit(b)
			if got := changedSettings(base(), b); !slices.Equal(got, tc.want) {
				t.Errorf("changedSettings = %q, want %q", got, tc.want)
			}
		})
	}
}
