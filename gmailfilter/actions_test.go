package gmailfilter_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mailrules/mailrules/gmailfilter"
)

// feedOf makes an export with one filter of the given properties.
func feedOf(props ...string) []byte {
	var b strings.Builder
	b.WriteString("<feed xmlns='http://www.w3.org/2005/Atom' xmlns:apps='http://schemas.google.com/apps/2006'><entry>\n")
	for i := 0; i+1 < len(props); i += 2 {
		fmt.Fprintf(&b, "<apps:property name='%s' value='%s'/>\n", props[i], props[i+1])
	}
	b.WriteString("</entry></feed>")
	return []byte(b.String())
}

// TestImportActions checks what each combination of Gmail actions
// becomes, and which are refused with the rule commented out.
func TestImportActions(t *testing.T) {
	tests := []struct {
		props    []string
		opts     *gmailfilter.Options
		want     string // the rule's actions, as summarized below
		disabled string // part of why the rule is commented out; "" for none
		omitted  string // part of a note on what was left out; "" for none
	}{
		{[]string{"from", "a", "label", "L"}, nil, "copy=[L]", "", ""},
		{[]string{"from", "a", "label", "a/b", "shouldArchive", "true"}, nil, "move=a/b", "", ""},
		{[]string{"from", "a", "label", "L", "label", "M", "shouldArchive", "true"}, nil, "copy=[M] move=L", "", ""},
		{[]string{"from", "a", "label", "L", "label", "L"}, nil, "copy=[L]", "", ""},
		{[]string{"from", "a", "shouldArchive", "true"}, nil, "move=Archive", "", ""},
		{[]string{"from", "a", "shouldArchive", "true"}, &gmailfilter.Options{Archive: "[Gmail]/All Mail"}, "move=[Gmail]/All Mail", "", ""},
		{[]string{"from", "a", "shouldArchive", "false", "shouldStar", "true"}, nil, "flag=[\\Flagged]", "", ""},
		{[]string{"from", "a", "shouldTrash", "true", "label", "L", "shouldArchive", "true"}, nil, "copy=[L] delete", "", ""},
		{[]string{"from", "a", "shouldMarkAsRead", "true"}, nil, "seen", "", ""},
		{[]string{"from", "a", "label", "x{y}"}, nil, "copy=[x{{y}}]", "", ""},
		{[]string{"from", "a", "label", "a//b"}, nil, "", "empty level", ""},
		{[]string{"from", "a", "label", "../x"}, nil, "", "not allowed", ""},
		{[]string{"from", "a", "label", " "}, nil, "", "empty label", ""},
		{[]string{"from", "a", "shouldNeverSpam", "true"}, nil, "", "no action", "shouldNeverSpam"},
		{[]string{"from", "a", "forwardTo", "b@c", "label", "L"}, nil, "copy=[L]", "", "does not send mail"},
		{[]string{"from", "a", "frobnicate", "true", "label", "L"}, nil, "copy=[L]", "unknown property frobnicate", ""},
		{[]string{"size", "ten", "label", "L"}, nil, "copy=[L]", "not a number", ""},
		{[]string{"size", "1", "sizeUnit", "s_sgb", "label", "L"}, nil, "copy=[L]", "sizeUnit", ""},
		{[]string{"label", "L"}, nil, "copy=[L]", "", "no criteria"},
	}
	for _, tc := range tests {
		res, err := gmailfilter.Import(feedOf(tc.props...), "f.xml", tc.opts)
		if err != nil || len(res.Rules) != 1 {
			t.Fatalf("Import(%q) = %v, %v", tc.props, res, err)
		}
		r := res.Rules[0]
		var got []string
		if len(r.Copy) > 0 {
			got = append(got, fmt.Sprintf("copy=%v", r.Copy))
		}
		if r.Move != "" {
			got = append(got, "move="+r.Move)
		}
		if len(r.Flag) > 0 {
			got = append(got, fmt.Sprintf("flag=%v", r.Flag))
		}
		if r.Seen {
			got = append(got, "seen")
		}
		if r.Delete {
			got = append(got, "delete")
		}
		if tc.disabled == "" && strings.Join(got, " ") != tc.want {
			t.Errorf("Import(%q) actions = %q, want %q", tc.props, strings.Join(got, " "), tc.want)
		}
		if got := notes(r.Disabled); (tc.disabled == "") != (got == "") || !strings.Contains(got, tc.disabled) {
			t.Errorf("Import(%q) disabled for %q, want %q", tc.props, got, tc.disabled)
		}
		if got := notes(r.Omitted); (tc.omitted == "") != (got == "") || !strings.Contains(got, tc.omitted) {
			t.Errorf("Import(%q) omitted %q, want %q", tc.props, got, tc.omitted)
		}
		if len(res.Warnings) != len(r.Disabled)+len(r.Omitted) {
			t.Errorf("Import(%q) warnings %v, want one per note", tc.props, res.Warnings)
		}
		for _, w := range res.Warnings {
			if w.Pos.File != "f.xml" || w.Pos.Line == 0 || w.Pos.Col == 0 {
				t.Errorf("Import(%q) warning %q has no position", tc.props, w)
			}
		}
	}
}

func notes(ns []gmailfilter.Note) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, n.Msg)
	}
	return strings.Join(parts, "; ")
}
