package couriertest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/test/internal/imapsrv"
)

// User is a mail account on a Server.
type User struct {
	Name     string
	Password string
	Home     string // home directory, owned by the mail user
	Maildir  string // Home/Maildir: INBOX is cur/new/tmp here, folders are .Name below
}

// NewUser creates a fresh user with an empty Maildir and removes it when
// the test ends. It fails the test on error.
func (s *Server) NewUser(t testing.TB) *User {
	t.Helper()
	u, err := s.AddUser("")
	if err != nil {
		t.Fatalf("couriertest: NewUser: %v\n%s", err, s.LogTail(2048))
	}
	t.Cleanup(func() {
		if err := s.RemoveUser(u); err != nil {
			t.Errorf("couriertest: remove user %s: %v", u.Name, err)
		}
	})
	return u
}

// AddUser creates a user with a random password and an empty Maildir. An
// empty name picks a fresh one ("user1", "user2", ...). Names are 1-32
// lower-case letters, digits, '_' and '-', starting with a letter. The
// user can log in as soon as AddUser returns (authdaemond's userdb module
// reopens userdb.dat when it changes).
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
	if _, taken := s.users[name]; taken {
		return nil, fmt.Errorf("add user %q: already exists", name)
	}
	var secret [9]byte
	rand.Read(secret[:])
	home := filepath.Join(s.homeRoot, name)
	u := &User{Name: name, Password: hex.EncodeToString(secret[:]), Home: home, Maildir: filepath.Join(home, "Maildir")}
	for _, d := range []string{home, u.Maildir, filepath.Join(u.Maildir, "cur"), filepath.Join(u.Maildir, "new"), filepath.Join(u.Maildir, "tmp")} {
		if err := s.acct.MkdirOwned(d, 0o700); err != nil {
			os.RemoveAll(home)
			return nil, fmt.Errorf("add user %q: %w", name, err)
		}
	}
	s.users[name] = u
	if err := s.writeUserdb(); err != nil {
		delete(s.users, name)
		os.RemoveAll(home)
		return nil, fmt.Errorf("add user %q: %w", name, err)
	}
	return u, nil
}

// RemoveUser removes the user from the userdb and deletes its home
// directory. Sessions still open fail from then on. After Close it does
// nothing.
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
	if err := s.writeUserdb(); err != nil {
		return fmt.Errorf("remove user %q: %w", u.Name, err)
	}
	if err := os.RemoveAll(u.Home); err != nil {
		return fmt.Errorf("remove user %q: %w", u.Name, err)
	}
	return nil
}

// writeUserdb rewrites userdb.dat and userdbshadow.dat (GDBM files that
// makedatprog builds and renames into place) from s.users.
func (s *Server) writeUserdb() error {
	var db, shadow strings.Builder
	for _, name := range slices.Sorted(maps.Keys(s.users)) {
		u := s.users[name]
		db.WriteString(userdbLine(u, s.acct.UID, s.acct.GID))
		sum := sha1.Sum([]byte(u.Password))
		fmt.Fprintf(&shadow, "%s\tsystempw={SHA}%s\n", u.Name, base64.StdEncoding.EncodeToString(sum[:]))
	}
	if err := makedat(filepath.Join(s.etcDir, "userdb"), db.String(), 0o644); err != nil {
		return err
	}
	return makedat(filepath.Join(s.etcDir, "userdbshadow"), shadow.String(), 0o600)
}

func makedat(base, records string, perm os.FileMode) error {
	cmd := exec.Command(MakedatPath, "-", base+".tmp", base+".dat")
	cmd.Stdin = strings.NewReader(records + ".\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("makedatprog %s.dat: %v: %s", base, err, strings.TrimSpace(out.String()))
	}
	if err := os.Chmod(base+".dat", perm); err != nil {
		return fmt.Errorf("chmod %s.dat: %w", base, err)
	}
	return nil
}
