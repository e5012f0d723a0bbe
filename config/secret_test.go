package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteSecretFile(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "sub", "token")
	if err := WriteSecretFile(fresh, "v1"); err != nil {
		t.Fatalf("WriteSecretFile(new file) = %v", err)
	}
	if err := WriteSecretFile(fresh, "v2"); err != nil {
		t.Fatalf("WriteSecretFile(existing 0600 file) = %v", err)
	}
	fi, err := os.Stat(fresh)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if data, _ := os.ReadFile(fresh); string(data) != "v2\n" {
		t.Fatalf("stored file holds %q, want %q", data, "v2\n")
	}
	if v, err := (&Secret{File: fresh}).Resolve(context.Background()); err != nil || v != "v2" {
		t.Fatalf("Resolve of the stored file = %q, %v; want v2", v, err)
	}

	wide := filepath.Join(dir, "wide")
	if err := os.WriteFile(wide, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fresh, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{wide, "permissions 0644"},
		{link, "symbolic link"},
		{dir, "not a regular file"},
	} {
		if err := WriteSecretFile(tt.path, "secret-value"); err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret-value") {
			t.Errorf("WriteSecretFile(%s) = %v, want an error with %q and without the value", tt.path, err, tt.want)
		}
	}
	if data, _ := os.ReadFile(wide); string(data) != "old\n" {
		t.Errorf("refused write changed %s to %q", wide, data)
	}
	if data, _ := os.ReadFile(fresh); string(data) != "v2\n" {
		t.Errorf("refused write through the link changed its target to %q", data)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "sub", ".token.*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

func TestStoreRefreshToken(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "from-command")
	ctx := context.Background()
	o := &OAuth2{RefreshToken: &Secret{Command: []string{"cat", out}}, StoreCommand: []string{"sh", "-c", "cat > " + out}}
	if where, err := o.StoreRefreshToken(ctx, "rt-1"); err != nil || !strings.Contains(where, "store_command") {
		t.Fatalf("StoreRefreshToken via store_command = %q, %v", where, err)
	}
	if data, _ := os.ReadFile(out); string(data) != "rt-1\n" {
		t.Fatalf("store_command received %q, want %q", data, "rt-1\n")
	}
	o.StoreCommand = []string{"sh", "-c", "cat >/dev/null; echo refusing rt-2 >&2; exit 3"}
	if _, err := o.StoreRefreshToken(ctx, "rt-2"); err == nil || !strings.Contains(err.Error(), "exit status 3") || strings.Contains(err.Error(), "rt-2") {
		t.Fatalf("StoreRefreshToken with a failing store_command = %v, want its exit status without the token", err)
	}

	file := filepath.Join(dir, "file")
	o = &OAuth2{RefreshToken: &Secret{File: file}}
	if where, err := o.StoreRefreshToken(ctx, "rt-3"); err != nil || where != file {
		t.Fatalf("StoreRefreshToken to a file = %q, %v; want %q", where, err, file)
	}
	o = &OAuth2{RefreshToken: &Secret{Env: "MAILRULES_RT"}}
	if _, err := o.StoreRefreshToken(ctx, "rt-4"); err == nil || !strings.Contains(err.Error(), "env:MAILRULES_RT") {
		t.Fatalf("StoreRefreshToken with an env source = %v, want an error naming it", err)
	}
}
