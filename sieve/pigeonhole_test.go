package sieve

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/message"
)

// The differential test: every script of testdata/scripts over every
// message of testdata/messages, once through Pigeonhole's sieve-test
// (Debian dovecot-sieve; make deps installs it) and once through Run; the
// stores (mailbox and flags) and discards must agree.

// pigeonholeConf is a minimal Dovecot config for sieve-test. As root,
// Dovecot refuses to run mail processes without an unprivileged mail_uid.
// The spamtest settings mirror spamValue: X-Spam-Score on a 0..10 scale.
const pigeonholeConf = `mail_uid = {{user}}
mail_gid = {{group}}
mail_location = maildir:{{dir}}/mail
plugin {
  sieve = file:{{dir}};active={{dir}}/none.sieve
  sieve_global = {{dir}}
  sieve_extensions = +spamtest +spamtestplus
  sieve_spamtest_status_type = score
  sieve_spamtest_status_header = X-Spam-Score: (-?[0-9]+(\.[0-9]+)?)
  sieve_spamtest_max_value = 10
}
`

// pigeonholeDir copies the corpus into a directory the unprivileged mail
// user can read, with a config for sieve-test; it returns the directory.
func pigeonholeDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "mailrules-sieve-"+filepath.Base(t.TempDir()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil { // sieve-test may cache compiled scripts here
		t.Fatal(err)
	}
	for _, sub := range []string{"scripts", "messages"} {
		files, err := filepath.Glob(filepath.Join("testdata", sub, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	userName, groupName := "nobody", "nogroup"
	if os.Getuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		userName = u.Username
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			groupName = g.Name
		}
	} else if _, err := user.LookupGroup(groupName); err != nil {
		groupName = "nobody"
	}
	conf := strings.NewReplacer("{{user}}", userName, "{{group}}", groupName, "{{dir}}", dir).Replace(pigeonholeConf)
	if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// store is one message stored by a script, as a comparable string:
// mailbox and sorted, lower-case flags.
func storeKey(mailbox string, flags []string) string {
	fl := make([]string, 0, len(flags))
	for _, f := range flags {
		fl = append(fl, strings.ToLower(f))
	}
	sort.Strings(fl)
	return mailbox + " [" + strings.Join(fl, " ") + "]"
}

// parsePigeonhole reads sieve-test's "Performed actions:" and "Implicit
// keep:" sections into sorted stores, plus "discard" when it discarded.
func parsePigeonhole(out string) []string {
	var stores []string
	var mailbox string
	var flags []string
	have := false
	flush := func() {
		if have {
			stores = append(stores, storeKey(mailbox, flags))
		}
		have, flags = false, nil
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "* store message in folder: "):
			flush()
			mailbox, have = strings.TrimPrefix(line, "* store message in folder: "), true
		case strings.HasPrefix(line, "+ add IMAP flags: "):
			flags = append(flags, strings.Fields(strings.TrimPrefix(line, "+ add IMAP flags: "))...)
		case line == "* discard":
			flush()
			stores = append(stores, "discard")
		case strings.HasPrefix(line, "* "):
			flush()
			stores = append(stores, "other: "+strings.TrimPrefix(line, "* "))
		}
	}
	flush()
	sort.Strings(stores)
	return dedupe(stores)
}

func dedupe(list []string) []string {
	var out []string
	for i, s := range list {
		if i == 0 || s != list[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// outcomeStores renders an Outcome like parsePigeonhole; keep stores into
// INBOX, where sieve-test delivers.
func outcomeStores(o *Outcome) []string {
	var stores []string
	seen := map[string]bool{}
	for _, a := range o.Actions {
		mb := ""
		switch a.Kind {
		case ActionKeep:
			mb = "INBOX"
		case ActionFileinto:
			mb = a.Mailbox
		case ActionDiscard:
			stores = append(stores, "discard")
			continue
		default:
			stores = append(stores, "other: "+a.Name)
			continue
		}
		if !seen[mb] {
			seen[mb] = true
			stores = append(stores, storeKey(mb, a.Flags))
		}
	}
	sort.Strings(stores)
	return dedupe(stores)
}

func TestPigeonholeDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sieve-test about 240 times; not in -short")
	}
	bin, err := exec.LookPath("sieve-test")
	if err != nil {
		t.Skip("sieve-test (Debian dovecot-sieve) is not installed; make deps installs it")
	}
	dir := pigeonholeDir(t)
	scripts, _ := filepath.Glob("testdata/scripts/*.sieve")
	messages, _ := filepath.Glob("testdata/messages/*.eml")
	if len(scripts) == 0 || len(messages) == 0 {
		t.Fatal("empty corpus")
	}
	compared := 0
	for _, sp := range scripts {
		acted := false // the script did more than an implicit keep somewhere
		name := filepath.Base(sp)
		if strings.HasPrefix(name, "include-") && name != "include-main.sieve" {
			continue // included by include-main
		}
		script, err := CompileFile(sp, &Options{GlobalDir: "testdata/scripts"})
		if err != nil {
			t.Errorf("CompileFile(%s): %v", sp, err)
			continue
		}
		for _, mp := range messages {
			raw, err := os.ReadFile(mp)
			if err != nil {
				t.Fatal(err)
			}
			raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
			hdr, _ := message.SplitHeader(raw)
			args := []string{"-c", filepath.Join(dir, "dovecot.conf")}
			env, ok := envelopeArgs(hdr)
			if !ok && script.Requires("envelope") {
				// sieve-test -f takes no null sender: it would use From.
				t.Logf("%s on %s: skipped, sieve-test cannot be given the null sender", name, filepath.Base(mp))
				continue
			}
			args = append(args, env...)
			args = append(args, filepath.Join(dir, name), filepath.Join(dir, filepath.Base(mp)))
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Errorf("sieve-test %s %s: %v\n%s%s", name, filepath.Base(mp), err, stdout.String(), stderr.String())
				continue
			}
			want := parsePigeonhole(stdout.String())
			out, err := script.Run(&Env{Header: hdr, Raw: raw, Size: int64(len(raw)), Now: time.Now()})
			if err != nil {
				t.Errorf("%s on %s: Run: %v", name, filepath.Base(mp), err)
				continue
			}
			got := outcomeStores(out)
			acted = acted || strings.Join(got, "") != storeKey("INBOX", nil)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s on %s:\n mailrules: %q\n sieve-test: %q\n(sieve-test output:\n%s)", name, filepath.Base(mp), got, want, stdout.String())
			}
			compared++
		}
		if !acted {
			t.Errorf("%s did nothing but keep on every message: the corpus does not exercise it", name)
		}
	}
	t.Logf("compared %d script/message pairs with %s", compared, bin)
}

// envelopeArgs passes sieve-test the envelope that the envelope test reads
// from the header: Return-Path as the sender, Delivered-To (else
// X-Original-To) as the recipient.
// ok is false for a null sender (Return-Path: <>), which sieve-test's -f
// cannot express.
func envelopeArgs(hdr []byte) (args []string, ok bool) {
	var h message.Header
	h.Parse(hdr)
	if v, ok := h.Lookup("Return-Path"); ok {
		from := strings.Trim(strings.TrimSpace(v), "<>")
		if from == "" {
			return nil, false
		}
		args = append(args, "-f", from)
	}
	to, ok := h.Lookup("Delivered-To")
	if !ok {
		to, ok = h.Lookup("X-Original-To")
	}
	if ok {
		args = append(args, "-r", strings.TrimSpace(to))
	}
	return args, true
}

// TestPigeonholeRejects checks that the scripts of testdata/invalid, which
// Pigeonhole refuses to compile, are refused by Compile too.
func TestPigeonholeRejects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sieve-test; not in -short")
	}
	bin, err := exec.LookPath("sieve-test")
	if err != nil {
		t.Skip("sieve-test (Debian dovecot-sieve) is not installed; make deps installs it")
	}
	dir := pigeonholeDir(t)
	files, _ := filepath.Glob("testdata/invalid/*.sieve")
	if len(files) == 0 {
		t.Fatal("no invalid scripts")
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		copyPath := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(copyPath, src, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-c", filepath.Join(dir, "dovecot.conf"), copyPath, filepath.Join(dir, "01-plain.eml")).CombinedOutput()
		if err == nil {
			t.Errorf("sieve-test accepted %s:\n%s", p, out)
		}
		if _, err := Compile(p, src, nil); err == nil {
			t.Errorf("Compile(%s) accepted what sieve-test rejects:\n%s", p, out)
		}
	}
}
