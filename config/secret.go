package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Secret says where a password or token comes from. It never holds the
// value except for a plaintext password written in the config file, and
// its String, GoString and MarshalText methods never reveal that value.
type Secret struct {
	Env     string   // an environment variable
	File    string   // a file; a final newline is dropped
	Command []string // a command's standard output, first line; ["sh","-c",s] for a string

	value string // plaintext from the config file
	plain bool
}

// String describes the source without the value, e.g. "env:MAILRULES_PASSWORD".
func (s Secret) String() string {
	switch {
	case s.plain:
		return "plaintext:<redacted>"
	case s.Env != "":
		return "env:" + s.Env
	case s.File != "":
		return "file:" + s.File
	case len(s.Command) > 0:
		return "command:" + strings.Join(s.Command, " ")
	}
	return "none"
}

// GoString implements fmt.GoStringer so that %#v does not reveal the value either.
func (s Secret) GoString() string { return "config.Secret(" + s.String() + ")" }

// MarshalText implements encoding.TextMarshaler with the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Resolve returns the secret's value: it reads the environment variable or
// the file, or runs the command. The value is never logged; errors name
// the source, not the value.
func (s *Secret) Resolve(ctx context.Context) (string, error) {
	if s == nil {
		return "", errors.New("no secret configured")
	}
	switch {
	case s.plain:
		return s.value, nil
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	case s.File != "":
		data, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("read secret: %w", err)
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", s.File)
		}
		return v, nil
	case len(s.Command) > 0:
		return runSecretCommand(ctx, s.Command)
	}
	return "", errors.New("empty secret source")
}

// runSecretCommand runs argv and returns the first line of its output.
func runSecretCommand(ctx context.Context, argv []string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Stdin = nil
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg != "" {
			return "", fmt.Errorf("secret command %s: %w: %s", argv[0], err, msg)
		}
		return "", fmt.Errorf("secret command %s: %w", argv[0], err)
	}
	v, _, _ := strings.Cut(stdout.String(), "\n")
	v = strings.TrimSuffix(v, "\r")
	if v == "" {
		return "", fmt.Errorf("secret command %s printed nothing", argv[0])
	}
	return v, nil
}

// describe is String for a possibly nil *Secret.
func (s *Secret) describe() string {
	if s == nil {
		return "none"
	}
	return s.String()
}

// WriteSecretFile stores value in the file at path, readable and writable
// by its owner only (0600). It refuses a path that is a symbolic link or
// not a regular file, and an existing file that others may read or write,
// rather than follow the link or put a secret where others can read it.
// The value is written to a new file in the same directory, which then
// replaces path, so a reader never sees half of it.
func WriteSecretFile(path, value string) (err error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("store secret: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("store secret: %s is a symbolic link; give the real path", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("store secret: %s is not a regular file", path)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("store secret: %s has permissions %04o, others may read it; chmod 600 it or remove it", path, fi.Mode().Perm())
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("store secret: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*") // mode 0600
	if err != nil {
		return fmt.Errorf("store secret: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("store secret: %w", err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		return fmt.Errorf("store secret in %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store secret in %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store secret in %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("store secret: %w", err)
	}
	return nil
}

// runStoreCommand runs argv with value and a newline on its standard
// input, for commands such as "pass insert -m NAME".
func runStoreCommand(ctx context.Context, argv []string, value string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdin = strings.NewReader(value + "\n")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(strings.ReplaceAll(out.String(), value, "<redacted>"))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg != "" {
			return fmt.Errorf("store command %s: %w: %s", argv[0], err, msg)
		}
		return fmt.Errorf("store command %s: %w", argv[0], err)
	}
	return nil
}
