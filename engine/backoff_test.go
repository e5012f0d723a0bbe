package engine

import (
	"testing"
	"time"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := newBackoff(time.Second, 5*time.Minute)
	ceilings := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	for i, ceiling := range ceilings {
		ceiling *= time.Second
		d := b.delay()
		if d > ceiling || d < ceiling/2 {
			t.Fatalf("delay #%d = %v, want within [%v, %v]", i, d, ceiling/2, ceiling)
		}
	}
	b.reset()
	if d := b.delay(); d > time.Second {
		t.Fatalf("delay after reset = %v, want <= 1s", d)
	}
}
