package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

// sweepCriteria turns a rule set's sweep prefilter into SEARCH criteria.
// ok is false when the filter cannot narrow anything (FilterAll): the whole
// mailbox must be fetched. none is true when no message can match.
func sweepCriteria(f *rules.Filter) (c imap.SearchCriteria, ok, none bool) {
	if f == nil {
		return imap.SearchCriteria{}, false, true
	}
	if f.Op == rules.FilterAll {
		return imap.SearchCriteria{}, false, false
	}
	if f.Op == rules.FilterNot && len(f.Children) == 1 && f.Children[0].Op == rules.FilterAll {
		return imap.SearchCriteria{}, true, true
	}
	return searchCriteria(f), true, false
}

// searchCriteria maps one filter node to IMAP SEARCH keys (RFC 3501
// section 6.4.4). Nodes with no IMAP counterpart become ALL, which keeps
// the filter a superset of the matches.
func searchCriteria(f *rules.Filter) imap.SearchCriteria {
	switch f.Op {
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
func (s *session) sweepSet(ctx context.Context, filter *rules.Filter, highest uint32) (imap.SeqSet, *sweepScope, error) {
	newMail := imap.SeqSet{{Start: highest + 1, Stop: 0}}
	crit, ok, none := sweepCriteria(filter)
	switch {
	case none || highest == 0:
		return newMail, &sweepScope{}, nil
	case !ok:
		return imap.SeqSet{{Start: 1, Stop: 0}}, &sweepScope{all: true}, nil
	}
	crit = imap.And(imap.UIDs(imap.SeqSet{{Start: 1, Stop: highest}}), crit)
	uids, err := s.client.UIDSearch(ctx, &crit)
	if err != nil {
		return nil, nil, s.note(fmt.Errorf("search for messages the sweep rules could match (%s): %w", filter, err))
	}
	slices.Sort(uids)
	return append(imap.SeqSetFromNums(uids...), newMail...), &sweepScope{hits: uids}, nil
}
