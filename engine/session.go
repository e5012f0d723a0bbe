package engine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/imap/sasl"
)

// timeout is how long the account's server may stay silent while a
// command waits for it (the account's timeout setting): it bounds
// connecting, logging in and each poll, and, as the client's ReadTimeout,
// every command of a pass. A peer that vanishes while the connection idles
// is noticed by TCP keepalive.
func timeout(acct *config.Account) time.Duration {
	if acct.Timeout > 0 {
		return acct.Timeout
	}
	return config.DefaultTimeout
}

// session is one logged-in connection of one account.
type session struct {
	e      *Engine
	acct   *config.Account
	client *imap.Client
	log    *zap.Logger
	// dir remembers the server's mailboxes, hierarchy delimiter and Trash
	// between plans (learned from one LIST when a plan first needs them),
	// so a watching session lists them once.
	dir actions.Directory
	// selected is the mailbox (its server name) this session has
	// selected read-write, if any; a pass over it again needs no new
	// SELECT, since the server keeps the session informed of changes.
	selected string
	// watching is set for a watch session, which waits in the selected
	// mailbox after each pass: it must select even when STATUS says
	// nothing is new.
	watching bool
	// ns is where the account's mailboxes live on the server, once
	// learned (namespace).
	ns *namespace
	// err is the first connection-level error seen; the session is then
	// unusable.
	err error
	// expected and warnedNoCondStore serve the flag passes (flags.go):
	// the flags an arrival pass's actions leave, by mailbox and UID, and
	// whether the missing CONDSTORE was logged.
	expected          map[string]map[uint32][]string
	warnedNoCondStore bool
	// wakeOnFlags is set while the watched mailbox has flag rules: a
	// FETCH update then ends the wait (flagsWake).
	wakeOnFlags *atomic.Bool
	// updates, if set, receives the server's unsolicited updates (see
	// setUpdates); it runs on the goroutine that runs the command.
	updates func(imap.Update)
	// closed is set once the connection was closed and counted as such.
	closed bool
}

// setUpdates routes the session's unsolicited updates to h from now on, as
// a watcher that takes over a connection needs.
func (s *session) setUpdates(h func(imap.Update)) {
	s.updates = h
}

// connect dials the account as configured and authenticates.
func (e *Engine) connect(ctx context.Context, acct *config.Account) (*session, error) {
	return e.connectWith(ctx, acct, nil)
}

// connectWith is connect with a handler for unsolicited updates (Watch).
// Logins wait their turn (logins.go), and the outcome is counted in the
// metrics: a connection opened, or a failed connection or login.
func (e *Engine) connectWith(ctx context.Context, acct *config.Account, updates func(imap.Update)) (*session, error) {
	release, err := e.logins.acquire(ctx, acct.Name)
	if err != nil {
		return nil, fmt.Errorf("wait to log in: %w", err)
	}
	defer release()
	var s *session
	s, err = e.dialAndLogin(ctx, acct, func(u imap.Update) {
		// The handler runs on the goroutine of the command, which is the
		// one that set s.
		if s != nil && s.updates != nil {
			s.updates(u)
		}
	})
	if err != nil {
		return nil, err
	}
	s.updates = updates
	e.opts.Metrics.connOpened(acct.Name)
	return s, nil
}

// dialAndLogin dials the account as configured and authenticates.
func (e *Engine) dialAndLogin(ctx context.Context, acct *config.Account, updates func(imap.Update)) (*session, error) {
	log := e.log.With(zap.String("account", acct.Name))
	opts := &imap.Options{
		Trace:             e.opts.Trace,
		UpdateHandler:     updates,
		AllowInsecureAuth: acct.AllowInsecure,
		IdleRestart:       acct.IdleRestart,
		ReadTimeout:       timeout(acct),
	}
	dctx, cancel := context.WithTimeout(ctx, timeout(acct))
	defer cancel()

	var (
		c   *imap.Client
		err error
	)
	addr := net.JoinHostPort(acct.Host, strconv.Itoa(acct.Port))
	// RootCAs nil means the system's; the loader read tls_ca_file once.
	tlsCfg := &tls.Config{ServerName: acct.Host, InsecureSkipVerify: acct.TLSSkipVerify, RootCAs: acct.TLSRootCAs}
	switch {
	case len(acct.Command) > 0:
		c, err = imap.DialCommand(dctx, opts, acct.Command[0], acct.Command[1:]...)
		addr = acct.Command[0]
	case acct.TLS == "implicit":
		c, err = imap.DialTLS(dctx, addr, tlsCfg, opts)
	case acct.TLS == "starttls":
		c, err = imap.DialStartTLS(dctx, addr, tlsCfg, opts)
	default:
		c, err = imap.Dial(dctx, addr, opts)
	}
	if err != nil {
		e.opts.Metrics.connError(acct.Name)
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	s := &session{e: e, acct: acct, client: c, log: log}
	if c.State() == imap.NotAuthenticated {
		if err := s.authenticate(dctx); err != nil {
			e.opts.Metrics.loginFailed(acct.Name)
			c.Close()
			return nil, err
		}
	}
	log.Debug("connected", zap.String("server", addr))
	return s, nil
}

// authenticate logs in with the account's credentials: an OAuth 2.0 token
// (XOAUTH2 or OAUTHBEARER, RFC 7628) or a password (AUTHENTICATE PLAIN when
// offered, else LOGIN). Secrets are resolved here, used once and never
// logged.
func (s *session) authenticate(ctx context.Context) error {
	acct, c := s.acct, s.client
	if acct.Auth == "xoauth2" || acct.Auth == "oauthbearer" {
		token, err := acct.OAuth2.Token(ctx, nil)
		if err != nil {
			return fmt.Errorf("oauth2 token for %q: %w", acct.Username, err)
		}
		mech := sasl.XOAuth2(acct.Username, token)
		if acct.Auth == "oauthbearer" {
			mech = sasl.OAuthBearer(acct.Username, token, acct.Host, acct.Port)
		}
		if err := c.Authenticate(ctx, mech); err != nil {
			acct.OAuth2.Forget() // it may have been revoked: get a new one next time
			return fmt.Errorf("log in as %q: %w", acct.Username, err)
		}
		return nil
	}
	if acct.Password == nil {
		return fmt.Errorf("log in as %q: no password source configured", acct.Username)
	}
	password, err := acct.Password.Resolve(ctx)
	if err != nil {
		return fmt.Errorf("log in as %q: %w", acct.Username, err)
	}
	switch {
	case acct.Auth == "login":
		err = c.Login(ctx, acct.Username, password)
	case c.Caps().Has(imap.Cap("AUTH=PLAIN")):
		err = c.Authenticate(ctx, sasl.Plain("", acct.Username, password))
	default:
		err = c.Login(ctx, acct.Username, password)
	}
	if err != nil {
		return fmt.Errorf("log in as %q: %w", acct.Username, err)
	}
	return nil
}

// namespace is the server's personal namespace: the prefix under which the
// user's mailboxes live (such as "INBOX." on Courier and Cyrus) and the
// hierarchy delimiter.
type namespace struct {
	prefix, delim string
}

// namespace learns, once per connection, where the account's mailboxes live:
// the first personal namespace of NAMESPACE (RFC 2342 section 5), or, from a
// server without NAMESPACE, no prefix and the delimiter of LIST "" ""
// (RFC 3501 section 6.3.8).
func (s *session) namespace(ctx context.Context) (*namespace, error) {
	if s.ns != nil {
		return s.ns, nil
	}
	ns := &namespace{}
	if s.client.Has(imap.CapNamespace) {
		data, err := s.client.Namespace(ctx)
		if err != nil {
			return nil, s.note(fmt.Errorf("namespace: %w", err))
		}
		if len(data.Personal) > 0 {
			ns.prefix, ns.delim = data.Personal[0].Prefix, data.Personal[0].Delim
		}
	} else {
		list, err := s.client.List(ctx, "", "")
		if err != nil {
			return nil, s.note(fmt.Errorf("list the hierarchy delimiter: %w", err))
		}
		if len(list) > 0 {
			ns.delim = list[0].Delim
		}
	}
	if ns.prefix != "" || ns.delim != "/" {
		s.log.Debug("mailbox names", zap.String("prefix", ns.prefix), zap.String("delimiter", ns.delim))
	}
	s.ns = ns
	return ns, nil
}

// serverName maps a mailbox as the config writes it ("/"-separated, such as
// "Lists/go") to the server's name for it, under the personal namespace and
// with the server's delimiter (actions.MailboxName). INBOX needs no
// round trip.
func (s *session) serverName(ctx context.Context, mailbox string) (string, error) {
	if name := actions.MailboxName(mailbox, "/", ""); imap.IsInbox(name) {
		return "INBOX", nil
	}
	ns, err := s.namespace(ctx)
	if err != nil {
		return "", err
	}
	return actions.MailboxName(mailbox, ns.delim, ns.prefix), nil
}

// broken reports whether the connection can no longer be used.
func (s *session) broken() bool {
	return s.err != nil
}

// note records err as the session's fatal error when it is connection-level,
// forgets the selected mailbox (a failed command may have left it), and
// returns err unchanged.
func (s *session) note(err error) error {
	if err != nil {
		s.selected = ""
		if s.err == nil && errors.Is(err, imap.ErrAbort) {
			s.err = err
			s.e.opts.Metrics.connError(s.acct.Name)
		}
	}
	return err
}

// logout ends the session politely, then closes the connection.
func (s *session) logout() {
	if s.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.client.Logout(ctx); err != nil {
			s.log.Debug("logout", zap.Error(err))
		}
		cancel()
	}
	s.close()
}

// close closes the connection without LOGOUT.
func (s *session) close() {
	if err := s.client.Close(); err != nil {
		s.log.Debug("close", zap.Error(err))
	}
	if !s.closed {
		s.closed = true
		s.e.opts.Metrics.connClosed(s.acct.Name)
	}
}
