package logbuf

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestWaitReturnsOnTheWriteThatMakesItTrue(t *testing.T) {
	var b Buffer
	_, _ = b.Write([]byte("starting\n"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// looked is closed when Wait has looked once and found no "ready":
	// the write after it is the one Wait must wake on.
	looked := make(chan struct{})
	got := make(chan string, 1)
	go func() {
		log, err := b.Wait(ctx, func(log string) bool {
			if strings.Contains(log, "ready") {
				return true
			}
			select {
			case <-looked:
			default:
				close(looked)
			}
			return false
		})
		if err != nil {
			t.Error(err)
		}
		got <- log
	}()
	<-looked
	_, _ = b.Write([]byte("ready\n"))
	if log := <-got; log != "starting\nready\n" {
		t.Errorf("Wait returned %q", log)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	var b Buffer
	_, _ = b.Write([]byte("starting\n"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	log, err := b.Wait(ctx, func(log string) bool { return strings.Contains(log, "ready") })
	if err != context.Canceled || log != "starting\n" {
		t.Errorf("Wait = %q, %v; want what was written and context.Canceled", log, err)
	}
}
