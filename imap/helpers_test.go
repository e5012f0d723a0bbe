package imap

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSeqSetFromNums(t *testing.T) {
	tests := []struct {
		nums []uint32
		want string
	}{
		{[]uint32{1}, "1"},
		{[]uint32{3, 1, 2, 2, 7, 9, 8, 20}, "1:3,7:9,20"},
		{[]uint32{4294967295, 4294967294}, "4294967294:4294967295"},
		{[]uint32{0, 5}, "5"},
	}
	for _, tt := range tests {
		if got := SeqSetFromNums(tt.nums...).String(); got != tt.want {
			t.Errorf("SeqSetFromNums(%v) = %q, want %q", tt.nums, got, tt.want)
		}
	}
	if got := SeqSetFromNums(); got != nil {
		t.Errorf("SeqSetFromNums() = %v, want nil", got)
	}
}

func TestParseSeqSet(t *testing.T) {
	tests := []struct {
		in   string
		want SeqSet
	}{
		{"1", SeqSet{{1, 1}}},
		{"1:3,7,9:*", SeqSet{{1, 3}, {7, 7}, {9, 0}}},
		{"*:4", SeqSet{{0, 4}}}, // RFC 3501: order of a range does not matter
		{"*", SeqSet{{0, 0}}},
	}
	for _, tt := range tests {
		got, err := ParseSeqSet(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSeqSet(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("ParseSeqSet(%q).String() = %q", tt.in, got.String())
		}
	}
	for _, bad := range []string{"", "0", "1:", ",", "a", "1,,2", "-1", "+1", "4294967296"} {
		if got, err := ParseSeqSet(bad); err == nil {
			t.Errorf("ParseSeqSet(%q) = %v, want error", bad, got)
		}
	}
}

func TestSeqSetContainsNums(t *testing.T) {
	s := SeqSet{{5, 3}, {10, 10}, {20, 0}}
	for n, want := range map[uint32]bool{2: false, 3: true, 4: true, 5: true, 6: false, 10: true, 19: false, 20: true, 1 << 30: true} {
		if got := s.Contains(n); got != want {
			t.Errorf("%v.Contains(%d) = %v, want %v", s, n, got, want)
		}
	}
	if got, want := s.Nums(), []uint32{3, 4, 5, 10, 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("%v.Nums() = %v, want %v", s, got, want)
	}
}

func TestSeqSetSplit(t *testing.T) {
	// Every other UID up to 100000: no ranges compress, the set is long.
	var nums []uint32
	for n := uint32(1); n < 100000; n += 2 {
		nums = append(nums, n)
	}
	set := SeqSetFromNums(nums...)
	pieces := set.Split(7900)
	if len(pieces) < 2 {
		t.Fatalf("Split(7900) of a %d-byte set gave %d pieces", len(set.String()), len(pieces))
	}
	var joined []uint32
	for _, p := range pieces {
		if n := len(p.String()); n > 7900 {
			t.Fatalf("piece of %d bytes > 7900", n)
		}
		joined = append(joined, p.Nums()...)
	}
	if !reflect.DeepEqual(joined, nums) {
		t.Fatalf("Split pieces hold %d numbers, want %d, in order", len(joined), len(nums))
	}
	if got := (SeqSet{{1, 5}}).Split(7900); len(got) != 1 {
		t.Fatalf("Split of a short set = %v", got)
	}
	if got := SeqSet(nil).Split(10); got != nil {
		t.Fatalf("Split(nil) = %v", got)
	}
}

func TestInternalDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"17-Jul-1996 02:44:25 -0700", time.Date(1996, 7, 17, 9, 44, 25, 0, time.UTC)},
		{" 7-Jul-1996 02:44:25 +0000", time.Date(1996, 7, 7, 2, 44, 25, 0, time.UTC)},
		{"7-jul-1996 02:44:25 +0130", time.Date(1996, 7, 7, 1, 14, 25, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseInternalDate(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseInternalDate(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "17-Jul-1996", "32-Jul-1996 02:44:25 -0700", "17-Foo-1996 02:44:25 -0700", "17-Jul-1996 02:44:25 0700", "17-Jul-1996 02:44:25 -0700x"} {
		if _, err := ParseInternalDate(bad); err == nil {
			t.Errorf("ParseInternalDate(%q) succeeded, want error", bad)
		}
	}
	d := time.Date(2024, 3, 5, 10, 11, 12, 0, time.FixedZone("", -5*3600))
	if got := FormatInternalDate(d); got != " 5-Mar-2024 10:11:12 -0500" {
		t.Errorf("FormatInternalDate = %q", got)
	}
	if back, err := ParseInternalDate(FormatInternalDate(d)); err != nil || !back.Equal(d) {
		t.Errorf("ParseInternalDate(FormatInternalDate(%v)) = %v, %v", d, back, err)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`(\Seen foo)`, []string{`\Seen`, "foo"}},
		{`()`, []string{}},
		{`\Answered $Junk`, []string{`\Answered`, "$Junk"}},
		{`(\Deleted \Seen \*)`, []string{`\Deleted`, `\Seen`, `\*`}},
	}
	for _, tt := range tests {
		got, err := ParseFlags(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFlags(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`(\Seen`, `(a"b)`} {
		if got, err := ParseFlags(bad); err == nil {
			t.Errorf("ParseFlags(%q) = %v, want error", bad, got)
		}
	}
}

func TestMailboxNames(t *testing.T) {
	if got := EncodeMailboxName("Entwürfe"); got != "Entw&APw-rfe" {
		t.Errorf("EncodeMailboxName(Entwürfe) = %q", got)
	}
	if got, err := DecodeMailboxName("~peter/mail/&U,BTFw-/&ZeVnLIqe-"); err != nil || got != "~peter/mail/台北/日本語" {
		t.Errorf("DecodeMailboxName = %q, %v", got, err)
	}
	if _, err := DecodeMailboxName("&Jjo!"); err == nil {
		t.Error("DecodeMailboxName(&Jjo!) succeeded, want error")
	}
}

func TestFetchItems(t *testing.T) {
	tests := []struct {
		got  FetchItem
		want string
	}{
		{FetchHeaderFields("Subject", "List-Id"), "BODY.PEEK[HEADER.FIELDS (SUBJECT LIST-ID)]"},
		{FetchSection("", true, 0, -1), "BODY.PEEK[]"},
		{FetchSection("TEXT", false, 0, 1024), "BODY[TEXT]<0.1024>"},
		{FetchSection("1.2", true, 100, 50), "BODY.PEEK[1.2]<100.50>"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("fetch item = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Status: "NO", Code: "TRYCREATE", Text: "Mailbox doesn't exist: X", Command: "UID MOVE"}
	if got, want := e.Error(), "imap: UID MOVE: NO [TRYCREATE] Mailbox doesn't exist: X"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !IsTryCreate(e) || IsTryCreate(&Error{Status: "NO"}) {
		t.Error("IsTryCreate wrong")
	}
	if !strings.Contains((&abortError{op: "fetch", err: errRefused}).Error(), "fetch") {
		t.Error("abortError lacks its operation")
	}
}
