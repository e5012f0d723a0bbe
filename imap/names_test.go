package imap

import "testing"

func TestMailboxEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"INBOX", "INBOX", true},
		{"INBOX", "inbox", true},
		{"Inbox", "iNbOx", true},
		{"Archive", "Archive", true},
		{"Archive", "archive", false},
		{"INBOX/Sub", "inbox/Sub", false},
		{"INBOX", "INBOX ", false},
		{"", "", true},
		{"INBOX", "", false},
	}
	for _, tt := range tests {
		if got := MailboxEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("MailboxEqual(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := MailboxEqual(tt.b, tt.a); got != tt.want {
			t.Errorf("MailboxEqual(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
	for name, want := range map[string]bool{"INBOX": true, "inbox": true, "InBox": true, "INBOX.Sent": false, "INBOXX": false, "": false} {
		if got := IsInbox(name); got != want {
			t.Errorf("IsInbox(%q) = %v, want %v", name, got, want)
		}
	}
}
