package e2e

import (
	"encoding/json"
	"testing"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/engine"
	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// TestResumeInterruptedPass leaves the state as a pass killed half way
// would: its plan journaled, some steps confirmed by the server and some
// not. The next run must finish exactly the unconfirmed steps: nothing
// lost, nothing done twice.
func TestResumeInterruptedPass(t *testing.T) {
	const resumeRules = `
[[rule]]
name = "friends"
when = 'any(from, .domain == "friends.example")'
copy = ["Friends"]

[[rule]]
name = "spam"
when = 'header("X-Spam-Flag") == "YES"'
move = "Junk"
`
	for _, tc := range []struct {
		name string
		done []int // steps the "killed" pass had completed
	}{
		{"killed before any step", nil},
		{"killed after the copy", []int{0}},
		{"killed after every step, before recording", []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, srv, resumeRules, "")
			e.appendMessages("INBOX",
				message{id: "friend@x", headers: "From: Dan <dan@friends.example>"},
				message{id: "spam@x", headers: "X-Spam-Flag: YES"},
				message{id: "ham@x"})

			c := e.client()
			ctx := t.Context()
			st, err := c.Select(ctx, "INBOX", nil)
			if err != nil {
				t.Fatalf("Select = %v", err)
			}
			uid := func(id string) uint32 {
				uids, err := c.UIDSearch(ctx, &imap.SearchCriteria{Header: [][2]string{{"Message-ID", id}}})
				if err != nil || len(uids) != 1 {
					t.Fatalf("UIDSearch(%s) = %v, %v", id, uids, err)
				}
				return uids[0]
			}
			plan := actions.NewPlan("INBOX", []actions.Decision{
				{UID: uid("friend@x"), MessageID: "<friend@x>", Result: rules.Result{
					Matched: []string{"friends"}, Copies: []rules.Target{{Mailbox: "Friends", Rule: "friends"}}}},
				{UID: uid("spam@x"), MessageID: "<spam@x>", Result: rules.Result{
					Matched: []string{"spam"}, Final: &rules.Final{Kind: rules.FinalMove, Mailbox: "Junk", Rule: "spam"}}},
			})
			if len(plan.Steps) != 2 || plan.Steps[0].Kind != actions.StepCopy || plan.Steps[1].Kind != actions.StepMove {
				t.Fatalf("plan steps = %v, want copy then move", plan.Steps)
			}
			// What the killed pass had done on the server.
			if _, err := plan.Execute(ctx, c, &actions.Options{Skip: func(i int) bool {
				for _, d := range tc.done {
					if d == i {
						return false
					}
				}
				return true
			}}); err != nil {
				t.Fatalf("executing the steps done before the kill: %v", err)
			}
			c.Logout(ctx)

			raw, err := json.Marshal(plan)
			if err != nil {
				t.Fatal(err)
			}
			store, err := engine.OpenStore(e.state)
			if err != nil {
				t.Fatal(err)
			}
			err = store.Put("test", "INBOX", engine.MailboxState{
				UIDValidity: st.UIDValidity,
				Pending:     &engine.Journal{UIDValidity: st.UIDValidity, HighestUID: st.UIDNext - 1, Plan: raw, Done: tc.done},
			})
			store.Close()
			if err != nil {
				t.Fatal(err)
			}

			r := e.mustRun("run")
			want := snapshot{
				"INBOX":   {"friend@x": ``, "ham@x": ``},
				"Friends": {"friend@x": ``},
				"Junk":    {"spam@x": ``},
			}
			if got := e.snapshot(); got.String() != want.String() {
				t.Fatalf("after resuming:\n%s\nwant:\n%s\nlog:\n%s", got, want, r.stderr)
			}
			// The batch is recorded: another run does nothing more.
			e.mustRun("run")
			if got := e.snapshot(); got.String() != want.String() {
				t.Fatalf("after a further run:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
