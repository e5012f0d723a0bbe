package classify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailrules/mailrules/test/rspamdtest"
)

// staticSecret is a password given as is.
type staticSecret string

func (s staticSecret) Resolve(context.Context) (string, error) { return string(s), nil }

// hamMessage is ordinary mail, long enough for Bayes (rspamd learns only
// messages with at least 11 tokens). n makes its Message-ID and text
// unique, so each is a message rspamd has not learned.
func hamMessage(n int) []byte {
	return []byte(fmt.Sprintf("From: Alice Example <alice@example.org>\r\n"+
		"To: Bob Example <bob@example.org>\r\n"+
		"Subject: Notes from the planning meeting %d\r\n"+
		"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n"+
		"Message-ID: <notes-%d-%d@example.org>\r\n"+
		"MIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=us-ascii\r\n"+
		"\r\n"+
		"Hi Bob,\r\n\r\n"+
		"here are the notes from meeting number %d: we agreed to move the release\r\n"+
		"to the second week of January, Carol updates the roadmap document and\r\n"+
		"sends it around before Friday. Please review the budget figures.\r\n\r\n"+
		"Thanks, Alice\r\n", n, n, time.Now().UnixNano(), n))
}

func TestRspamd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rspamd")
	}
	srv := rspamdtest.New(t, nil)
	ctx := context.Background()
	cfg := Config{Name: "rspamd", Type: TypeRspamd, URL: srv.URL(), ControllerURL: srv.ControllerURL(),
		Password: staticSecret(rspamdtest.Password)}
	r := NewRspamd(cfg)

	t.Run("GTUBE is spam", func(t *testing.T) {
		v, err := r.Classify(ctx, gtube)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Spam || v.Action != "reject" || v.Skipped || !slices.Contains(v.Symbols, "GTUBE") || v.Classifier != "rspamd" {
			t.Fatalf("Classify(GTUBE) = %+v, want spam, action reject, symbol GTUBE", v)
		}
	})
	t.Run("ham is not spam", func(t *testing.T) {
		v, err := r.Classify(ctx, hamMessage(1))
		if err != nil {
			t.Fatal(err)
		}
		if v.Spam || v.Action != "no action" || v.Skipped || v.Score >= v.Required || v.Required <= 0 {
			t.Fatalf("Classify(ham) = %+v, want no action below the required score", v)
		}
		// The stock rules always say something about a message's MIME
		// structure and headers.
		if !slices.Contains(v.Symbols, "MIME_GOOD") || !slices.IsSorted(v.Symbols) {
			t.Fatalf("Classify(ham) symbols = %q, want MIME_GOOD among sorted symbols", v.Symbols)
		}
	})
	t.Run("settings_id", func(t *testing.T) {
		withSettings := NewRspamd(Config{Name: "settings", Type: TypeRspamd, URL: srv.URL(), SettingsID: rspamdtest.SettingsID})
		v, err := withSettings.Classify(ctx, hamMessage(4))
		if err != nil {
			t.Fatal(err)
		}
		if v.Action != "add header" || !v.Spam {
			t.Fatalf("Classify(ham) with Settings-Id %s = %+v, want action add header (the settings' threshold)", rspamdtest.SettingsID, v)
		}
	})
	t.Run("max_size", func(t *testing.T) {
		before, err := r.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		small := NewRspamd(Config{Name: "small", Type: TypeRspamd, URL: srv.URL(), MaxSize: 100})
		v, err := small.Classify(ctx, gtube)
		if err != nil || !v.Skipped || v.Spam {
			t.Fatalf("Classify(GTUBE over max_size) = %+v, %v; want skipped", v, err)
		}
		after, err := r.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Scanned != before.Scanned {
			t.Fatalf("rspamd scanned %d messages for a skipped one, want 0", after.Scanned-before.Scanned)
		}
	})
	t.Run("learn counts one", func(t *testing.T) {
		msg := hamMessage(2)
		before, err := r.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Learn(ctx, msg, Ham); err != nil {
			t.Fatalf("Learn(ham): %v", err)
		}
		after, err := r.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Learned != before.Learned+1 {
			t.Fatalf("/stat learned %d -> %d after one learn, want +1", before.Learned, after.Learned)
		}
		// The same message again as the same class: rspamd says it knows it.
		if err := r.Learn(ctx, msg, Ham); !errors.Is(err, ErrAlreadyLearned) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("Learn(ham) again = %v, want ErrAlreadyLearned", err)
		}
		again, err := r.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again.Learned != after.Learned {
			t.Fatalf("/stat learned %d -> %d after an already learned message, want no change", after.Learned, again.Learned)
		}
		// Then as spam: the user changed their mind; rspamd relearns it.
		if err := r.Learn(ctx, msg, Spam); err != nil {
			t.Fatalf("Learn(spam) after ham: %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		const wrong = "not-the-password-123"
		bad := NewRspamd(Config{Name: "bad", Type: TypeRspamd, URL: srv.URL(), ControllerURL: srv.ControllerURL(), Password: staticSecret(wrong)})
		err := bad.Learn(ctx, hamMessage(3), Spam)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Learn with a wrong password = %v, want ErrUnavailable", err)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Fatalf("error %q reveals the password", err)
		}
		if _, err := bad.Stat(ctx); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Stat with a wrong password = %v, want ErrUnavailable", err)
		}
	})
}
