package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// Capabilities Dovecot advertises, less some. IDLE stays so watch works.
const (
	capsNoMove          = "IMAP4rev1 LITERAL+ SASL-IR ENABLE IDLE UIDPLUS SPECIAL-USE NAMESPACE UNSELECT"
	capsNoMoveNoUIDPlus = "IMAP4rev1 LITERAL+ SASL-IR ENABLE IDLE SPECIAL-USE NAMESPACE UNSELECT"
)

// markDeleted sets \Deleted on a bystander message, as another mail client
// would before its own EXPUNGE.
func (e *env) markDeleted(id string) {
	e.t.Helper()
	c := e.client()
	ctx := e.t.Context()
	if _, err := c.Select(ctx, "INBOX", nil); err != nil {
		e.t.Fatalf("Select = %v", err)
	}
	uids, err := c.UIDSearch(ctx, &imap.SearchCriteria{Header: [][2]string{{"Message-ID", id}}})
	if err != nil || len(uids) != 1 {
		e.t.Fatalf("UIDSearch(%s) = %v, %v", id, uids, err)
	}
	if err := c.UIDStore(ctx, imap.SeqSetFromNums(uids...), imap.StoreAdd, true, []string{imap.FlagDeleted}); err != nil {
		e.t.Fatalf("UIDStore = %v", err)
	}
	c.Logout(ctx)
}

func TestFallbackWithoutMove(t *testing.T) {
	for _, tc := range []struct {
		name, caps, account string
		// wantInbox is INBOX afterwards: the moved message stays, marked
		// \Deleted, only when nothing may expunge it.
		wantInbox  string
		wantStderr string
	}{
		{
			name: "UIDPLUS: COPY, STORE, UID EXPUNGE", caps: capsNoMove,
			wantInbox: `bystander@x[\Deleted] ham@x[]`,
		},
		{
			name: "no UIDPLUS: left marked \\Deleted", caps: capsNoMoveNoUIDPlus,
			wantInbox:  `bystander@x[\Deleted] ham@x[] spam@x[\Deleted]`,
			wantStderr: "UIDPLUS",
		},
		{
			name: "no UIDPLUS, expunge = true: bare EXPUNGE", caps: capsNoMoveNoUIDPlus, account: "expunge = true",
			wantInbox: `ham@x[]`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.caps)
			e := newEnv(t, s, spamRule, tc.account)
			e.appendMessages("INBOX",
				message{id: "spam@x", headers: "X-Spam-Flag: YES"},
				message{id: "ham@x"},
				message{id: "bystander@x"})
			e.markDeleted("bystander@x")

			trace := filepath.Join(e.dir, "trace")
			r := e.mustRun("run", "--all", "--trace", trace)
			got := e.snapshot()
			if inbox := strings.TrimSpace(strings.TrimPrefix(snapshot{"INBOX": got["INBOX"]}.String(), "INBOX: ")); inbox != tc.wantInbox {
				t.Errorf("INBOX = %s, want %s\nfull:\n%s", inbox, tc.wantInbox, got)
			}
			if _, ok := got["Junk"]["spam@x"]; !ok || len(got["Junk"]) != 1 {
				t.Errorf("Junk = %v, want just spam@x", got["Junk"])
			}
			if tc.wantStderr != "" && !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("log does not warn about %s:\n%s", tc.wantStderr, r.stderr)
			}
			// A second sweep must not copy the messages left marked \Deleted again.
			e.mustRun("run", "--all")
			if again := e.snapshot(); again.String() != got.String() {
				t.Errorf("second run --all changed mailboxes:\n%s\nwant:\n%s", again, got)
			}
			commands := traceCommands(t, trace)
			if n := commands["MOVE"]; n != 0 {
				t.Errorf("sent %d MOVE commands to a server without MOVE", n)
			}
			if n := commands["EXPUNGE"]; n != 0 && tc.account == "" {
				t.Errorf("sent %d bare EXPUNGE without expunge = true", n)
			}
		})
	}
}

// traceCommands counts the client's tagged commands in a protocol trace by
// name ("UID FETCH" counts as "FETCH" under "UID FETCH").
func traceCommands(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read trace: %v", err)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		// Lines are "HH:MM:SS.micros C: tag command ...".
		_, rest, ok := strings.Cut(line, " C: ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 || f[1] == "" || strings.HasPrefix(f[0], "+") || f[0] == "DONE" {
			continue
		}
		name := strings.ToUpper(f[1])
		if name == "UID" && len(f) > 2 {
			name = "UID " + strings.ToUpper(f[2])
		}
		counts[name]++
		counts["total"]++
	}
	if counts["total"] == 0 {
		t.Fatalf("no client command found in the trace %s:\n%.2000s", path, data)
	}
	return counts
}

// TestCommandCountFlat runs over 5,000 messages twice, once with few and
// once with many matching, and checks that the number of IMAP commands
// does not grow with the number matched.
func TestCommandCountFlat(t *testing.T) {
	rules := spamRule + listsRule + `
[[rule]]
name = "flag"
when = 'subject contains "7"'
flag = ["$Seven"]
`
	const total = 5000
	var counts []map[string]int
	for _, matchEvery := range []int{500, 2} {
		e := newEnv(t, srv, rules, "")
		msgs := make([]dovecottest.Message, total)
		date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range msgs {
			var headers string
			if i%matchEvery == 0 {
				headers = []string{"X-Spam-Flag: YES", "List-Id: <alpha.lists.example>", "List-Id: <beta.lists.example>"}[i/matchEvery%3]
			}
			m := message{id: fmt.Sprintf("bulk-%d@x", i), headers: headers, date: date}
			msgs[i] = dovecottest.Message{Data: m.bytes(), InternalDate: date.Add(time.Duration(i) * time.Second)}
		}
		if err := e.srv.AddMessages(e.user, "INBOX", msgs); err != nil {
			t.Fatalf("AddMessages = %v", err)
		}
		trace := filepath.Join(e.dir, "trace")
		e.mustRun("run", "--all", "--trace", trace)
		c := traceCommands(t, trace)
		t.Logf("1 in %d matching: %d commands %v", matchEvery, c["total"], c)
		counts = append(counts, c)

		got := e.snapshot()
		if got.count() != total {
			t.Fatalf("1 in %d matching: %d messages after the run, want %d", matchEvery, got.count(), total)
		}
		if want := (total + matchEvery - 1) / matchEvery; len(got["Junk"])+len(got["Lists.alpha"])+len(got["Lists.beta"]) != want {
			t.Fatalf("1 in %d matching: filed %d, want %d", matchEvery, len(got["Junk"])+len(got["Lists.alpha"])+len(got["Lists.beta"]), want)
		}
	}
	if counts[0]["total"] != counts[1]["total"] {
		t.Fatalf("commands: %d with 10 matching, %d with 2,500 matching; want equal", counts[0]["total"], counts[1]["total"])
	}
}

// TestSweepSearchesInsteadOfFetchingAll checks that a scope = "all" rule
// asks the server which old messages it could match (UID SEARCH) instead of
// fetching the whole mailbox every pass, and still files exactly the right
// ones.
func TestSweepSearchesInsteadOfFetchingAll(t *testing.T) {
	e := newEnv(t, srv, `
[[rule]]
name  = "archive"
scope = "all"
when  = 'internalDate.Year() < 2025 && !flagged'
move  = "Archive/{internalDate.Year()}"
`, "")
	var msgs []dovecottest.Message
	for i := range 300 {
		date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		flags := ""
		if i%50 == 0 {
			date = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour) // 6 old messages
		}
		if i == 100 {
			flags = "F" // old but flagged: stays
		}
		m := message{id: fmt.Sprintf("sweep-%d@x", i), date: date}
		msgs = append(msgs, dovecottest.Message{Data: m.bytes(), InternalDate: date, Flags: flags})
	}
	if err := e.srv.AddMessages(e.user, "INBOX", msgs); err != nil {
		t.Fatalf("AddMessages = %v", err)
	}
	// The first run records the baseline; the sweep still applies to old mail.
	e.mustRun("run")
	trace := filepath.Join(e.dir, "trace")
	e.mustRun("run", "--trace", trace)
	got := e.snapshot()
	if n := len(got["Archive.2023"]); n != 5 {
		t.Fatalf("Archive.2023 holds %d messages, want 5:\n%s", n, got)
	}
	if _, ok := got["INBOX"]["sweep-100@x"]; !ok {
		t.Fatalf("the flagged old message was archived:\n%s", got)
	}
	if got.count() != 300 {
		t.Fatalf("%d messages after the sweep, want 300", got.count())
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if !strings.Contains(text, "UID SEARCH") {
		t.Fatalf("the sweep sent no UID SEARCH:\n%s", text)
	}
	if strings.Contains(text, "UID FETCH 1:*") {
		t.Fatalf("the sweep fetched the whole mailbox:\n%s", text)
	}
}
