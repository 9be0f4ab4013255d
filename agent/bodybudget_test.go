package agent

import (
	"context"
	"testing"
	"time"
)

func TestByteBudget(t *testing.T) {
	b := newByteBudget(10)
	ctx := context.Background()
	if !b.acquire(ctx, 6, time.Second) || !b.acquire(ctx, 4, time.Second) {
		t.Fatal("the budget's bytes were refused")
	}
	if b.acquire(ctx, 1, 20*time.Millisecond) {
		t.Fatal("an empty budget gave a byte")
	}
	got := make(chan bool, 1)
	go func() { got <- b.acquire(ctx, 5, 5*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	b.release(6)
	if !<-got {
		t.Fatal("a waiter was not given the bytes released")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if b.acquire(cctx, 5, time.Second) {
		t.Fatal("a cancelled wait got bytes the budget does not have")
	}
	b.release(4)
	b.release(5)
	if b.free != 10 || len(b.waiters) != 0 {
		t.Errorf("free %d, %d waiters; want 10 and none", b.free, len(b.waiters))
	}
}
