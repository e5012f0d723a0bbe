package cyrustest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

// User is a mail account on a Server.
type User struct {
	Name     string
	Password string
}

// NewUser creates a fresh user with an empty INBOX and removes it when the
// test ends. It fails the test on error.
func (s *Server) NewUser(t testing.TB) *User {
	t.Helper()
	u, err := s.AddUser("")
	if err != nil {
		t.Fatalf("cyrustest: NewUser: %v\n%s", err, s.LogTail(2048))
	}
	t.Cleanup(func() {
		if err := s.RemoveUser(u); err != nil {
			t.Errorf("cyrustest: remove user %s: %v", u.Name, err)
		}
	})
	return u
}

// AddUser creates a user with a random password and an empty INBOX
// ("user.NAME" on the server). An empty name picks a fresh one ("user1",
// "user2", ...). Names are 1-32 lower-case letters, digits, '_' and '-',
// starting with a letter.
func (s *Server) AddUser(name string) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("add user %q: server closed", name)
	}
	if name == "" {
		for {
			s.nextUser++
			name = fmt.Sprintf("user%d", s.nextUser)
			if _, taken := s.users[name]; !taken {
				break
			}
		}
	}
	if err := imapsrv.ValidUserName(name); err != nil {
		return nil, err
	}
	if _, taken := s.users[name]; taken || name == AdminName {
		return nil, fmt.Errorf("add user %q: already exists", name)
	}
	u := &User{Name: name, Password: randomPassword()}
	if err := s.saslpasswd(name, u.Password, false); err != nil {
		return nil, fmt.Errorf("add user %q: %w", name, err)
	}
	err := s.adminDo(func(ctx context.Context, c *imap.Client) error {
		return c.Create(ctx, "user."+name)
	})
	if err != nil {
		_ = s.saslpasswd(name, "", true)
		return nil, fmt.Errorf("add user %q: create user.%s: %w", name, name, err)
	}
	s.users[name] = u
	return u, nil
}

// RemoveUser deletes the user's mailboxes (as AdminName) and its password.
// Sessions still open fail from then on. After Close it does nothing.
func (s *Server) RemoveUser(u *User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if _, ok := s.users[u.Name]; !ok {
		return fmt.Errorf("remove user %q: no such user", u.Name)
	}
	delete(s.users, u.Name)
	// Admins may change any ACL but need the x right to delete.
	err := s.adminDo(func(ctx context.Context, c *imap.Client) error {
		if err := c.SetACL(ctx, "user."+u.Name, AdminName, "lrswipkxtecda"); err != nil {
			return err
		}
		return c.Delete(ctx, "user."+u.Name)
	})
	if perr := s.saslpasswd(u.Name, "", true); err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("remove user %q: %w", u.Name, err)
	}
	return nil
}

// saslpasswd sets name's password in the sasldb, or deletes the entry.
func (s *Server) saslpasswd(name, password string, del bool) error {
	args := []string{"-f", s.params.sasldbPath(), "-u", serverName}
	if del {
		args = append(args, "-d")
	} else {
		args = append(args, "-c", "-p")
	}
	cmd := exec.Command(saslpasswd2Path(), append(args, name)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Stdin = strings.NewReader(password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("saslpasswd2 %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// saslpasswd2Path finds saslpasswd2 (Debian's sasl2-bin), which is in
// /usr/sbin, often not on a non-root PATH.
func saslpasswd2Path() string {
	if p, err := exec.LookPath("saslpasswd2"); err == nil {
		return p
	}
	return "/usr/sbin/saslpasswd2"
}
