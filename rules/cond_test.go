package rules

import (
	"testing"
	"time"
)

func TestCondition(t *testing.T) {
	tests := []struct {
		when, want string
	}{
		{`age > days(365) && !flagged`, `(AND (ATOM age > 8760h0m0s) (NOT (ATOM flag \Flagged has)))`},
		{`seen == false`, `(NOT (ATOM flag \Seen has))`},
		{`"Work" in flags`, `(ATOM flag Work in)`},
		{`size > mb(1) || size < 300`, `(OR (ATOM size > 1048576) (ATOM size < 300))`},
		{`days(30) < age`, `(ATOM age > 720h0m0s)`},
		{`olderThan("2w")`, `(ATOM age > 336h0m0s)`},
		{`internalDate.Year() <= 2022`, `(ATOM internalDate.Year() <= 2022)`},
		{`header("X-Spam") contains "YES"`, `(ATOM header X-Spam contains "YES")`},
		{`glob(listId, "*.example.org")`, `(ATOM listId glob "*.example.org")`},
		{`subject != ""`, `(ATOM header Subject != "")`},
		{`internalDate < now - days(3)`, `(ATOM internalDate < f(now))`},
		{`now.Sub(internalDate) > hours(36)`, `(ATOM age > 36h0m0s from f(now))`},
		{`seen ? size > 3000 : flagged`, `(OR (AND (ATOM flag \Seen has) (ATOM size > 3000)) (AND (NOT (ATOM flag \Seen has)) (ATOM flag \Flagged has)))`},
		{`days(1) < days(2) && flagged`, `(AND (TRUE) (ATOM flag \Flagged has))`},
		{`subject matches "x"`, `(UNKNOWN)`},
		{`any(from, .domain == "example.com")`, `(UNKNOWN)`},
		{`let d = days(3); age > d`, `(UNKNOWN)`},
	}
	for _, tc := range tests {
		set := mustCompile(t, []Spec{{Name: "r", When: tc.when, Move: "X"}})
		if got := set.rules[0].cond.String(); got != tc.want {
			t.Errorf("condition(%q) = %s, want %s", tc.when, got, tc.want)
		}
	}
}

// TestConstantAt checks that constants reading now are computed by expr
// at the time asked for, and others once.
func TestConstantAt(t *testing.T) {
	set := mustCompile(t, []Spec{{Name: "r", When: `internalDate < now.AddDate(0, -1, 0) + days(1)`, Move: "X"}})
	c := set.rules[0].cond
	if c.Kind != CondAtom || c.Atom.Field != FieldInternalDate {
		t.Fatalf("condition = %s, want an internalDate atom", c)
	}
	if c.Atom.Value.Value != nil {
		t.Errorf("Value = %v, want nil for a constant that reads now", c.Atom.Value.Value)
	}
	for _, now := range []time.Time{testNow, testNow.AddDate(1, 0, 0)} {
		want := now.AddDate(0, -1, 0).Add(24 * time.Hour)
		if got, ok := c.Atom.Value.At(now); !ok || got != want {
			t.Errorf("At(%v) = %v, %v; want %v, true", now, got, ok, want)
		}
	}
}
