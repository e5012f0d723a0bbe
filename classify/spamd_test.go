package classify

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mailrules/mailrules/test/spamdtest"
)

func TestSpamd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts spamd")
	}
	srv := spamdtest.New(t, nil)
	ctx := context.Background()
	s := NewSpamd(Config{Name: "sa", Type: TypeSpamd, Address: srv.Addr()})

	t.Run("GTUBE is spam", func(t *testing.T) {
		v, err := s.Classify(ctx, gtube)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Spam || v.Action != "spam" || v.Score < 1000 || v.Required != 5 || !slices.Contains(v.Symbols, "GTUBE") || v.Classifier != "sa" {
			t.Fatalf("Classify(GTUBE) = %+v, want spam over 1000/5 with GTUBE", v)
		}
	})
	t.Run("ham is not spam", func(t *testing.T) {
		v, err := s.Classify(ctx, hamMessage(1))
		if err != nil {
			t.Fatal(err)
		}
		if v.Spam || v.Action != "ham" || v.Score >= v.Required || slices.Contains(v.Symbols, "GTUBE") {
			t.Fatalf("Classify(ham) = %+v, want ham below 5", v)
		}
	})
	t.Run("unix socket", func(t *testing.T) {
		u := NewSpamd(Config{Name: "unix", Type: TypeSpamd, Address: srv.SocketPath()})
		v, err := u.Classify(ctx, gtube)
		if err != nil || !v.Spam || !slices.Contains(v.Symbols, "GTUBE") {
			t.Fatalf("Classify(GTUBE) over %s = %+v, %v; want spam with GTUBE", srv.SocketPath(), v, err)
		}
	})
	t.Run("max_size", func(t *testing.T) {
		small := NewSpamd(Config{Name: "small", Type: TypeSpamd, Address: srv.Addr(), MaxSize: 100})
		v, err := small.Classify(ctx, gtube)
		if err != nil || !v.Skipped || v.Spam {
			t.Fatalf("Classify(GTUBE over max_size) = %+v, %v; want skipped", v, err)
		}
	})
	t.Run("TELL", func(t *testing.T) {
		msg := hamMessage(2)
		if err := s.Learn(ctx, msg, Ham); err != nil {
			t.Fatalf("Learn(ham): %v", err)
		}
		if err := s.Learn(ctx, msg, Ham); !errors.Is(err, ErrAlreadyLearned) || errors.Is(err, ErrUnavailable) {
			t.Fatalf("Learn(ham) again = %v, want ErrAlreadyLearned", err)
		}
		if err := s.Learn(ctx, msg, Spam); err != nil {
			t.Fatalf("Learn(spam) after ham: %v", err)
		}
		if err := s.Learn(ctx, gtube, Spam); err != nil {
			t.Fatalf("Learn(GTUBE, spam): %v", err)
		}
	})
}
