package agent

import (
	"math"
	"sync"
	"time"
)

// Rate limiting of TCP clients, by address.
const (
	DefaultRateLimit = 20 // requests per second, sustained
	DefaultRateBurst = 40
	// maxBuckets bounds the memory of the limiter; past it, the buckets of
	// clients idle long enough to be full again are dropped.
	maxBuckets = 10000
)

// rateLimiter is a token bucket per client: each holds up to burst
// requests and refills at rate per second.
type rateLimiter struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// newRateLimiter returns nil (no limit) for a rate <= 0.
func newRateLimiter(rate float64, burst int) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &rateLimiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a request from client's bucket. When it is empty it says how
// long until the next request is allowed.
func (l *rateLimiter) allow(client string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[client]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[client] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
}

// pruneLocked drops the buckets that have refilled: forgetting them
// changes nothing.
func (l *rateLimiter) pruneLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// peek is allow without taking a request from the bucket.
func (l *rateLimiter) peek(client string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[client]
	if b == nil {
		return 0, true
	}
	tokens := math.Min(l.burst, b.tokens+math.Max(0, now.Sub(b.last).Seconds())*l.rate)
	if tokens >= 1 {
		return 0, true
	}
	return time.Duration((1 - tokens) / l.rate * float64(time.Second)), false
}
