package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/internal/diag"
)

// ReloadSummary says what a reload did to the watched mailboxes.
type ReloadSummary struct {
	// Kept mailboxes kept their settings; they stay connected (and in
	// IDLE) unless their account's mailbox list changed, which logs the
	// account in anew. Their new rules apply from their next pass.
	Kept int
	// Restarted mailboxes reconnected because a setting of their account
	// changed.
	Restarted int
	// Stopped mailboxes logged out: removed from the configuration, or no
	// rule applies to them any more.
	Stopped int
	// Started mailboxes are newly watched.
	Started int
}

// reloadRequest hands a loaded configuration to the running Watch, which
// answers on done (buffered) once it is in force.
type reloadRequest struct {
	cfg  *config.Config
	done chan ReloadSummary
}

// Reload re-reads the configuration file the engine was started with
// (config.Load, the same checks as `mailrules check`) and hands it to the
// running Watch. A configuration that fails to load, validate or compile is
// rejected: each problem is logged and the configuration in force stays.
//
// An accepted configuration is applied mailbox by mailbox. A watched
// mailbox is an (account name, mailbox) pair that some rule applies to; its
// settings are those of its account other than the mailbox list, that is
// host, port, tls, username, password, oauth2, auth, command, trash,
// expunge, allow_insecure, tls_skip_verify, tls_ca_file (the path and the
// certificates read from it), poll_interval, idle_restart, timeout and
// subscribe. Secrets are compared by their source (the environment
// variable, file or command named, or the plaintext as written in the
// config), never by resolving them, so a password rotated in its file or
// password manager is used at the next login, not forced by a reload. A
// mailbox whose settings are equal keeps its connection and its IDLE, and
// its rules change from its next pass; one whose settings differ logs out
// and reconnects; one no longer watched logs out; a new one starts.
// Connections belong to accounts (scheduler.go): an account whose mailbox
// list changed lays its connections out anew. The
// state file and the engine's options (--dry-run, --listen, ...) stay as
// they were; a changed state setting is logged and needs a restart.
//
// Reload returns once Watch has applied the configuration, or with ctx's
// error if Watch does not take it before ctx ends (as when Watch is not
// running).
func (e *Engine) Reload(ctx context.Context) (ReloadSummary, error) {
	old := e.config()
	log := e.log.With(zap.String("config", old.Path))
	if old.Path == "" {
		return ReloadSummary{}, errors.New("reload: the configuration was not loaded from a file")
	}
	cfg, err := config.Load(old.Path)
	if err != nil {
		var ps diag.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				log.Error("config problem", zap.String("problem", p.String()))
			}
			log.Error("reload rejected; keeping the configuration in force", zap.Int("problems", len(ps)))
		} else {
			log.Error("reload rejected; keeping the configuration in force", zap.Error(err))
		}
		return ReloadSummary{}, fmt.Errorf("reload %s: %w", old.Path, err)
	}
	for _, w := range cfg.Warnings {
		log.Warn("config warning", zap.String("problem", w.String()))
	}
	if cfg.StatePath != old.StatePath {
		log.Warn("the state setting changed; it takes effect at the next start, not on reload",
			zap.String("state", old.StatePath), zap.String("new", cfg.StatePath))
	}
	req := reloadRequest{cfg: cfg, done: make(chan ReloadSummary, 1)}
	select {
	case e.reloads <- req:
	case <-ctx.Done():
		return ReloadSummary{}, fmt.Errorf("reload: %w", ctx.Err())
	}
	return <-req.done, nil
}

// watchKey names a watched mailbox.
type watchKey struct{ account, mailbox string }

// supervisor starts, keeps and stops the account watchers of Watch
// (scheduler.go): one per account, whatever its number of mailboxes. Only
// Watch's goroutine uses it.
type supervisor struct {
	e       *Engine
	ctx     context.Context
	running map[string]*acctWatcher
}

// apply makes the running account watchers match cfg and puts cfg in
// force; initial is set for the configuration Watch starts with. The
// summary counts mailboxes. An account whose settings changed is stopped
// and waited for before it starts again, so that no mailbox is ever passed
// over by two connections at once; one whose mailboxes alone changed is
// handed the new list and keeps its connection where it can (NOTIFY).
func (s *supervisor) apply(cfg *config.Config, initial bool) ReloadSummary {
	e := s.e
	type wanted struct {
		acct      *config.Account
		mailboxes []string
	}
	want := map[string]*wanted{}
	var order []string // cfg's order, for starting
	for _, acct := range cfg.Accounts {
		w := want[acct.Name]
		if w == nil {
			w = &wanted{acct: acct}
		}
		// The learn folders are watched too: learning from the user's
		// moves is done when a pass looks at the folder they arrive in.
		for _, mailbox := range append(slices.Clone(acct.Mailboxes), acct.Learn.Mailboxes()...) {
			if slices.Contains(w.mailboxes, mailbox) {
				continue
			}
			if cfg.Rules.For(acct.Name, mailbox).Len() == 0 && !(acct.Learn.IsJunk(mailbox) || acct.Learn.IsHam(mailbox)) {
				if initial {
					e.log.Info("no rule applies; not watching", zap.String("account", acct.Name), zap.String("mailbox", mailbox))
				}
				continue
			}
			w.mailboxes = append(w.mailboxes, mailbox)
		}
		if len(w.mailboxes) > 0 && want[acct.Name] == nil {
			want[acct.Name] = w
			order = append(order, acct.Name)
		}
	}

	var (
		sum      ReloadSummary
		stopping []*acctWatcher
		restart  = map[watchKey]bool{}
	)
	forget := func(account string, mailboxes []string) {
		for _, mb := range mailboxes {
			e.log.Info("no longer watched; logging out", zap.String("account", account), zap.String("mailbox", mb))
			e.opts.Metrics.unwatch(account, mb)
			e.unwatching(account, mb)
		}
		sum.Stopped += len(mailboxes)
	}
	for name, w := range s.running {
		old := w.mailboxList()
		nw, ok := want[name]
		if !ok {
			w.stop()
			stopping = append(stopping, w)
			delete(s.running, name)
			forget(name, old)
			continue
		}
		var removed []string
		for _, mb := range old {
			if !slices.Contains(nw.mailboxes, mb) {
				removed = append(removed, mb)
			}
		}
		forget(name, removed)
		if changed := changedSettings(w.acct, nw.acct); len(changed) > 0 {
			e.log.Info("account settings changed; reconnecting", zap.String("account", name), zap.Strings("settings", changed))
			for _, mb := range old {
				if slices.Contains(nw.mailboxes, mb) {
					sum.Restarted++
					restart[watchKey{name, mb}] = true
				}
			}
			w.stop()
			stopping = append(stopping, w)
			delete(s.running, name)
			continue
		}
		for _, mb := range nw.mailboxes {
			if slices.Contains(old, mb) {
				sum.Kept++
			}
		}
	}
	for _, w := range stopping {
		<-w.done
	}
	e.cfg.Store(cfg)
	for _, name := range order {
		nw := want[name]
		for _, mb := range nw.mailboxes {
			k := watchKey{name, mb}
			if w, ok := s.running[name]; ok && slices.Contains(w.mailboxList(), mb) {
				continue
			}
			if !restart[k] {
				sum.Started++
				if !initial {
					e.log.Info("now watched", zap.String("account", name), zap.String("mailbox", mb))
				}
			}
			e.opts.Metrics.watch(name, mb, healthWindow(nw.acct))
			e.watching(name, mb)
		}
		if w, ok := s.running[name]; ok {
			w.setMailboxes(nw.acct, nw.mailboxes)
			continue
		}
		s.start(nw.acct, nw.mailboxes)
	}
	if !initial {
		e.log.Info("config reloaded", zap.String("config", cfg.Path),
			zap.Int("kept", sum.Kept), zap.Int("restarted", sum.Restarted),
			zap.Int("stopped", sum.Stopped), zap.Int("started", sum.Started))
	}
	return sum
}

// start runs a watcher for acct's mailboxes.
func (s *supervisor) start(acct *config.Account, mailboxes []string) {
	ctx, cancel := context.WithCancel(s.ctx)
	w := newAcctWatcher(acct, mailboxes, cancel)
	s.running[acct.Name] = w
	go func() {
		defer close(w.done)
		defer cancel()
		s.e.watchAccount(ctx, w)
	}()
}

// wait waits for every watcher to end (after ctx is cancelled).
func (s *supervisor) wait() {
	for _, w := range s.running {
		<-w.done
	}
}

// accountSetting is one setting of an account that its watched mailboxes
// depend on: key is its name in the config file, field the config.Account
// field(s) it is read from, same whether two accounts agree on it.
type accountSetting struct {
	key    string
	fields []string
	same   func(a, b *config.Account) bool
}

// equal compares one field of two accounts. Pointers are followed, so
// secrets compare by their source (and a plaintext password by its text),
// never by a resolved value.
func equal[T any](f func(*config.Account) T) func(a, b *config.Account) bool {
	return func(a, b *config.Account) bool { return reflect.DeepEqual(f(a), f(b)) }
}

// accountSettings are the settings of a watched mailbox: every account
// setting but the mailbox list. A test checks that each config.Account
// field is here or in notSettings.
var accountSettings = []accountSetting{
	{"host", []string{"Host"}, equal(func(a *config.Account) string { return a.Host })},
	{"port", []string{"Port"}, equal(func(a *config.Account) int { return a.Port })},
	{"tls", []string{"TLS"}, equal(func(a *config.Account) string { return a.TLS })},
	{"username", []string{"Username"}, equal(func(a *config.Account) string { return a.Username })},
	{"password", []string{"Password"}, equal(func(a *config.Account) *config.Secret { return a.Password })},
	{"oauth2", []string{"OAuth2"}, func(a, b *config.Account) bool { return a.OAuth2.SameSettings(b.OAuth2) }},
	{"auth", []string{"Auth"}, equal(func(a *config.Account) string { return a.Auth })},
	{"command", []string{"Command"}, equal(func(a *config.Account) []string { return a.Command })},
	{"trash", []string{"Trash"}, equal(func(a *config.Account) string { return a.Trash })},
	{"expunge", []string{"Expunge"}, equal(func(a *config.Account) bool { return a.Expunge })},
	{"allow_insecure", []string{"AllowInsecure"}, equal(func(a *config.Account) bool { return a.AllowInsecure })},
	{"tls_skip_verify", []string{"TLSSkipVerify"}, equal(func(a *config.Account) bool { return a.TLSSkipVerify })},
	{"tls_ca_file", []string{"TLSCAFile", "TLSRootCAs"}, func(a, b *config.Account) bool {
		// The loader reads the file anew each time: compare what it read.
		return a.TLSCAFile == b.TLSCAFile && a.TLSRootCAs.Equal(b.TLSRootCAs)
	}},
	{"poll_interval", []string{"PollInterval"}, equal(func(a *config.Account) any { return a.PollInterval })},
	{"idle_restart", []string{"IdleRestart"}, equal(func(a *config.Account) any { return a.IdleRestart })},
	{"timeout", []string{"Timeout"}, equal(func(a *config.Account) any { return a.Timeout })},
	{"subscribe", []string{"Subscribe"}, equal(func(a *config.Account) bool { return a.Subscribe })},
	{"max_connections", []string{"MaxConnections"}, equal(func(a *config.Account) int { return a.MaxConnections })},
	{"learn", []string{"Learn"}, equal(func(a *config.Account) *config.Learn { return a.Learn })},
}

// notSettings are the config.Account fields that are not settings of a
// watched mailbox: the name and mailbox are its identity, and where the
// account is written in the file does not matter.
var notSettings = []string{"Name", "Mailboxes", "Pos"}

// changedSettings returns the config keys of the settings in which a and b
// differ, in accountSettings order; none means a watched mailbox of a can
// go on as one of b.
func changedSettings(a, b *config.Account) []string {
	var changed []string
	for _, s := range accountSettings {
		if !s.same(a, b) {
			changed = append(changed, s.key)
		}
	}
	return changed
}

// settingFields lists the config.Account fields accountSettings covers.
func settingFields() []string {
	var fields []string
	for _, s := range accountSettings {
		fields = append(fields, s.fields...)
	}
	return slices.Concat(fields, notSettings)
}
