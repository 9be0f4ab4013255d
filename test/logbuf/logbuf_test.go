package logbuf

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestWaitReturnsOnTheWriteThatMakesItTrue(t *testing.T) {
	var b Buffer
	release := make(chan struct{})
	go func() {
		_, _ = b.Write([]byte("starting\n"))
		<-release
		_, _ = b.Write([]byte("ready\n"))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make(chan string, 1)
	go func() {
		log, err := b.Wait(ctx, func(log string) bool { return strings.Contains(log, "ready") })
		if err != nil {
			t.Error(err)
		}
		got <- log
	}()
	close(release)
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
