package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWriterGate(t *testing.T) {
	var g writerGate
	ctx := context.Background()
	never := make(chan time.Time)
	seq, err := g.idle(ctx, never)
	if err != nil || !g.unchanged(seq) {
		t.Fatalf("an idle gate: idle = %d, %v; unchanged %v", seq, err, g.unchanged(seq))
	}

	g.enter()
	if g.unchanged(seq) {
		t.Error("unchanged after a writer entered")
	}
	expired := make(chan time.Time, 1)
	expired <- time.Now()
	var f *Error
	if _, err := g.idle(ctx, expired); !errors.As(err, &f) || f.Kind != Busy || f.Code != CodeOperationInProgress {
		t.Errorf("idle while a writer holds the slot, timed out: %v; want Busy %s", err, CodeOperationInProgress)
	}

	got := make(chan uint64)
	go func() {
		s, _ := g.idle(ctx, never)
		got <- s
	}()
	select {
	case s := <-got:
		t.Fatalf("idle returned %d while a writer holds the slot", s)
	case <-time.After(50 * time.Millisecond):
	}
	g.leave()
	if s := <-got; s == seq || s%2 != 0 || !g.unchanged(s) {
		t.Errorf("after the writer left: seq %d (was %d), unchanged %v", s, seq, g.unchanged(s))
	}

	g.enter()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.idle(cancelled, never); !errors.Is(err, context.Canceled) {
		t.Errorf("idle with a cancelled context: %v", err)
	}
	g.leave()
}
