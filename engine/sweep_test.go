package engine

import (
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
		name     string
		filter   *rules.Filter
		want     imap.SearchCriteria
		ok, none bool
	}{
		{name: "no sweep rule", filter: nil, ok: false, none: true},
		{name: "cannot narrow", filter: &rules.Filter{Op: rules.FilterAll}, ok: false},
		{name: "never true", filter: &rules.Filter{Op: rules.FilterNot, Children: []*rules.Filter{{Op: rules.FilterAll}}}, ok: true, none: true},
		{
			name: "old and not flagged",
			filter: &rules.Filter{Op: rules.FilterAnd, Children: []*rules.Filter{
				{Op: rules.FilterBefore, Date: day},
				{Op: rules.FilterNot, Children: []*rules.Filter{flagged}},
			}},
			want: imap.And(imap.BeforeDate(day), imap.Not(imap.Flagged())),
			ok:   true,
		},
		{
			name: "either rule",
			filter: &rules.Filter{Op: rules.FilterOr, Children: []*rules.Filter{
				{Op: rules.FilterHeader, Header: "List-Id", Value: ""},
				{Op: rules.FilterLarger, Size: 1 << 20},
				{Op: rules.FilterSince, Date: day},
			}},
			want: imap.Or(imap.Or(imap.Header("List-Id", ""), imap.SearchCriteria{Larger: 1 << 20}), imap.SinceDate(day)),
			ok:   true,
		},
		{name: "smaller", filter: &rules.Filter{Op: rules.FilterSmaller, Size: 100}, want: imap.SearchCriteria{Smaller: 100}, ok: true},
	}
	for _, tc := range tests {
		got, ok, none := sweepCriteria(tc.filter)
		if ok != tc.ok || none != tc.none || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: sweepCriteria(%v) = %+v, %v, %v; want %+v, %v, %v", tc.name, tc.filter, got, ok, none, tc.want, tc.ok, tc.none)
		}
	}
}
