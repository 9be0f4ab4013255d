package kernel

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A subscription the library closes (as it does after a receive error,
// such as a notification burst overflowing the socket) must be reported
// and made again, not spin on the closed channel.
func TestFollowResubscribesAfterTheLibraryClosesTheChannel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var subscribed, notified atomic.Int32
	renewed := make(chan struct{})
	subscribe := func(ch chan int, done chan struct{}) error {
		switch subscribed.Add(1) {
		case 1:
			go func() { ch <- 1; close(ch) }() // one notification, then a failure
		case 2:
			close(renewed)
			go func() { <-done; close(ch) }() // a healthy subscription until done
		}
		return nil
	}
	if err := follow(ctx, "test", func() { notified.Add(1) }, subscribe); err != nil {
		t.Fatal(err)
	}
	select {
	case <-renewed:
	case <-time.After(5 * time.Second):
		t.Fatal("the closed subscription was not made again")
	}
	time.Sleep(50 * time.Millisecond)
	// The notification, the failure and the renewal; a spin would have
	// notified thousands of times.
	if n := notified.Load(); n < 3 || n > 10 {
		t.Errorf("notify was called %d times; want 3 (notification, failure, renewal)", n)
	}
	if n := subscribed.Load(); n != 2 {
		t.Errorf("subscribed %d times; want 2", n)
	}
}
