package gmailfilter_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/mailrules/mailrules/gmailfilter"
	"github.com/mailrules/mailrules/rules"
)

// TestReadFeedErrors checks that input that is not a Gmail export is
// refused with a message that says what it is, and where.
func TestReadFeedErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "export.xml: not a Gmail filter export: no XML element in it"},
		{"text", "from: alice\nlabel: x\n", "export.xml: not a Gmail filter export: no XML element in it"},
		{"json", `{"filters": []}`, "no XML element"},
		{"broken", "<?xml version='1.0'?>\n<feed xmlns='http://www.w3.org/2005/Atom'>\n<entry>\n</feed>\n",
			"export.xml:4: not a Gmail filter export: not well-formed XML: element <entry> closed by </feed>"},
		{"truncated", "<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "export.xml:1: not a Gmail filter export: not well-formed XML: unexpected EOF"},
		{"html", "<!DOCTYPE html>\n<html><body>Sign in</body></html>", "export.xml:2:1: not a Gmail filter export: the root element is <html>, want an Atom <feed>"},
		{"rss", "<rss version='2.0'><channel/></rss>", "the root element is <rss>"},
		{"no namespace", "<feed><entry/></feed>", "export.xml:1:1: not a Gmail filter export: the root element is <feed>, want an Atom <feed>"},
		{"other namespace", "<feed xmlns='urn:x'/>", "the root element is <feed in urn:x>"},
		{"two roots", "<feed xmlns='http://www.w3.org/2005/Atom'/>\n  <feed xmlns='http://www.w3.org/2005/Atom'/>", "export.xml:2:3: not a Gmail filter export: a second root element <feed>"},
	}
	for _, tc := range tests {
		_, err := gmailfilter.ReadFeed([]byte(tc.in), "export.xml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadFeed = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestReadFeed reads a small export: positions, ids, the owner, and
// properties in order, with XML escapes decoded.
func TestReadFeed(t *testing.T) {
	in := "<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' xmlns:apps='http://schemas.google.com/apps/2006'>\n" +
		"<author><name>A</name><email> a@example.org </email></author>\n" +
		"<entry><id>tag:x:1</id>\n" +
		"\t<apps:property name='subject' value='&quot;a&quot; &amp; ü &lt;b&gt;'/>\n" +
		"\t<property name='label' value='not apps'/>\n" +
		"\t<apps:property name='label' value='L'/></entry>\n" +
		"  <entry/>\n</feed>\n"
	feed, err := gmailfilter.ReadFeed([]byte(in), "f.xml")
	if err != nil {
		t.Fatal(err)
	}
	if feed.Owner != "a@example.org" || len(feed.Filters) != 2 {
		t.Fatalf("ReadFeed = owner %q, %d filters; want a@example.org, 2", feed.Owner, len(feed.Filters))
	}
	f := feed.Filters[0]
	if f.ID != "tag:x:1" || f.Pos.String() != "f.xml:3:1" || f.Index != 1 {
		t.Errorf("filter 1 = id %q at %s, index %d", f.ID, f.Pos, f.Index)
	}
	if len(f.Props) != 2 || f.Props[0].Value != `"a" & ü <b>` || f.Props[1].Name != "label" || f.Props[0].Pos.String() != "f.xml:4:2" {
		t.Errorf("filter 1 properties = %+v", f.Props)
	}
	if p, ok := f.Get("label"); !ok || p.Value != "L" {
		t.Errorf("Get(label) = %+v, %v", p, ok)
	}
	if g := feed.Filters[1]; g.Pos.String() != "f.xml:7:3" || g.Index != 2 || len(g.Props) != 0 {
		t.Errorf("filter 2 = %+v", g)
	}
}

// TestImportEmpty checks that an export without filters gives a warning
// and a file with no rules that is still valid TOML.
func TestImportEmpty(t *testing.T) {
	res, err := gmailfilter.Import([]byte("<feed xmlns='http://www.w3.org/2005/Atom'></feed>"), "e.xml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].String(), "no filters") {
		t.Errorf("warnings = %v, want one about no filters", res.Warnings)
	}
	var out bytes.Buffer
	if err := res.WriteTOML(&out); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if _, err := toml.Decode(out.String(), &v); err != nil || len(v) != 0 {
		t.Errorf("output %q decodes to %v, %v; want nothing", out.String(), v, err)
	}
}

// FuzzCondition checks that every search Condition translates compiles
// as a rule condition: quoting and precedence hold for any input.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`from:(a@b.c OR "d e") -{x y} has:attachment larger:10M`, `subject:"O'Reilly \ \"x"`, "a\x00b \x1b[2J",
		"older_than:2m newer_than:3d after:2024/1/2 before:1700000000", "-(a OR -b) c", "to:me", "list:x@y",
		"is:unread -is:starred in:inbox", "deliveredto:a rfc822msgid:<b>", "size:0 smaller:1k", "ü{é}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cond, err := gmailfilter.Condition(s, "me@example.org", nil)
		if err != nil {
			return
		}
		if _, err := rules.Compile([]rules.Spec{{Name: "f", When: cond, Seen: new(bool)}}); err != nil {
			t.Fatalf("Condition(%q) = %s, which does not compile: %v", s, cond, err)
		}
	})
}

// FuzzImport checks that Import never panics and that what it writes is
// valid TOML.
func FuzzImport(f *testing.F) {
	f.Add([]byte("<feed xmlns='http://www.w3.org/2005/Atom' xmlns:apps='http://schemas.google.com/apps/2006'><entry>" +
		"<apps:property name='from' value='a'/><apps:property name='label' value='x{y}'/><apps:property name='shouldArchive' value='true'/></entry></feed>"))
	f.Add([]byte("<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>\x01</id></entry></feed>"))
	f.Add([]byte("<x/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := gmailfilter.Import(data, "f.xml", nil)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := res.WriteTOML(&out); err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if _, err := toml.Decode(out.String(), &v); err != nil {
			t.Fatalf("Import(%q) wrote invalid TOML: %v\n%s", data, err, out.String())
		}
	})
}
