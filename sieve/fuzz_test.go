package sieve

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary scripts to the parser, checker and
// interpreter: none may panic or hang, and a script that compiles must run.
// The seed corpus is the differential test's scripts plus tricky fragments.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/scripts/*.sieve")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", ";", "{", "}", "if", "text:", "text:\r\n..\r\n.\r\n", "\"\\", "/*", "#",
		"require \"variables\"; set \"a\" \"${${${}}}\";",
		"require \"encoded-character\"; if header \"a\" \"${hex:}${unicode:110000}${hex:zz}\" {}",
		"require [\"variables\"]; if header :matches \"s\" \"*a*a*a*a*a*a*a*a*b\" { keep; }",
		"if anyof(not true, allof(false, true)) { stop; } else { discard; }",
		"size :over 99999999999999999999G;",
		"require \"include\"; include :once :optional \"x\"; return;",
	} {
		f.Add([]byte(s))
	}
	msg := []byte("From: A <a@example.org>\r\nTo: b@example.com\r\nSubject: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nDate: Tue, 3 Jun 2025 10:14:31 +0200\r\nX-Spam-Score: 3\r\n\r\nbody text\r\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%q took %v", src, d)
			}
		}()
		cmds, _ := Parse("fuzz.sieve", src)
		_ = cmds
		s, err := Compile(filepath.Join(dir, "fuzz.sieve"), src, &Options{PersonalDir: dir})
		if err != nil {
			return
		}
		out, err := s.Run(&Env{Header: msg, Raw: msg, Now: time.Unix(1700000000, 0)})
		if err == nil && out == nil {
			t.Fatal("Run returned neither an outcome nor an error")
		}
	})
}
