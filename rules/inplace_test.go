package rules

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestResultDoesNotReferToHeader evaluates rules whose results come from
// header values, then overwrites the header bytes, as the engine's fetch
// buffer is overwritten by the next message: the Result must not change,
// since Evaluate reads the header in place.
func TestResultDoesNotReferToHeader(t *testing.T) {
	set, err := Compile([]Spec{
		{Name: "by folder header", When: `hasHeader("X-Folder")`, Copy: []string{"Sorted/{header(\"X-Folder\")}"}},
		{Name: "one value", When: `subject != ""`, Copy: []string{"{subject}"}},
		{Name: "broken", When: `int(header("X-Number")) > 1`, Flag: []string{"$Big"}},
		{Name: "lists", When: `listId != ""`, Move: "Lists/{listName}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	header := []byte("Subject: Quarterly\r\nX-Folder: Reports\r\nList-Id: Go Nuts <golang-nuts.googlegroups.com>\r\nX-Number: twelve\r\n\r\n")
	res := set.Evaluate(&Message{Header: header, New: true, Mailbox: "INBOX"}, time.Now())
	before := fmt.Sprintf("%+v %v %v", res.Copies, res.Final, res.Errors)
	if len(res.Copies) != 2 || res.Final == nil || len(res.Errors) != 1 {
		t.Fatalf("Evaluate = %s, want two copies, a move and one error", before)
	}
	copy(header, bytes.Repeat([]byte{'#'}, len(header)))
	if after := fmt.Sprintf("%+v %v %v", res.Copies, res.Final, res.Errors); after != before {
		t.Fatalf("Result changed when the header buffer was reused:\nbefore %s\nafter  %s", before, after)
	}
}
