package dovecottest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Message is a message for AddMessages.
type Message struct {
	Data         []byte    // the whole message, stored as is (LF or CRLF line ends)
	InternalDate time.Time // the file's mtime, which Dovecot reports as INTERNALDATE; zero: now
	Flags        string    // Maildir info flags: any of D (\Draft), F (\Flagged), R (\Answered), S (\Seen), T (\Deleted)
}

// maildirFlags are the flag letters AddMessages accepts (Maildir "2,"
// info; lowercase keyword letters would need a dovecot-keywords file).
const maildirFlags = "DFPRST"

// AddMessages stores msgs straight into u's Maildir, in mailbox "INBOX" or
// a folder, bypassing IMAP; Dovecot picks them up at its next sync of the
// mailbox (SELECT, NOOP, IDLE...). In folder names both "." and "/"
// separate hierarchy levels (whichever Options.Separator is, Maildir++
// cannot store either inside a level); names are given as they
// appear on the wire (modified UTF-7 for non-ASCII names); a missing
// folder is created with its Maildir++ directory ".Name", unsubscribed.
//
// Each message becomes one file in cur/ with the Maildir info ":2,FLAGS",
// written to tmp/ and renamed, with mtime = InternalDate and owned by the
// mail user. File names sort in slice order, so Dovecot assigns ascending
// UIDs in the order of msgs.
func (s *Server) AddMessages(u *User, mailbox string, msgs []Message) error {
	dir, err := s.mailboxDir(u, mailbox)
	if err != nil {
		return fmt.Errorf("add messages to %s/%q: %w", u.Name, mailbox, err)
	}
	for i, m := range msgs {
		if err := checkMaildirFlags(m.Flags); err != nil {
			return fmt.Errorf("add messages to %s/%q: message %d: %w", u.Name, mailbox, i, err)
		}
	}
	s.mu.Lock()
	err = s.ensureMaildir(u, dir)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("add messages to %s/%q: %w", u.Name, mailbox, err)
	}

	// Reserve a contiguous block of sequence numbers so that names sort in
	// slice order even when AddMessages runs concurrently.
	first := s.fileSeq.Add(uint64(len(msgs))) - uint64(len(msgs)) + 1
	now := time.Now()
	base := now.Unix()
	pid := os.Getpid()

	// One writer: the per-file cost is the directory update in the kernel,
	// and parallel writers into the same directory measured slower.
	for i := range msgs {
		m := &msgs[i]
		seq := first + uint64(i)
		// Dovecot orders new files by the leading seconds and then the
		// microseconds after "M" (maildir_filename_sort_cmp); both grow
		// with seq. S= and W= spare Dovecot a stat and a size scan.
		name := fmt.Sprintf("%d.M%dP%dQ%d.dovecottest,S=%d,W=%d", base+int64(seq/1_000_000), seq%1_000_000,
			pid, seq, len(m.Data), virtualSize(m.Data))
		date := m.InternalDate
		if date.IsZero() {
			date = now
		}
		if err := s.writeMaildirFile(dir, name, sortFlags(m.Flags), m.Data, date); err != nil {
			return fmt.Errorf("add messages to %s/%q: message %d: %w", u.Name, mailbox, i, err)
		}
	}
	return nil
}

// writeMaildirFile delivers one message the Maildir way: write to tmp/,
// set owner and mtime, rename into cur/.
func (s *Server) writeMaildirFile(dir, name, flags string, data []byte, date time.Time) error {
	tmp := filepath.Join(dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && s.chown {
		err = f.Chown(s.mailUID, s.mailGID)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(tmp, date, date)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, "cur", name+":2,"+flags))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return nil
}

// virtualSize is the message size with every bare LF counted as CRLF,
// which is how IMAP (RFC822.SIZE) sees it; Dovecot reads it from the
// file name's W= field.
func virtualSize(data []byte) int {
	size := len(data)
	for i := 0; ; {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return size
		}
		if i+j == 0 || data[i+j-1] != '\r' {
			size++
		}
		i += j + 1
	}
}

func checkMaildirFlags(flags string) error {
	for _, r := range flags {
		if !strings.ContainsRune(maildirFlags, r) {
			return fmt.Errorf("invalid Maildir flag %q (want some of %s)", r, maildirFlags)
		}
	}
	return nil
}

// sortFlags returns the flags in ASCII order without duplicates, as the
// Maildir specification requires.
func sortFlags(flags string) string {
	if len(flags) < 2 {
		return flags
	}
	b := []byte(flags)
	slices.Sort(b)
	return string(slices.Compact(b))
}

// mailboxDir maps a mailbox name to its Maildir++ directory.
func (s *Server) mailboxDir(u *User, mailbox string) (string, error) {
	if strings.EqualFold(mailbox, "INBOX") {
		return u.Maildir, nil
	}
	name := strings.ReplaceAll(mailbox, "/", ".")
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return "", fmt.Errorf("invalid mailbox name %q", mailbox)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return "", fmt.Errorf("invalid mailbox name %q: use the modified UTF-7 wire form", mailbox)
		}
	}
	if strings.EqualFold(strings.SplitN(name, ".", 2)[0], "INBOX") {
		return "", fmt.Errorf("mailbox %q: folders below INBOX are not supported by the Maildir++ layout", mailbox)
	}
	return filepath.Join(u.Maildir, "."+name), nil
}

// ensureMaildir creates a folder's Maildir (cur, new, tmp and the
// maildirfolder marker) if it does not exist yet.
func (s *Server) ensureMaildir(u *User, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "cur")); err == nil {
		return nil
	}
	if dir == u.Maildir {
		return fmt.Errorf("maildir %s is missing", dir)
	}
	if err := s.makeMaildir(dir); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	marker := filepath.Join(dir, "maildirfolder")
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		return fmt.Errorf("create %s: %w", marker, err)
	}
	if s.chown {
		if err := os.Chown(marker, s.mailUID, s.mailGID); err != nil {
			return fmt.Errorf("chown %s: %w", marker, err)
		}
	}
	return nil
}
