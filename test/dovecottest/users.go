package dovecottest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// User is a mail account on a Server.
type User struct {
	Name     string
	Password string
	Home     string // home directory, owned by the mail user
	Maildir  string // Home/Maildir: INBOX is cur/new/tmp here, folders are .Name below
}

// NewUser creates a fresh user with an empty Maildir and removes it (and
// kills its sessions) when the test ends. It fails the test on error.
func (s *Server) NewUser(t testing.TB) *User {
	t.Helper()
	u, err := s.AddUser("")
	if err != nil {
		t.Fatalf("dovecottest: NewUser: %v", err)
	}
	t.Cleanup(func() {
		if err := s.RemoveUser(u); err != nil {
			t.Errorf("dovecottest: remove user %s: %v", u.Name, err)
		}
	})
	return u
}

// AddUser creates a user with a random password and an empty Maildir. An
// empty name picks a fresh one ("user1", "user2", ...). Names may contain
// letters, digits, '.', '_' and '-'.
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
	if err := validUserName(name); err != nil {
		return nil, err
	}
	if _, taken := s.users[name]; taken {
		return nil, fmt.Errorf("add user %q: already exists", name)
	}
	var secret [9]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, fmt.Errorf("add user %q: password: %w", name, err)
	}
	home := filepath.Join(s.homeRoot, name)
	u := &User{
		Name:     name,
		Password: hex.EncodeToString(secret[:]),
		Home:     home,
		Maildir:  filepath.Join(home, "Maildir"),
	}
	if err := s.mkdirOwned(home, 0o700); err != nil {
		return nil, fmt.Errorf("add user %q: %w", name, err)
	}
	if err := s.makeMaildir(u.Maildir); err != nil {
		os.RemoveAll(home)
		return nil, fmt.Errorf("add user %q: %w", name, err)
	}
	if err := s.writePasswd(u); err != nil {
		os.RemoveAll(home)
		return nil, fmt.Errorf("add user %q: %w", name, err)
	}
	s.users[name] = u
	return u, nil
}

// RemoveUser kills the user's sessions, removes its passwd-file and
// deletes its home directory. Dovecot may keep accepting the old password
// for up to a second (it re-checks a passwd-file at most once a second), so
// re-adding a removed name at once is not supported. After Close it does
// nothing.
func (s *Server) RemoveUser(u *User) error {
	killErr := s.KillSessions(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil // the whole directory is gone already
	}
	if _, ok := s.users[u.Name]; !ok {
		return fmt.Errorf("remove user %q: no such user", u.Name)
	}
	delete(s.users, u.Name)
	if err := os.Remove(filepath.Join(s.passwdDir, u.Name)); err != nil {
		return fmt.Errorf("remove user %q: %w", u.Name, err)
	}
	if err := os.RemoveAll(u.Home); err != nil {
		return fmt.Errorf("remove user %q: %w", u.Name, err)
	}
	if killErr != nil {
		return fmt.Errorf("remove user %q: %w", u.Name, killErr)
	}
	return nil
}

func validUserName(name string) error {
	if name == "" || len(name) > 64 || name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("invalid user name %q", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("invalid user name %q: only letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// writePasswd writes u's passwd-file atomically. The format is
// user:password:uid:gid:gecos:home:shell:extra; the password is {PLAIN} so
// that CRAM-MD5 works.
func (s *Server) writePasswd(u *User) error {
	path := filepath.Join(s.passwdDir, u.Name)
	tmp := filepath.Join(s.passwdDir, ".tmp."+u.Name)
	line := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::\n", u.Name, u.Password, s.mailUID, s.mailGID, u.Home)
	// World-readable: Dovecot's auth process runs as an internal user.
	// These are throwaway test passwords.
	if err := os.WriteFile(tmp, []byte(line), 0o644); err != nil {
		return fmt.Errorf("write passwd-file: %w", err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("chmod passwd-file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install passwd-file: %w", err)
	}
	return nil
}

// mkdirOwned creates dir (which must not exist) owned by the mail user.
func (s *Server) mkdirOwned(dir string, perm os.FileMode) error {
	if err := os.Mkdir(dir, perm); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, perm); err != nil { // umask
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	if s.chown {
		if err := os.Chown(dir, s.mailUID, s.mailGID); err != nil {
			return fmt.Errorf("chown %s: %w", dir, err)
		}
	}
	return nil
}

// makeMaildir creates dir with cur, new and tmp, owned by the mail user.
func (s *Server) makeMaildir(dir string) error {
	if err := s.mkdirOwned(dir, 0o700); err != nil {
		return err
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := s.mkdirOwned(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}
