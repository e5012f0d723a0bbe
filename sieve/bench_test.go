package sieve

import (
	"os"
	"testing"
	"time"

	"github.com/mailrules/mailrules/message"
	"github.com/mailrules/mailrules/rules"
)

// BenchmarkDecide measures one message through the corpus's full.sieve
// as a pass evaluates it (headers only, no body test hit).
func BenchmarkDecide(b *testing.B) {
	s, err := CompileFile("testdata/scripts/full.sieve", nil)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/messages/05-invoice.eml")
	if err != nil {
		b.Fatal(err)
	}
	hdr, _ := message.SplitHeader(raw)
	msg := &rules.Message{Mailbox: "INBOX", Header: hdr, Raw: raw, Size: int64(len(raw)), New: true}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Decide(msg, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile measures compiling the corpus's full.sieve.
func BenchmarkCompile(b *testing.B) {
	src, err := os.ReadFile("testdata/scripts/full.sieve")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range b.N {
		if _, err := Compile("full.sieve", src, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideHeaders measures a typical header-only filter (lists,
// spam, flags, a copy) on a mailing-list message: the common case in a pass.
func BenchmarkDecideHeaders(b *testing.B) {
	src := `require ["fileinto", "copy", "imap4flags", "variables", "spamtest", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "8" { fileinto "Junk"; stop; }
if header :contains "subject" "urgent" { addflag "\\Flagged"; }
if address :domain :is "from" "friends.example" { fileinto :copy "Friends"; }
if header :matches "List-Id" "*<*.*>*" { set :lower "list" "${2}"; fileinto "Lists/${list}"; stop; }`
	s, err := Compile("h.sieve", []byte(src), nil)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/messages/02-list.eml")
	if err != nil {
		b.Fatal(err)
	}
	hdr, _ := message.SplitHeader(raw)
	msg := &rules.Message{Mailbox: "INBOX", Header: hdr, New: true}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.Decide(msg, now); err != nil {
			b.Fatal(err)
		}
	}
}
