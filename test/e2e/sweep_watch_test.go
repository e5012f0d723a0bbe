package e2e

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/imap"
)

// TestWatchSweepsWithoutNewMail checks that watch passes over a mailbox with
// scope = "all" rules now and then even when no mail arrives: a message
// flagged by another client (no EXISTS) is filed by the next sweep. It
// drives the engine directly to make the sweep interval (idle_restart,
// at least a minute in a config file) one second.
func TestWatchSweepsWithoutNewMail(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name  = "flagged out"
scope = "all"
when  = 'flagged'
move  = "Flagged"
`, "")
	e.appendMessages("INBOX", message{id: "later-flagged@x"}, message{id: "plain@x"})
	t.Setenv(passwordEnv, e.user.Password)
	cfg, err := config.Load(e.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Accounts[0].IdleRestart = time.Second
	store, err := engine.OpenStore(e.state)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.New(cfg, store, zap.NewNop(), nil).Watch(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v", err)
		}
	}()

	// Let the first pass run, then flag a message from another connection.
	time.Sleep(500 * time.Millisecond)
	c := e.client()
	if _, err := c.Select(t.Context(), "INBOX", nil); err != nil {
		t.Fatal(err)
	}
	uids, err := c.UIDSearch(t.Context(), &imap.SearchCriteria{Header: [][2]string{{"Message-ID", "later-flagged@x"}}})
	if err != nil || len(uids) != 1 {
		t.Fatalf("UIDSearch = %v, %v", uids, err)
	}
	if err := c.UIDStore(t.Context(), imap.SeqSetFromNums(uids...), imap.StoreAdd, true, []string{imap.FlagFlagged}); err != nil {
		t.Fatal(err)
	}
	observer := e.client()
	if !waitFor(10*time.Second, func() bool { return e.where(observer, "later-flagged@x", "Flagged") == "Flagged" }) {
		t.Fatalf("the flagged message was not filed by a sweep:\n%s", e.snapshot())
	}
	if got := e.snapshot(); !hasMessage(got["INBOX"], "plain@x") || len(got["INBOX"]) != 1 {
		t.Fatalf("after the sweep:\n%s", got)
	}
}
