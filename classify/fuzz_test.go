package classify

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzSpamdResponse feeds arbitrary answers to the spamd answer parser: it
// must never panic, and what it accepts as a SYMBOLS answer must have a
// well-formed Spam header.
func FuzzSpamdResponse(f *testing.F) {
	for _, seed := range []string{
		"SPAMD/1.1 0 EX_OK\r\nContent-length: 27\r\nSpam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,NO_RECEIVED,NO_RELAYS",
		"SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.3 / 5.0\r\nContent-length: 0\r\n\r\n",
		"SPAMD/1.1 0 EX_OK\r\nDidSet: local\r\n\r\n\r\n",
		"SPAMD/1.0 69 TELL commands are not enabled, set the --allow-tell switch.\r\n",
		"SPAMD/1.1 0 EX_OK\r\nContent-length: 99999999999\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := readSpamdResponse(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if len(resp.body) > maxSpamdAnswer {
			t.Fatalf("body of %d bytes, over the limit", len(resp.body))
		}
		if v, ok := resp.header("spam"); ok {
			spam, _, _, err := parseSpamHeader(v)
			if err == nil {
				flag, _, _ := strings.Cut(v, ";")
				flag = strings.ToLower(strings.TrimSpace(flag))
				if spam != (flag == "true" || flag == "yes") {
					t.Fatalf("parseSpamHeader(%q) spam = %v", v, spam)
				}
			}
		}
	})
}

func TestSet(t *testing.T) {
	set, err := NewSet([]Config{
		{Name: "r", Type: TypeRspamd},
		{Name: "s", Type: TypeSpamd},
		{Name: "c", Type: TypeCommand, Command: []string{"bogofilter"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "r,s,c" {
		t.Errorf("Names() = %q, want r,s,c", got)
	}
	for name, want := range map[string]int64{"r": DefaultRspamdMaxSize, "s": DefaultSpamdMaxSize, "c": DefaultCommandMaxSize} {
		c, ok := set.Get(name)
		if !ok || c.Name() != name || c.MaxSize() != want {
			t.Errorf("Get(%q) = %v, %v; want MaxSize %d", name, c, ok, want)
		}
	}
	if _, ok := set.Get("x"); ok {
		t.Error("Get(x) found a classifier that is not configured")
	}
	_, err = NewSet([]Config{{Name: "a", Type: TypeRspamd}, {Name: "a", Type: TypeSpamd}, {Name: "b", Type: "bogo"}})
	if err == nil || !strings.Contains(err.Error(), "duplicate") || !strings.Contains(err.Error(), `unknown type "bogo"`) {
		t.Errorf("NewSet with a duplicate and an unknown type = %v", err)
	}
}
