package gmailfilter

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mailrules/mailrules/internal/diag"
)

// Namespaces of Gmail's filter export: an Atom feed whose entries carry
// apps:property elements.
const (
	atomNS = "http://www.w3.org/2005/Atom"
	appsNS = "http://schemas.google.com/apps/2006"
)

// Feed is a Gmail filter export (mailFilters.xml).
type Feed struct {
	// Owner is the address in the feed's <author><email>, which Gmail
	// writes and "me" in a search stands for; "" when absent.
	Owner   string
	Filters []Filter
}

// Filter is one <entry> of the export: one Gmail filter.
type Filter struct {
	Index int    // 1 for the first entry
	ID    string // the entry's <id>, e.g. tag:mail.google.com,2008:filter:123
	Pos   diag.Position
	Props []Property // in the order written
}

// Property is one <apps:property name="..." value="..."/> of an entry.
type Property struct {
	Name, Value string
	Pos         diag.Position
}

// Get returns the value of the property called name and whether there is
// one; of several, the last.
func (f *Filter) Get(name string) (Property, bool) {
	for i := len(f.Props) - 1; i >= 0; i-- {
		if f.Props[i].Name == name {
			return f.Props[i], true
		}
	}
	return Property{}, false
}

// ReadFeed parses a Gmail filter export. file names the input in
// positions. A document that is not XML, or whose root is not an Atom
// feed, is an error that says so, with its position.
func ReadFeed(data []byte, file string) (*Feed, error) {
	lines := newLineIndex(data, file)
	d := xml.NewDecoder(bytes.NewReader(data))
	feed := &Feed{}
	var (
		depth   int
		entry   *Filter
		path    []string // local names of the open elements
		text    strings.Builder
		sawRoot bool
	)
	for {
		start := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s: not a Gmail filter export: not well-formed XML: %s", diag.Position{File: file, Line: se.Line}, se.Msg)
			}
			return nil, fmt.Errorf("%s: not a Gmail filter export: %w", lines.pos(start), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			pos := lines.pos(skipSpace(data, start))
			if depth == 0 {
				if sawRoot {
					return nil, fmt.Errorf("%s: not a Gmail filter export: a second root element <%s>", pos, t.Name.Local)
				}
				sawRoot = true
				if t.Name.Local != "feed" || t.Name.Space != atomNS {
					return nil, fmt.Errorf("%s: not a Gmail filter export: the root element is <%s>, want an Atom <feed> (%s)", pos, qualified(t.Name), atomNS)
				}
			}
			depth++
			path = append(path, t.Name.Local)
			text.Reset()
			switch {
			case depth == 2 && t.Name.Local == "entry" && t.Name.Space == atomNS:
				feed.Filters = append(feed.Filters, Filter{Index: len(feed.Filters) + 1, Pos: pos})
				entry = &feed.Filters[len(feed.Filters)-1]
			case entry != nil && depth == 3 && t.Name.Local == "property" && t.Name.Space == appsNS:
				p := Property{Pos: pos}
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "name":
						p.Name = a.Value
					case "value":
						p.Value = a.Value
					}
				}
				entry.Props = append(entry.Props, p)
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			switch strings.Join(path, "/") {
			case "feed/entry":
				entry = nil
			case "feed/entry/id":
				if entry == nil {
					break
				}
				entry.ID = strings.TrimSpace(text.String())
			case "feed/author/email":
				feed.Owner = strings.TrimSpace(text.String())
			}
			depth--
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%s: not a Gmail filter export: no XML element in it", diag.Position{File: file})
	}
	return feed, nil
}

// qualified writes an XML name with its namespace, if any.
func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Local + " in " + n.Space
}

// skipSpace returns the offset of the first byte at or after off that is
// not white space: where a token that the decoder read from off begins.
func skipSpace(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
		off++
	}
	return off
}

// lineIndex turns byte offsets into lines and columns.
type lineIndex struct {
	data   []byte
	file   string
	starts []int // offset of each line's first byte
}

func newLineIndex(data []byte, file string) *lineIndex {
	ix := &lineIndex{data: data, file: file, starts: []int{0}}
	for i, b := range data {
		if b == '\n' {
			ix.starts = append(ix.starts, i+1)
		}
	}
	return ix
}

// pos returns the position of byte offset off; the column counts
// characters.
func (ix *lineIndex) pos(off int) diag.Position {
	line := 0
	lo, hi := 0, len(ix.starts)
	for lo < hi {
		mid := (lo + hi) / 2
		if ix.starts[mid] <= off {
			line, lo = mid, mid+1
		} else {
			hi = mid
		}
	}
	off = min(off, len(ix.data))
	return diag.Position{File: ix.file, Line: line + 1, Col: utf8.RuneCount(ix.data[ix.starts[line]:off]) + 1}
}
