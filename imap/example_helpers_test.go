package imap_test

import (
	"fmt"
	"log"

	"github.com/mailrules/mailrules/imap"
)

func ExampleSeqSetFromNums() {
	set := imap.SeqSetFromNums(7, 3, 1, 2, 9, 8)
	fmt.Println(set)
	// Output: 1:3,7:9
}

func ExampleSeqSet_Split() {
	var uids []uint32
	for uid := uint32(1); uid <= 20; uid += 2 {
		uids = append(uids, uid)
	}
	for _, part := range imap.SeqSetFromNums(uids...).Split(12) {
		fmt.Println(part)
	}
	// Output:
	// 1,3,5,7,9,11
	// 13,15,17,19
}

func ExampleParseInternalDate() {
	t, err := imap.ParseInternalDate("17-Jul-1996 02:44:25 -0700")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.UTC())
	fmt.Println(imap.FormatInternalDate(t))
	// Output:
	// 1996-07-17 09:44:25 +0000 UTC
	// 17-Jul-1996 02:44:25 -0700
}

func ExampleEncodeMailboxName() {
	fmt.Println(imap.EncodeMailboxName("Entwürfe"))
	// Output: Entw&APw-rfe
}
