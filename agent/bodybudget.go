package agent

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Request bodies cost memory well beyond their size while they are
// parsed (the document tree, its strings, the decoded request: about 18
// times the body's size for a large one). So the bytes of the bodies being
// read and handled at once are bounded: a request with a body first takes
// its size (its Content-Length, or --max-body-bytes when it has none) from
// a budget of bodyBudgetBodies times --max-body-bytes, and gives it back
// once answered; a request that cannot have it within bodyBudgetWait gets
// 503 SERVER_BUSY with Retry-After. Requests without a body (every read)
// never wait.
const (
	bodyBudgetBodies = 4
	bodyBudgetWait   = 10 * time.Second
	// CodeServerBusy answers a request the daemon has no room for now.
	CodeServerBusy = "SERVER_BUSY"
)

// byteBudget is a weighted semaphore, first come first served.
type byteBudget struct {
	mu      sync.Mutex
	free    int64
	waiters []*budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when the bytes were given to it
}

func newByteBudget(n int64) *byteBudget { return &byteBudget{free: n} }

// acquire takes n bytes, waiting at most wait (or until ctx ends).
func (b *byteBudget) acquire(ctx context.Context, n int64, wait time.Duration) bool {
	b.mu.Lock()
	if len(b.waiters) == 0 && b.free >= n {
		b.free -= n
		b.mu.Unlock()
		return true
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-w.ready:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // given just now: give it back
		b.free += n
		b.wakeLocked()
		return false
	default:
	}
	b.waiters = slices.DeleteFunc(b.waiters, func(o *budgetWaiter) bool { return o == w })
	b.wakeLocked() // a smaller request behind it may fit now
	return false
}

// release gives n bytes back.
func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	b.wakeLocked()
}

func (b *byteBudget) wakeLocked() {
	for len(b.waiters) > 0 && b.free >= b.waiters[0].n {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.free -= w.n
		close(w.ready)
	}
}

// bodyCost is what a request's body takes from the budget: 0 without one.
func (a *Agent) bodyCost(r *http.Request) int64 {
	switch {
	case r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody:
		return 0
	case r.ContentLength > 0:
		return min(r.ContentLength, a.opts.MaxBodyBytes)
	default:
		return a.opts.MaxBodyBytes
	}
}

func serverBusy() *Fault {
	return newFault(http.StatusServiceUnavailable, CodeServerBusy, "Service unavailable",
		"too many request bodies are being handled at once; retry after the time in Retry-After")
}
