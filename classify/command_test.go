package classify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeScript writes an executable shell script into the test's directory.
func writeScript(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// exitScript classifies like bogofilter by the message's content: GTUBE is
// spam, "maybe" unsure, anything else ham; "crash" exits 3.
const exitScript = `msg=$(cat)
case "$msg" in
*crash*) echo "cannot open wordlist" >&2; exit 3 ;;
*XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X*) exit 0 ;;
*maybe*) exit 2 ;;
esac
exit 1
`

func TestCommandExit(t *testing.T) {
	c := NewCommand(Config{Name: "bogo", Type: TypeCommand, Command: []string{writeScript(t, "classify", exitScript)}})
	for _, tc := range []struct {
		msg    string
		spam   bool
		action string
	}{
		{string(gtube), true, "spam"},
		{string(plainMessage), false, "ham"},
		{"Subject: maybe\r\n\r\nmaybe\r\n", false, "unsure"},
	} {
		v, err := c.Classify(context.Background(), []byte(tc.msg))
		if err != nil {
			t.Fatalf("Classify(%.20q): %v", tc.msg, err)
		}
		if v.Spam != tc.spam || v.Action != tc.action || v.Classifier != "bogo" {
			t.Errorf("Classify(%.20q) = %+v, want spam %v action %q", tc.msg, v, tc.spam, tc.action)
		}
	}
	v, err := c.Classify(context.Background(), []byte("Subject: crash\r\n\r\ncrash\r\n"))
	wantUnavailable(t, "Classify(crash)", v, err)
	if !strings.Contains(err.Error(), "cannot open wordlist") || !strings.Contains(err.Error(), "exited with 3") {
		t.Errorf("error %q does not carry the exit code and stderr", err)
	}
}

func TestCommandJSON(t *testing.T) {
	script := writeScript(t, "classify", `msg=$(cat)
case "$msg" in
*GTUBE*) echo '{"score": 12.5, "required": 5, "spam": true, "symbols": ["GTUBE", "A_RULE"]}' ;;
*garbage*) echo 'score=1' ;;
*nospam*) echo '{"score": 1}' ;;
*two*) echo '{"spam": false} {"spam": true}' ;;
*fail*) echo '{"spam": false}'; exit 4 ;;
*) printf '{"score": -1.5, "required": 5, "spam": false, "action": "clean"}' ;;
esac
`)
	c := NewCommand(Config{Name: "js", Type: TypeCommand, Command: []string{script}, Output: OutputJSON})
	v, err := c.Classify(context.Background(), gtube)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Spam || v.Score != 12.5 || v.Required != 5 || v.Action != "spam" || strings.Join(v.Symbols, ",") != "A_RULE,GTUBE" {
		t.Errorf("Classify(GTUBE) = %+v", v)
	}
	v, err = c.Classify(context.Background(), plainMessage)
	if err != nil {
		t.Fatal(err)
	}
	if v.Spam || v.Score != -1.5 || v.Action != "clean" {
		t.Errorf("Classify(ham) = %+v", v)
	}
	for _, word := range []string{"garbage", "nospam", "two", "fail"} {
		v, err := c.Classify(context.Background(), []byte("Subject: "+word+"\r\n\r\n"+word+"\r\n"))
		wantUnavailable(t, "Classify("+word+")", v, err)
	}
}

func TestCommandLearn(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "learned")
	learn := writeScript(t, "learn", `cat > /dev/null; echo "$MAILRULES_CLASSIFIER $MAILRULES_CLASS $1" >> "`+log+`"`)
	c := NewCommand(Config{Name: "bogo", Type: TypeCommand, Command: []string{"true"},
		LearnCommand: []string{learn, "--{class}"}})
	if err := c.Learn(context.Background(), gtube, Spam); err != nil {
		t.Fatal(err)
	}
	if err := c.Learn(context.Background(), plainMessage, Ham); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bogo spam --spam\nbogo ham --ham\n"; string(data) != want {
		t.Errorf("learn command saw %q, want %q", data, want)
	}
	failing := NewCommand(Config{Name: "f", Type: TypeCommand, Command: []string{"true"}, LearnCommand: []string{"false"}})
	if err := failing.Learn(context.Background(), gtube, Spam); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Learn with a failing command = %v, want ErrUnavailable", err)
	}
	none := NewCommand(Config{Name: "n", Type: TypeCommand, Command: []string{"true"}})
	if err := none.Learn(context.Background(), gtube, Spam); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Learn without learn_command = %v, want ErrUnsupported", err)
	}
}

func TestCommandNotFound(t *testing.T) {
	c := NewCommand(Config{Name: "x", Type: TypeCommand, Command: []string{filepath.Join(t.TempDir(), "missing")}})
	v, err := c.Classify(context.Background(), plainMessage)
	wantUnavailable(t, "Classify", v, err)
}
