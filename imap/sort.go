package imap

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// SortKey is a SORT criterion (RFC 5256 section 3).
type SortKey string

// Sort keys.
const (
	SortArrival     SortKey = "ARRIVAL"     // internal date and time
	SortCc          SortKey = "CC"          // first Cc address's mailbox
	SortDate        SortKey = "DATE"        // Date: header (internal date if missing)
	SortFrom        SortKey = "FROM"        // first From address's mailbox
	SortSize        SortKey = "SIZE"        // RFC822.SIZE
	SortSubject     SortKey = "SUBJECT"     // base subject (section 2.1)
	SortTo          SortKey = "TO"          // first To address's mailbox
	SortDisplayFrom SortKey = "DISPLAYFROM" // RFC 5957, needs SORT=DISPLAY
	SortDisplayTo   SortKey = "DISPLAYTO"   // RFC 5957, needs SORT=DISPLAY
)

// SortCriterion is one sort key, optionally reversed.
type SortCriterion struct {
	Key     SortKey
	Reverse bool
}

// Sort sends SORT (sort criteria) UTF-8 search-criteria (RFC 5256 section
// 3) and returns the sequence numbers of the matching messages in sorted
// order. A nil search matches ALL. It needs the SORT capability.
func (c *Client) Sort(ctx context.Context, criteria []SortCriterion, search *SearchCriteria) ([]uint32, error) {
	return c.sort(ctx, "SORT", criteria, search)
}

// UIDSort sends UID SORT (RFC 5256 section 3) and returns UIDs in sorted
// order. See Sort.
func (c *Client) UIDSort(ctx context.Context, criteria []SortCriterion, search *SearchCriteria) ([]uint32, error) {
	return c.sort(ctx, "UID SORT", criteria, search)
}

func (c *Client) sort(ctx context.Context, verb string, criteria []SortCriterion, search *SearchCriteria) ([]uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.Has(CapSort) {
		return nil, notSupported(strings.ToLower(verb), CapSort)
	}
	if len(criteria) == 0 {
		return nil, fmt.Errorf("%s: no sort criteria", strings.ToLower(verb))
	}
	nums := []uint32{}
	cmd := &command{name: verb, on: handlers{
		// * SORT *(SP nz-number) [SP "(" "MODSEQ" SP n ")"], RFC 5256 section 4
		"SORT": func(d *imapwire.Decoder, _ uint32) error {
			n, err := readSearch(d)
			if err != nil {
				return err
			}
			nums = append(nums, n...)
			return d.CRLF()
		},
	}}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		b.raw(" (")
		for i, k := range criteria {
			if !imapwire.IsAtom(string(k.Key)) {
				return fmt.Errorf("invalid sort key %q", k.Key)
			}
			if i > 0 {
				b.sp()
			}
			if k.Reverse {
				b.raw("REVERSE ")
			}
			b.atom(strings.ToUpper(string(k.Key)))
		}
		// RFC 5256 section 3: the charset is required; every server
		// supports US-ASCII and UTF-8.
		b.raw(") UTF-8 ")
		return b.searchKeys(search)
	})
	if err != nil {
		return nil, err
	}
	return nums, nil
}
