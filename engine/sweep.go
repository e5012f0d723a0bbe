package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// searchCriteria maps one filter node to IMAP SEARCH keys (RFC 3501
// section 6.4.4). Nodes with no IMAP counterpart become ALL, which keeps
// the filter a superset of the matches; FilterNone becomes NOT ALL.
func searchCriteria(f *rules.Filter) imap.SearchCriteria {
	switch f.Op {
	case rules.FilterNone:
		return imap.Not(imap.All())
	case rules.FilterAnd:
		parts := make([]imap.SearchCriteria, len(f.Children))
		for i, ch := range f.Children {
			parts[i] = searchCriteria(ch)
		}
		return imap.And(parts...)
	case rules.FilterOr:
		if len(f.Children) == 0 {
			return imap.All()
		}
		c := searchCriteria(f.Children[0])
		for _, ch := range f.Children[1:] {
			c = imap.Or(c, searchCriteria(ch))
		}
		return c
	case rules.FilterNot:
		if len(f.Children) != 1 {
			return imap.All()
		}
		return imap.Not(searchCriteria(f.Children[0]))
	case rules.FilterBefore:
		return imap.BeforeDate(f.Date)
	case rules.FilterSince:
		return imap.SinceDate(f.Date)
	case rules.FilterFlag:
		return imap.HasFlag(f.Flag)
	case rules.FilterLarger:
		if f.Size <= 0 {
			return imap.All()
		}
		return imap.SearchCriteria{Larger: f.Size}
	case rules.FilterSmaller:
		return imap.SearchCriteria{Smaller: f.Size}
	case rules.FilterHeader:
		return imap.Header(f.Header, f.Value)
	}
	return imap.All()
}

// sweepScope says which old messages (UID at most the highest handled) a
// pass looks at.
type sweepScope struct {
	all  bool     // every one
	hits []uint32 // only these, sorted: what the sweep SEARCH returned
}

// includes reports whether the old message uid is in the scope.
func (sc *sweepScope) includes(uid uint32) bool {
	if sc.all {
		return true
	}
	_, ok := slices.BinarySearch(sc.hits, uid)
	return ok
}

// sweepSet finds the old messages (UID at most highest) that a sweep rule
// could match, with one UID SEARCH, and returns them together with the new
// mail (highest+1:*) as the set to fetch, and the old messages in scope.
// A nil filter (no sweep rule) or FilterNone asks for no old message and
// FilterAll for all of them, without a SEARCH.
func (s *session) sweepSet(ctx context.Context, filter *rules.Filter, highest uint32) (imap.SeqSet, *sweepScope, error) {
	newMail := imap.SeqSet{{Start: highest + 1, Stop: 0}}
	switch {
	case filter == nil || filter.Op == rules.FilterNone || highest == 0:
		return newMail, &sweepScope{}, nil
	case filter.Op == rules.FilterAll:
		return imap.SeqSet{{Start: 1, Stop: 0}}, &sweepScope{all: true}, nil
	}
	crit := imap.And(imap.UIDs(imap.SeqSet{{Start: 1, Stop: highest}}), searchCriteria(filter))
	uids, err := s.client.UIDSearch(ctx, &crit)
	if err != nil {
		return nil, nil, s.note(fmt.Errorf("search for messages the sweep rules could match (%s): %w", filter, err))
	}
	slices.Sort(uids)
	return append(imap.SeqSetFromNums(uids...), newMail...), &sweepScope{hits: uids}, nil
}
