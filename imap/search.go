package imap

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SearchCriteria are SEARCH keys (RFC 3501 section 6.4.4); all given
// criteria must match (AND). A nil or empty *SearchCriteria matches ALL.
type SearchCriteria struct {
	UID    SeqSet // UID set
	SeqNum SeqSet // message sequence set

	Since, Before         time.Time // internal date, date part only (SINCE, BEFORE)
	SentSince, SentBefore time.Time // Date: header, date part only

	Header [][2]string // HEADER field value (substring match; empty value: field present)
	Body   []string    // BODY substring
	Text   []string    // TEXT substring (header and body)

	Flag    []string // messages with these flags (SEEN, KEYWORD x...)
	NotFlag []string // messages without them (UNSEEN, UNKEYWORD x...)

	Larger, Smaller int64 // RFC822.SIZE bounds, 0 for none

	Not []SearchCriteria    // NOT (each)
	Or  [][2]SearchCriteria // OR (a) (b)

	Raw string // appended verbatim, e.g. "MODSEQ 1234"
}

// Search sends SEARCH and returns message sequence numbers (RFC 3501
// section 6.4.4). Non-ASCII strings make it send CHARSET UTF-8.
func (c *Client) Search(ctx context.Context, criteria *SearchCriteria) ([]uint32, error) {
	return c.search(ctx, "SEARCH", criteria)
}

// UIDSearch sends UID SEARCH and returns UIDs (RFC 3501 section 6.4.8).
func (c *Client) UIDSearch(ctx context.Context, criteria *SearchCriteria) ([]uint32, error) {
	return c.search(ctx, "UID SEARCH", criteria)
}

func (c *Client) search(ctx context.Context, verb string, criteria *SearchCriteria) ([]uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nums := []uint32{}
	cmd := &command{name: verb, search: &nums}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		if criteria.hasNonASCII() && !c.utf8 {
			b.raw(" CHARSET UTF-8")
		}
		b.sp()
		return b.searchKeys(criteria)
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(nums)
	return slices.Compact(nums), nil
}

func (sc *SearchCriteria) hasNonASCII() bool {
	if sc == nil {
		return false
	}
	nonASCII := func(ss ...string) bool {
		for _, s := range ss {
			for i := 0; i < len(s); i++ {
				if s[i] >= utf8.RuneSelf {
					return true
				}
			}
		}
		return false
	}
	for _, h := range sc.Header {
		if nonASCII(h[0], h[1]) {
			return true
		}
	}
	if nonASCII(sc.Body...) || nonASCII(sc.Text...) || nonASCII(sc.Raw) {
		return true
	}
	for i := range sc.Not {
		if sc.Not[i].hasNonASCII() {
			return true
		}
	}
	for i := range sc.Or {
		if sc.Or[i][0].hasNonASCII() || sc.Or[i][1].hasNonASCII() {
			return true
		}
	}
	return false
}

// searchKeyForFlag maps system flags to their SEARCH keys (RFC 3501
// section 6.4.4); other flags are keywords.
var searchKeyForFlag = map[string][2]string{
	"\\SEEN":     {"SEEN", "UNSEEN"},
	"\\ANSWERED": {"ANSWERED", "UNANSWERED"},
	"\\FLAGGED":  {"FLAGGED", "UNFLAGGED"},
	"\\DELETED":  {"DELETED", "UNDELETED"},
	"\\DRAFT":    {"DRAFT", "UNDRAFT"},
	"\\RECENT":   {"RECENT", "OLD"},
}

// searchKeys writes the criteria as a space-separated key list.
func (b *builder) searchKeys(sc *SearchCriteria) error {
	first := true
	key := func(s string) {
		if !first {
			b.sp()
		}
		first = false
		b.raw(s)
	}
	if sc == nil {
		key("ALL")
		return nil
	}
	if len(sc.SeqNum) > 0 {
		key(sc.SeqNum.String())
	}
	if len(sc.UID) > 0 {
		key("UID " + sc.UID.String())
	}
	dates := []struct {
		name string
		t    time.Time
	}{{"SINCE", sc.Since}, {"BEFORE", sc.Before}, {"SENTSINCE", sc.SentSince}, {"SENTBEFORE", sc.SentBefore}}
	for _, dt := range dates {
		if !dt.t.IsZero() {
			key(dt.name + " " + dt.t.Format("2-Jan-2006"))
		}
	}
	for _, h := range sc.Header {
		key("HEADER ")
		if err := b.astring(h[0]); err != nil {
			return err
		}
		b.sp()
		if err := b.astring(h[1]); err != nil {
			return err
		}
	}
	for _, s := range sc.Body {
		key("BODY ")
		if err := b.astring(s); err != nil {
			return err
		}
	}
	for _, s := range sc.Text {
		key("TEXT ")
		if err := b.astring(s); err != nil {
			return err
		}
	}
	for i, flags := range [][]string{sc.Flag, sc.NotFlag} {
		for _, f := range flags {
			if k, ok := searchKeyForFlag[strings.ToUpper(f)]; ok {
				key(k[i])
				continue
			}
			if !validFlag(f) || strings.HasPrefix(f, "\\") {
				return fmt.Errorf("search: invalid keyword %q", f)
			}
			key([...]string{"KEYWORD ", "UNKEYWORD "}[i] + f)
		}
	}
	if sc.Larger > 0 {
		key("LARGER " + strconv.FormatInt(sc.Larger, 10))
	}
	if sc.Smaller > 0 {
		key("SMALLER " + strconv.FormatInt(sc.Smaller, 10))
	}
	for i := range sc.Not {
		key("NOT (")
		if err := b.searchKeys(&sc.Not[i]); err != nil {
			return err
		}
		b.raw(")")
	}
	for i := range sc.Or {
		key("OR (")
		if err := b.searchKeys(&sc.Or[i][0]); err != nil {
			return err
		}
		b.raw(") (")
		if err := b.searchKeys(&sc.Or[i][1]); err != nil {
			return err
		}
		b.raw(")")
	}
	if sc.Raw != "" {
		key(sc.Raw)
	}
	if first {
		key("ALL")
	}
	return nil
}
