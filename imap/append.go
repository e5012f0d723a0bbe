package imap

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// AppendData is the APPENDUID response code of UIDPLUS (RFC 4315 section 3).
type AppendData struct {
	UIDValidity, UID uint32
}

// lenner is implemented by *bytes.Reader, *bytes.Buffer, *strings.Reader.
type lenner interface{ Len() int }

// Append sends APPEND (RFC 3501 section 6.3.11): msg becomes a new message
// in mailbox with the given flags and internal date (zero: the server's
// time). msg is streamed when its length is known (bytes.Reader,
// strings.Reader, bytes.Buffer), read into memory otherwise. It returns
// the APPENDUID data, or nil if the server sent none.
func (c *Client) Append(ctx context.Context, mailbox string, flags []string, date time.Time, msg io.Reader) (*AppendData, error) {
	var size int64
	if l, ok := msg.(lenner); ok {
		size = int64(l.Len())
	} else {
		data, err := io.ReadAll(msg)
		if err != nil {
			return nil, fmt.Errorf("append to %q: read message: %w", mailbox, err)
		}
		msg, size = bytes.NewReader(data), int64(len(data))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := &command{name: "APPEND"}
	st, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom("APPEND ")
		if err := b.mailbox(mailbox); err != nil {
			return err
		}
		if len(flags) > 0 {
			b.sp()
			if err := b.flagList(flags); err != nil {
				return err
			}
		}
		if !date.IsZero() {
			b.raw(` "` + FormatInternalDate(date) + `"`)
		}
		b.sp()
		return b.literal(msg, size)
	})
	if err != nil {
		return nil, err
	}
	if st.code == "APPENDUID" {
		f := strings.Fields(st.codeArgs)
		if len(f) == 2 {
			v, err1 := strconv.ParseUint(f[0], 10, 32)
			u, err2 := strconv.ParseUint(f[1], 10, 32)
			if err1 == nil && err2 == nil {
				return &AppendData{UIDValidity: uint32(v), UID: uint32(u)}, nil
			}
		}
	}
	return nil, nil
}
