package diag

import "testing"

func TestPositionString(t *testing.T) {
	tests := []struct {
		pos  Position
		want string
	}{
		{Position{}, ""},
		{Position{File: "a.toml"}, "a.toml"},
		{Position{File: "a.toml", Line: 3}, "a.toml:3"},
		{Position{File: "a.toml", Line: 3, Col: 7}, "a.toml:3:7"},
		{Position{File: "a.toml", Col: 7}, "a.toml"},
		{Position{Line: 3, Col: 7}, "3:7"},
	}
	for _, tc := range tests {
		if got := tc.pos.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.pos, got, tc.want)
		}
	}
}

func TestProblemsError(t *testing.T) {
	ps := Problems{
		{Pos: Position{File: "c.toml", Line: 9, Col: 1}, Msg: "late"},
		{Pos: Position{File: "c.toml", Line: 2, Col: 5}, Rule: "spam", Msg: "second"},
		{Pos: Position{File: "c.toml", Line: 2, Col: 5}, Msg: "third", Severity: Warning},
		{Pos: Position{File: "c.toml"}, Msg: "whole file"},
		{Pos: Position{File: "c.toml", Line: 2, Col: 1}, Msg: "first"},
	}
	ps.Sort()
	want := "c.toml: whole file\n" +
		"c.toml:2:1: first\n" +
		"c.toml:2:5: rule \"spam\": second\n" +
		"c.toml:2:5: warning: third\n" +
		"c.toml:9:1: late"
	if got := ps.Error(); got != want {
		t.Errorf("Problems.Error() after Sort =\n%s\nwant\n%s", got, want)
	}
}
