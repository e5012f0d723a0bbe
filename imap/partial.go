package imap

import (
	"context"
	"fmt"
	"strings"
)

// Partial fetches length octets of a message section starting at offset,
// the counterpart of imaplib's partial (whose IMAP2 PARTIAL command RFC
// 3501 replaced with FETCH BODY[section]<origin.length>, section 6.4.5). It
// sends FETCH seq (BODY.PEEK[section]<offset.length>), so \Seen is not
// set. section is "" for the whole message, or "HEADER", "TEXT", "1.2"...
// The result is shorter than length when the section ends first, and nil
// when the message does not exist.
func (c *Client) Partial(ctx context.Context, seq uint32, section string, offset, length int64) ([]byte, error) {
	return c.partial(ctx, false, seq, section, offset, length)
}

// UIDPartial is Partial addressing the message by UID (UID FETCH).
func (c *Client) UIDPartial(ctx context.Context, uid uint32, section string, offset, length int64) ([]byte, error) {
	return c.partial(ctx, true, uid, section, offset, length)
}

func (c *Client) partial(ctx context.Context, uid bool, num uint32, section string, offset, length int64) ([]byte, error) {
	if num == 0 || offset < 0 || length < 0 {
		return nil, fmt.Errorf("partial %d %q <%d.%d>: invalid argument", num, section, offset, length)
	}
	item := FetchSection(section, true, offset, length)
	var out []byte
	fn := func(m *FetchMessage) error {
		if (uid && m.UID != num) || (!uid && m.SeqNum != num) {
			return nil
		}
		for _, s := range m.Sections {
			if strings.EqualFold(s.Section, section) {
				out = append([]byte{}, s.Data...)
			}
		}
		return nil
	}
	set := SeqSetFromNums(num)
	var err error
	if uid {
		err = c.UIDFetch(ctx, set, []FetchItem{item}, fn)
	} else {
		err = c.Fetch(ctx, set, []FetchItem{item}, fn)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
