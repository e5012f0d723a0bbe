package engine

import (
	"testing"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

func TestStatusShowsDeferred(t *testing.T) {
	st := &MailboxState{UIDValidity: 1, HighestUID: 20,
		Deferred: imap.SeqSetFromNums(3, 4, 9), DeferredOld: imap.SeqSetFromNums(1, 5)}
	if got := mailboxStatus("a", "INBOX", st, nil).Deferred; got != "1,3:5,9" {
		t.Fatalf("mailboxStatus(...).Deferred = %q, want 1,3:5,9", got)
	}
}

func TestPassNeedsSizeForClassifiers(t *testing.T) {
	set, err := rules.CompileWith([]rules.Spec{{Name: "r", When: `subject != "" && classify("c").spam`, Move: "Junk"}},
		&rules.Options{Classifiers: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	n := PassNeeds(set)
	if !n.Size || n.Body || len(n.Headers) != 1 {
		t.Fatalf("PassNeeds = %+v, want the Subject and RFC822.SIZE, not the body", n)
	}
	plain, err := rules.Compile([]rules.Spec{{Name: "r", When: `subject != ""`, Move: "X"}})
	if err != nil {
		t.Fatal(err)
	}
	if PassNeeds(plain).Size {
		t.Fatalf("PassNeeds of a set without classify() asks for the size")
	}
}
