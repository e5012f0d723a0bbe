package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
