package bench

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	old := time.Date(2002, 8, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2002, 10, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		date   time.Time
		want   Decision
	}{
		{"spam wins over list", "X-Spam-Flag: YES\r\nList-Id: <ilug.linux.ie>\r\nSubject: free\r\n", old, Decision{Move: "Junk"}},
		{"list by id, case-insensitive, flagged", "List-Id: Friends of Rohit Khare\r\n <FoRK.xent.com>\r\nSubject: Security update\r\n", recent, Decision{Flag: true, Move: "Lists/FoRK"}},
		{"encoded subject decoded", "Subject: =?iso-8859-1?q?URGENT_reply?=\r\n", recent, Decision{Flag: true}},
		{"no word boundary, no flag", "Subject: freedom\r\n", recent, Decision{}},
		{"old mail archived", "Subject: hello\r\n", old, Decision{Move: "Archive"}},
		{"unknown list stays", "List-Id: <other.example>\r\n", recent, Decision{}},
		{"X-Spam-Flag NO stays", "X-Spam-Flag: NO\r\n", recent, Decision{}},
	}
	d := NewDecider()
	for _, tt := range tests {
		if got := d.Decide([]byte(tt.header+"\r\n"), tt.date); got != tt.want {
			t.Fatalf("Decide(%s: %q) = %+v, want %+v", tt.name, tt.header, got, tt.want)
		}
	}
}

func TestRules50TOML(t *testing.T) {
	s := Rules50TOML()
	if n := strings.Count(s, "[[rule]]"); n != 50 {
		t.Fatalf("Rules50TOML has %d rules, want 50", n)
	}
	if !strings.HasSuffix(s, RulesTOML) {
		t.Fatalf("Rules50TOML does not end with the bench rule set")
	}
}
