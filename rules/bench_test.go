package rules

import (
	"fmt"
	"testing"
)

// benchSpecs returns a realistic header-only rule set of n rules: spam,
// lists, senders, subjects, flags, size and dates, most of which do not
// match most mail (as in real use), with no final action before the end.
func benchSpecs(n int) []Spec {
	base := []Spec{
		{Name: "spam flag", When: `header("X-Spam-Flag") == "YES"`, Move: "Junk"},
		{Name: "spam score", When: `spamScore() >= 8`, Move: "Junk"},
		{Name: "important", When: `subject matches "(?i)\\b(urgent|important)\\b"`, Flag: []string{`\Flagged`}},
		{Name: "boss", When: `any(from, .addr == "boss@example.com")`, Flag: []string{`\Flagged`}},
		{Name: "newsletters", When: `hasHeader("List-Unsubscribe") && listId == ""`, Move: "Newsletters"},
		{Name: "big", When: `size > mb(10)`, Flag: []string{"$Big"}},
		{Name: "old unread", When: `!seen && age > days(30)`, Flag: []string{"$Stale"}},
		{Name: "invoices", When: `icontains(subject, "invoice") || icontains(subject, "rechnung")`, Copy: []string{"Invoices"}},
		{Name: "github", When: `any(from, .domain == "github.com")`, Move: "GitHub"},
	}
	var specs []Spec
	for i := 0; len(specs) < n-1; i++ {
		s := base[i%len(base)]
		if i >= len(base) {
			// Variations so that the rules are distinct, like a user's list of senders.
			s.Name = fmt.Sprintf("%s %d", s.Name, i)
			s.When = fmt.Sprintf(`any(from, .domain == "sender%d.example.com") || icontains(subject, "topic %d")`, i, i)
		}
		specs = append(specs, s)
	}
	specs = append(specs, Spec{Name: "lists", When: `listId != ""`, Move: "Lists/{listName}"})
	return specs
}

func BenchmarkEvaluate(b *testing.B) {
	files := []string{"charsets.eml", "list.eml", "malformed.eml", "multipart.eml", "htmlonly.eml"}
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			set := mustCompile(b, benchSpecs(n))
			if set.Needs().Body {
				b.Fatal("benchmark rule set must be header-only")
			}
			var msgs []*Message
			for _, f := range files {
				m := loadMessage(b, f, `\Seen`)
				m.Raw = nil // the engine fetches only header fields for this set
				msgs = append(msgs, m)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				set.Evaluate(msgs[i%len(msgs)], testNow)
			}
		})
	}
}
