package rawimap

import (
	"bufio"
	"context"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFormatSet(t *testing.T) {
	tests := []struct {
		uids   []uint32
		maxLen int
		want   []string
	}{
		{nil, 100, nil},
		{[]uint32{1}, 100, []string{"1"}},
		{[]uint32{1, 2, 3, 5, 7, 8}, 100, []string{"1:3,5,7:8"}},
		{[]uint32{1, 2, 3, 5, 7, 8}, 5, []string{"1:3,5", "7:8"}},
	}
	for _, tt := range tests {
		if got := FormatSet(tt.uids, tt.maxLen); !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("FormatSet(%v, %d) = %q, want %q", tt.uids, tt.maxLen, got, tt.want)
		}
	}
}

func TestParseFetch(t *testing.T) {
	hdr := "Subject: hi }\r\n\r\n"
	resp := "* 12 FETCH (UID 345 INTERNALDATE \" 4-Dec-2002 05:07:15 +0000\" FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] {" +
		strconv.Itoa(len(hdr)) + "}\r\n" + hdr + ")\r\n"
	got, err := ParseFetch([]byte(resp))
	if err != nil {
		t.Fatalf("ParseFetch: %v", err)
	}
	want := FetchData{Seq: 12, UID: 345, InternalDate: time.Date(2002, 12, 4, 5, 7, 15, 0, time.UTC), Flags: `\Seen`, Literal: []byte(hdr)}
	if got.Seq != want.Seq || got.UID != want.UID || !got.InternalDate.Equal(want.InternalDate) || got.Flags != want.Flags || string(got.Literal) != hdr {
		t.Fatalf("ParseFetch(%q) = %+v, want %+v", resp, got, want)
	}
	if _, err := ParseFetch([]byte("* 3 EXISTS\r\n")); err != ErrNotFetch {
		t.Fatalf("ParseFetch(EXISTS) error = %v, want ErrNotFetch", err)
	}
}

// TestCommand runs Command against a scripted peer: untagged data with a
// literal, then the tagged OK; then a tagged NO.
func TestCommand(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		w := bufio.NewWriter(server)
		r := bufio.NewReader(server)
		w.WriteString("* OK ready\r\n")
		w.Flush()
		line, _ := r.ReadString('\n')
		tag := strings.Fields(line)[0]
		w.WriteString("* 1 FETCH (UID 7 BODY[] {5}\r\nab\r\nc)\r\n" + tag + " OK done\r\n")
		w.Flush()
		line, _ = r.ReadString('\n')
		tag = strings.Fields(line)[0]
		w.WriteString(tag + " NO [TRYCREATE] no such mailbox\r\n")
		w.Flush()
	}()
	c := &Conn{conn: client, r: bufio.NewReader(client), w: bufio.NewWriter(client)}
	if _, err := c.ReadResponse(); err != nil {
		t.Fatalf("greeting: %v", err)
	}
	var got []string
	err := c.Command(context.Background(), "UID FETCH 7 BODY[]", func(resp []byte) error {
		got = append(got, string(resp))
		return nil
	})
	if err != nil {
		t.Fatalf("Command(UID FETCH) = %v, want nil", err)
	}
	want := []string{"* 1 FETCH (UID 7 BODY[] {5}\r\nab\r\nc)\r\n"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Command(UID FETCH) untagged = %q, want %q", got, want)
	}
	err = c.Command(context.Background(), "UID MOVE 1 Foo", nil)
	if se, ok := err.(*StatusError); !ok || !strings.HasPrefix(se.Line, "NO [TRYCREATE]") {
		t.Fatalf("Command(UID MOVE) = %v, want NO [TRYCREATE]", err)
	}
}
