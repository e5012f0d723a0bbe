package engine

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/mailrules/mailrules/imap"
	"github.com/mailrules/mailrules/rules"
)

func TestSweepCriteria(t *testing.T) {
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	flagged := &rules.Filter{Op: rules.FilterFlag, Flag: `\Flagged`}
	tests := []struct {
		name   string
		filter *rules.Filter
		want   imap.SearchCriteria
	}{
		{
			name: "old and not flagged",
			filter: &rules.Filter{Op: rules.FilterAnd, Children: []*rules.Filter{
				{Op: rules.FilterBefore, Date: day},
				{Op: rules.FilterNot, Children: []*rules.Filter{flagged}},
			}},
			want: imap.And(imap.BeforeDate(day), imap.Not(imap.Flagged())),
		},
		{
			name: "either rule",
			filter: &rules.Filter{Op: rules.FilterOr, Children: []*rules.Filter{
				{Op: rules.FilterHeader, Header: "List-Id", Value: ""},
				{Op: rules.FilterLarger, Size: 1 << 20},
				{Op: rules.FilterSince, Date: day},
			}},
			want: imap.Or(imap.Or(imap.Header("List-Id", ""), imap.SearchCriteria{Larger: 1 << 20}), imap.SinceDate(day)),
		},
		{name: "smaller", filter: &rules.Filter{Op: rules.FilterSmaller, Size: 100}, want: imap.SearchCriteria{Smaller: 100}},
	}
	for _, tc := range tests {
		if got := searchCriteria(tc.filter); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: searchCriteria(%v) = %+v, want %+v", tc.name, tc.filter, got, tc.want)
		}
	}
}

// TestSweepSetWithoutSearch covers the filters that need no SEARCH: no
// sweep rule and a never-true one fetch only the new mail, one that cannot
// narrow fetches the whole mailbox.
func TestSweepSetWithoutSearch(t *testing.T) {
	newMail := imap.SeqSet{{Start: 11, Stop: 0}}
	tests := []struct {
		name      string
		filter    *rules.Filter
		wantSet   imap.SeqSet
		wantScope *sweepScope
	}{
		{name: "no sweep rule", filter: nil, wantSet: newMail, wantScope: &sweepScope{}},
		{name: "cannot narrow", filter: &rules.Filter{Op: rules.FilterAll}, wantSet: imap.SeqSet{{Start: 1, Stop: 0}}, wantScope: &sweepScope{all: true}},
		{name: "never true", filter: &rules.Filter{Op: rules.FilterNone}, wantSet: newMail, wantScope: &sweepScope{}},
	}
	for _, tc := range tests {
		// The session has no client: a SEARCH would panic.
		set, scope, err := (&session{}).sweepSet(context.Background(), tc.filter, 10)
		if err != nil || !reflect.DeepEqual(set, tc.wantSet) || !reflect.DeepEqual(scope, tc.wantScope) {
			t.Errorf("%s: sweepSet(%v, 10) = %v, %+v, %v; want %v, %+v, nil", tc.name, tc.filter, set, scope, err, tc.wantSet, tc.wantScope)
		}
	}
}
