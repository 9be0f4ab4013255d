package engine

import (
	"testing"
	"time"
)

// TestLooksArePacedByTheirCost: a cheap look waits the settle time;
// a costly one waits lookPace times its cost, so that during a storm of
// notifications the number of looks does not grow with their cost.
func TestLooksArePacedByTheirCost(t *testing.T) {
	for _, c := range []struct{ look, want time.Duration }{
		{0, driftSettle},
		{driftSettle / lookPace, driftSettle},
		{time.Second, lookPace * time.Second},
	} {
		if got := pacedWait(driftSettle, c.look); got != c.want {
			t.Errorf("after a look of %v the watcher waits %v; want %v", c.look, got, c.want)
		}
	}
	// A storm of 40 s (4000 new devices) against one of 10 s (1000):
	// looks that cost 4 times as much are as many.
	looks := func(storm, look time.Duration) int { return int(storm / (pacedWait(driftSettle, look) + look)) }
	if small, large := looks(10*time.Second, 150*time.Millisecond), looks(40*time.Second, 600*time.Millisecond); large > small {
		t.Errorf("%d looks during the large storm, %d during the small one", large, small)
	}
}
