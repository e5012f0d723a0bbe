package imap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mailrules/mailrules/imap/internal/imapwire"
)

// SearchReturn is a RETURN option of an extended SEARCH (RFC 4731 section 3.1).
type SearchReturn string

// Search return options.
const (
	SearchReturnMin   SearchReturn = "MIN"
	SearchReturnMax   SearchReturn = "MAX"
	SearchReturnAll   SearchReturn = "ALL"
	SearchReturnCount SearchReturn = "COUNT"
)

// SearchOptions modify SearchExtended. A nil *SearchOptions is the zero
// value: RETURN (ALL).
type SearchOptions struct {
	Return []SearchReturn // empty: ALL
	// Charset names the charset of the criteria's strings; "" sends
	// CHARSET UTF-8 when a string is not ASCII (RFC 3501 section 6.4.4) and
	// nothing otherwise. Strings are always sent as given (UTF-8 in Go).
	Charset string
}

// SearchData is the result of SearchExtended (RFC 4731 section 3.2). Only
// what was asked for is filled in; Min and Max are 0 when nothing matched.
type SearchData struct {
	UID      bool   // numbers are UIDs
	Min, Max uint32 // MIN, MAX
	Count    uint32 // COUNT
	All      SeqSet // ALL
	ModSeq   uint64 // MODSEQ (RFC 7162 section 3.1.5), 0 if not sent
	// Extended reports whether the server answered with ESEARCH; when it
	// lacks ESEARCH the client sent a plain SEARCH and computed the
	// results itself.
	Extended bool
}

// SearchExtended sends SEARCH RETURN (options) criteria (RFC 4731) when
// the server advertises ESEARCH, so that only the asked-for results
// (minimum, maximum, count, or a compact ALL set) cross the wire. Without
// ESEARCH it sends a plain SEARCH and derives the same results locally.
func (c *Client) SearchExtended(ctx context.Context, criteria *SearchCriteria, opts *SearchOptions) (*SearchData, error) {
	return c.searchExtended(ctx, "SEARCH", criteria, opts)
}

// UIDSearchExtended is SearchExtended with UID SEARCH: the results are UIDs.
func (c *Client) UIDSearchExtended(ctx context.Context, criteria *SearchCriteria, opts *SearchOptions) (*SearchData, error) {
	return c.searchExtended(ctx, "UID SEARCH", criteria, opts)
}

func (c *Client) searchExtended(ctx context.Context, verb string, criteria *SearchCriteria, opts *SearchOptions) (*SearchData, error) {
	var o SearchOptions
	if opts != nil {
		o = *opts
	}
	ret := o.Return
	if len(ret) == 0 {
		ret = []SearchReturn{SearchReturnAll}
	}
	for _, r := range ret {
		if !imapwire.IsAtom(string(r)) {
			return nil, fmt.Errorf("%s: invalid return option %q", strings.ToLower(verb), r)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	extended := c.Has(CapESearch)
	data := &SearchData{UID: strings.HasPrefix(verb, "UID"), Extended: extended}
	nums := []uint32{}
	on := handlers{
		"SEARCH": func(d *imapwire.Decoder, _ uint32) error {
			n, err := readSearch(d)
			nums = append(nums, n...)
			if err != nil {
				return err
			}
			return d.CRLF()
		},
	}
	if extended {
		on["ESEARCH"] = func(d *imapwire.Decoder, _ uint32) error {
			if err := readESearchData(d, data); err != nil {
				return err
			}
			return d.CRLF()
		}
	}
	cmd := &command{name: verb, on: on}
	_, err := c.run(ctx, cmd, func(b *builder) error {
		b.atom(verb)
		if extended {
			b.raw(" RETURN (")
			for i, r := range ret {
				if i > 0 {
					b.sp()
				}
				b.atom(strings.ToUpper(string(r)))
			}
			b.raw(")")
		}
		switch {
		case o.Charset != "":
			b.raw(" CHARSET ")
			if err := b.astring(o.Charset); err != nil {
				return err
			}
		case criteria.hasNonASCII() && !c.utf8:
			b.raw(" CHARSET UTF-8")
		}
		b.sp()
		return b.searchKeys(criteria)
	})
	if err != nil {
		return nil, err
	}
	if !extended {
		slices.Sort(nums)
		nums = slices.Compact(nums)
		for _, r := range ret {
			switch SearchReturn(strings.ToUpper(string(r))) {
			case SearchReturnMin:
				if len(nums) > 0 {
					data.Min = nums[0]
				}
			case SearchReturnMax:
				if len(nums) > 0 {
					data.Max = nums[len(nums)-1]
				}
			case SearchReturnCount:
				data.Count = uint32(len(nums))
			case SearchReturnAll:
				data.All = SeqSetFromNums(nums...)
			}
		}
	}
	return data, nil
}

// readESearchData parses the rest of an ESEARCH response (RFC 4731
// section 3.2): [search-correlator] [SP "UID"] *(SP search-return-data).
func readESearchData(d *imapwire.Decoder, data *SearchData) error {
	for !d.AtEOL() {
		b, err := d.Peek()
		if err != nil {
			return err
		}
		if b == '(' { // (TAG "A1")
			if err := d.SkipValue(); err != nil {
				return err
			}
			continue
		}
		a, err := d.Atom()
		if err != nil {
			return err
		}
		key := strings.ToUpper(string(a))
		if key == "UID" {
			data.UID = true
			continue
		}
		if err := d.SP(); err != nil {
			return err
		}
		switch key {
		case "MIN", "MAX", "COUNT":
			n, err := d.Number()
			if err != nil {
				return err
			}
			switch key {
			case "MIN":
				data.Min = n
			case "MAX":
				data.Max = n
			default:
				data.Count = n
			}
		case "MODSEQ":
			n, err := d.Number64()
			if err != nil {
				return err
			}
			data.ModSeq = n
		case "ALL":
			v, err := d.Atom()
			if err != nil {
				return err
			}
			set, err := ParseSeqSet(string(v))
			if err != nil {
				return &imapwire.SyntaxError{Msg: err.Error()}
			}
			data.All = set
		default:
			if err := d.SkipValue(); err != nil {
				return err
			}
		}
	}
	return nil
}
