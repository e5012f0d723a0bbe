package imap

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Errors name the command once, with the server's answer; the methods add
// no prefix of their own, so that a caller's context is not repeated.
func TestCommandErrorStrings(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		answer string // the tagged response after the tag
		call   func(c *Client) error
		want   string
	}{
		{"CREATE", "NO [CANNOT] Invalid mailbox name.",
			func(c *Client) error { return c.Create(ctx, "Archive") },
			"imap: CREATE: NO [CANNOT] Invalid mailbox name."},
		{"SELECT", "NO [NONEXISTENT] Mailbox doesn't exist: Nope",
			func(c *Client) error { _, err := c.Select(ctx, "Nope", nil); return err },
			"imap: SELECT: NO [NONEXISTENT] Mailbox doesn't exist: Nope"},
		{"UID MOVE", "NO [TRYCREATE] Mailbox doesn't exist: Archive",
			func(c *Client) error { _, err := c.UIDMove(ctx, SeqSetFromNums(4, 5), "Archive"); return err },
			"imap: UID MOVE: NO [TRYCREATE] Mailbox doesn't exist: Archive"},
		{"UID COPY", "NO [OVERQUOTA] Quota exceeded (mailbox for user is full)",
			func(c *Client) error { _, err := c.UIDCopy(ctx, SeqSetFromNums(4), "Archive"); return err },
			"imap: UID COPY: NO [OVERQUOTA] Quota exceeded (mailbox for user is full)"},
		{"STATUS", "NO [NONEXISTENT] Mailbox doesn't exist: Gone",
			func(c *Client) error { _, err := c.Status(ctx, "Gone"); return err },
			"imap: STATUS: NO [NONEXISTENT] Mailbox doesn't exist: Gone"},
		{"UID STORE", "BAD Error in IMAP command UID STORE: Invalid arguments.",
			func(c *Client) error { return c.UIDStore(ctx, SeqSetFromNums(1), StoreAdd, true, []string{"$Junk"}) },
			"imap: UID STORE: BAD Error in IMAP command UID STORE: Invalid arguments."},
		{"UID FETCH", "NO Some messages could not be FETCHed",
			func(c *Client) error {
				return c.UIDFetch(ctx, SeqSetFromNums(1), nil, func(*FetchMessage) error { return nil })
			},
			"imap: UID FETCH: NO Some messages could not be FETCHed"},
		{"LOGIN", "NO [AUTHENTICATIONFAILED] Authentication failed.",
			func(c *Client) error { return c.Login(ctx, "u", "p") },
			"imap: LOGIN: NO [AUTHENTICATIONFAILED] Authentication failed."},
		{"RENAME", "NO [ALREADYEXISTS] Mailbox already exists",
			func(c *Client) error { return c.Rename(ctx, "A", "B") },
			"imap: RENAME: NO [ALREADYEXISTS] Mailbox already exists"},
		{"Execute", "NO [NOPERM] Permission denied",
			func(c *Client) error { _, err := c.Execute(ctx, "GETQUOTAROOT", MailboxName("INBOX")); return err },
			"imap: GETQUOTAROOT: NO [NOPERM] Permission denied"},
		// A connection lost in the middle of a command names it once too.
		{"CREATE aborted", "",
			func(c *Client) error { return c.Create(ctx, "Archive") },
			"imap: CREATE: connection aborted: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialFake(t, nil, func(s *fakeConn) {
				s.send("* OK [CAPABILITY IMAP4rev1 MOVE UIDPLUS LITERAL+] hi")
				tag := strings.Fields(s.readLine())[0]
				if tt.answer != "" {
					s.send(tag + " " + tt.answer)
				}
			})
			err := tt.call(c)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("%s error = %v, want %q", tt.name, err, tt.want)
			}
		})
	}
}

// A command that cannot be sent (a local error) names the command once,
// as does the error of a command whose context ran out.
func TestCommandErrorStringsLocal(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c := dialFake(t, nil, func(s *fakeConn) {
		s.send("* OK [CAPABILITY IMAP4rev1] hi")
		tag := strings.Fields(s.readLine())[0] // the STORE never goes out
		if !strings.HasPrefix(tag, "A") {
			t.Errorf("unexpected line %q", tag)
		}
		<-release
	})
	err := c.UIDStore(context.Background(), SeqSetFromNums(1), StoreAdd, false, []string{"bad flag"})
	if want := `imap: UID STORE: invalid flag "bad flag"`; err == nil || err.Error() != want {
		t.Fatalf("UIDStore with an invalid flag = %v, want %q", err, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = c.Create(ctx, "Archive")
	if !errors.Is(err, context.DeadlineExceeded) || strings.Count(err.Error(), "CREATE") != 1 || !strings.HasPrefix(err.Error(), "imap: CREATE: ") {
		t.Fatalf("Create past its deadline = %v, want one mention of CREATE", err)
	}
}
