package actions_test

import (
	"os"

	"github.com/mailrules/mailrules/actions"
	"github.com/mailrules/mailrules/rules"
)

func ExamplePlan_Print() {
	p := actions.NewPlan("INBOX", []actions.Decision{
		{UID: 41, From: "golang-dev@googlegroups.com", Subject: "release notes",
			Result: rules.Result{Matched: []string{"lists"},
				AddFlags: []rules.FlagChange{{Flag: `\Seen`, Rule: "lists"}},
				Final:    &rules.Final{Kind: rules.FinalMove, Mailbox: "Lists/go-dev", Rule: "lists"}}},
		{UID: 42, From: "prize@example.com", Subject: "You won",
			Result: rules.Result{Matched: []string{"spam"},
				Final: &rules.Final{Kind: rules.FinalDelete, Rule: "spam"}}},
	})
	p.Print(os.Stdout)
	// Output:
	// INBOX: 2 messages, 3 steps
	//
	// Steps:
	//   1. add \Seen to 1 message
	//   2. move 1 message to "Lists/go-dev"
	//   3. delete 1 message (move to Trash)
	//
	// Rules:
	//   lists  1 message
	//   spam   1 message
	//
	// Messages:
	//   UID  ACTION        DESTINATION   RULE   FROM                         SUBJECT
	//   41   +flags \Seen  -             lists  golang-dev@googlegroups.com  release notes
	//   41   move          Lists/go-dev  lists  golang-dev@googlegroups.com  release notes
	//   42   delete        (Trash)       spam   prize@example.com            You won
}
