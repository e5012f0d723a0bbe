package main

import (
	"strings"
	"testing"

	"github.com/mailrules/mailrules/classify"
	"github.com/mailrules/mailrules/engine"
)

func TestPrintLearnSummary(t *testing.T) {
	sums := []*engine.LearnSummary{
		{Account: "mail", Mailbox: "Junk", Class: classify.Spam, Learned: 3, Already: 1},
		{Account: "mail", Mailbox: "INBOX", Class: classify.Ham, Learned: 10, Failed: 2, Skipped: 1},
	}
	var b strings.Builder
	printLearnSummary(&b, sums, true)
	want := `     MAILBOX    AS  WOULD LEARN  ALREADY  FAILED  SKIPPED
   mail/Junk  spam            3        1       0        0
  mail/INBOX   ham           10        0       2        1
       total                 13        1       2        1
`
	if got := b.String(); got != want {
		t.Fatalf("printLearnSummary =\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	printLearnSummary(&b, nil, false)
	if !strings.Contains(b.String(), "no account has a learn table") {
		t.Fatalf("printLearnSummary(none) = %q, want a hint", b.String())
	}
}
