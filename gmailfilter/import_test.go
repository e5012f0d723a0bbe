package gmailfilter_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/config"
	"github.com/mailrules/mailrules/gmailfilter"
	"github.com/mailrules/mailrules/internal/golden"
	"github.com/mailrules/mailrules/rules"
)

// accountStub is the account the imported rules are checked with.
const accountStub = `[[account]]
name     = "gmail"
host     = "imap.gmail.com"
username = "alice.example@gmail.com"
password = { env = "MAILRULES_TEST_UNSET" }

`

// importFile translates testdata/NAME with opts.
func importFile(t *testing.T, name string, opts *gmailfilter.Options) (*gmailfilter.Result, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	res, err := gmailfilter.Import(data, name, opts)
	if err != nil {
		t.Fatalf("Import(%s) = %v", name, err)
	}
	var out bytes.Buffer
	if err := res.WriteTOML(&out); err != nil {
		t.Fatal(err)
	}
	return res, out.String()
}

// loadRules writes an account and the imported rules to a file and loads
// it as mailrules check does; it returns the number of rules loaded.
func loadRules(t *testing.T, rules string) int {
	return loadConfig(t, rules).Rules.Len()
}

// loadConfig loads an account and the imported rules, as mailrules check
// does.
func loadConfig(t *testing.T, rules string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(accountStub+rules), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the imported rules do not load:\n%v\n%s", err, rules)
	}
	return cfg
}

// TestImportGolden translates the sample export and compares the rules
// and the warnings with their golden files.
func TestImportGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   *gmailfilter.Options
	}{
		{"mailFilters.golden.toml", nil},
		{"mailFilters-nobody.golden.toml", &gmailfilter.Options{NoBody: true, Archive: "[Gmail]/All Mail"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			res, out := importFile(t, "mailFilters.xml", tc.opts)
			golden.Check(t, filepath.Join("testdata", tc.golden), out)
			var warnings strings.Builder
			for _, w := range res.Warnings {
				warnings.WriteString(w.String() + "\n")
			}
			golden.Check(t, filepath.Join("testdata", strings.TrimSuffix(tc.golden, ".toml")+".warnings"), warnings.String())
		})
	}
}

// TestImportRoundTrip checks that what import writes loads and compiles
// through the configuration loader, as mailrules check does, and that
// every rule not commented out is there.
func TestImportRoundTrip(t *testing.T) {
	for _, opts := range []*gmailfilter.Options{nil, {NoBody: true, Archive: "[Gmail]/All {Mail}"}} {
		res, out := importFile(t, "mailFilters.xml", opts)
		active := 0
		for _, r := range res.Rules {
			if len(r.Disabled) == 0 {
				active++
			}
		}
		if active == 0 || active == len(res.Rules) {
			t.Fatalf("%d of %d rules active; the sample should have both kinds", active, len(res.Rules))
		}
		if got := loadRules(t, out); got != active {
			t.Errorf("loaded %d rules, want the %d not commented out", got, active)
		}
	}
}

// TestImportEveryFilterApplies evaluates the imported sample on a message
// that two filters with the same criteria match, one labelling and
// archiving, one only labelling: as in Gmail, it gets both labels (a copy
// and a move), whatever their order in the export. Starring and marking
// read from other filters add up too.
func TestImportEveryFilterApplies(t *testing.T) {
	_, out := importFile(t, "mailFilters.xml", nil)
	cfg := loadConfig(t, out)
	raw := "From: Amazon <orders@amazon.com>\r\nTo: alice.example@gmail.com\r\nSubject: Your order\r\n\r\nShipped.\r\n"
	header, _, _ := strings.Cut(raw, "\r\n\r\n")
	res := cfg.Rules.For("gmail", "INBOX").Evaluate(&rules.Message{Account: "gmail", Mailbox: "INBOX", UID: 7,
		InternalDate: now.Add(-time.Hour), Size: int64(len(raw)), Header: []byte(header + "\r\n\r\n"), Raw: []byte(raw), New: true}, now)
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	var copies []string
	for _, c := range res.Copies {
		copies = append(copies, c.Mailbox)
	}
	if strings.Join(copies, ",") != "Receipts" || res.Final == nil || res.Final.Kind != rules.FinalMove || res.Final.Mailbox != "Shopping/Amazon" {
		t.Errorf("imported rules on an Amazon order: copies %q, final %+v; want a copy to Receipts and a move to Shopping/Amazon\nmatched %q",
			copies, res.Final, res.Matched)
	}
	var flags []string
	for _, f := range res.AddFlags {
		flags = append(flags, f.Flag)
	}
	if strings.Join(flags, ",") != `\Seen` {
		t.Errorf("imported rules on an Amazon order add flags %q, want \\Seen (filter 19: to:me, newer_than:2m, in:inbox)", flags)
	}
}
