package agent

import (
	"context"
	"math"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"time"
)

// The cost of authentication is bounded before it is paid. A password
// check is a bcrypt comparison, tens of milliseconds of CPU on purpose:
// an unauthenticated client could make the daemon spend its cores on them.
// So
//
//   - failed authentications (a bad password, an unknown bearer token) are
//     counted per client network (IPv4 /24, IPv6 /64, all of loopback as
//     one), failBurst at once, refilled at failRate per second; a network
//     over its budget gets 429 without its password being checked, and a
//     bad token from it 429 instead of 401. A client with valid
//     credentials never consults the budget, so failures of others
//     cannot lock it out, except from a password login;
//   - at most bcryptSlots password checks run at once (half the CPUs);
//     a login that waits bcryptWait for one gets 503.
const (
	failRate   = 0.5 // failed authentications per second per network, sustained
	failBurst  = 10
	bcryptWait = 5 * time.Second
)

// failureBudget is the per-network budget of failed authentications.
func newFailureBudget() *rateLimiter { return newRateLimiter(failRate, failBurst) }

// clientNet is the network a client address is counted in.
func clientNet(r *http.Request) string {
	ip, err := netip.ParseAddr(clientAddr(r))
	if err != nil {
		return clientAddr(r)
	}
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.Is4():
		return netip.PrefixFrom(ip, 24).Masked().String()
	default:
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
}

// failuresLeft reports whether the client's network may fail once more,
// and if not, how long until it may; it takes nothing from the budget.
func (c *access) failuresLeft(r *http.Request, now time.Time) (time.Duration, bool) {
	return c.failures.peek(clientNet(r), now)
}

// failed counts a failed authentication of the client's network.
func (c *access) failed(r *http.Request, now time.Time) {
	c.failures.allow(clientNet(r), now)
}

// bcryptSlot takes one of the password-check slots, waiting at most
// bcryptWait; the function it returns gives it back.
func (c *access) bcryptSlot(ctx context.Context) (func(), bool) {
	t := time.NewTimer(bcryptWait)
	defer t.Stop()
	select {
	case c.bcrypt <- struct{}{}:
		return func() { <-c.bcrypt }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

func bcryptSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// retryAfter is the Retry-After value for a wait.
func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}
