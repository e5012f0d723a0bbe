package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAccountMaxConnections: the default budget, a value that fits, and a
// clear error at the key for 0, negative and absurd values.
func TestAccountMaxConnections(t *testing.T) {
	tests := []struct {
		value   string // as written after max_connections =; "" leaves the key out
		want    int
		wantErr string
	}{
		{"", DefaultMaxConnections, ""},
		{"1", 1, ""},
		{"15", 15, ""},
		{"0", 0, `:5:1: account "a": max_connections = 0: want at least 1 (and at most 1000); Gmail allows 15 in all, shared with the user's other mail clients`},
		{"-3", 0, `:5:1: account "a": max_connections = -3: want at least 1 (and at most 1000); Gmail allows 15 in all, shared with the user's other mail clients`},
		{"5000", 0, `:5:1: account "a": max_connections = 5000: want at least 1 (and at most 1000); Gmail allows 15 in all, shared with the user's other mail clients`},
	}
	for _, tc := range tests {
		src := "[[account]]\nname = \"a\"\nhost = \"imap.example.org\"\nusername = \"u\"\n"
		if tc.value != "" {
			src += "max_connections = " + tc.value + "\n"
		} else {
			src += "# no max_connections\n"
		}
		src += "password = { env = \"P\" }\n[[rule]]\nname = \"r\"\nwhen = 'true'\nstop = true\n"
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if tc.wantErr != "" {
			if err == nil || err.Error() != path+tc.wantErr {
				t.Errorf("max_connections = %s: Load error %v, want %s", tc.value, err, path+tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("max_connections = %s: Load: %v", tc.value, err)
			continue
		}
		if got := cfg.Accounts[0].MaxConnections; got != tc.want {
			t.Errorf("max_connections = %s: MaxConnections = %d, want %d", tc.value, got, tc.want)
		}
	}
}
