// Package dhcpclient is the lease engine that the DHCPv4 client
// (agent/dhcp4) and the DHCPv6 client (agent/dhcp6) share. It owns the life
// of one leased address on one device of one network namespace: acquiring a
// lease with backoff and jitter (asking first for a lease remembered in the
// lease file), binding it (the address installed with the lease's
// lifetimes, the lease persisted), renewing at T1, rebinding at T2, dropping
// it at expiry or when the server refuses it, checking the device while
// bound, and releasing on Close(true).
//
// What a lease holds and how it is got from a server are the protocol's: a
// Protocol does the exchanges and tells the engine a lease's address and
// times. The engine's goroutine is the only caller of a Protocol, but for
// Release, which Close calls after that goroutine ended.
package dhcpclient

import (
	"context"
	"net/netip"
	"time"

	"go.uber.org/zap"
)

// Infinite is the lifetime RFC 2131 and RFC 8415 call infinite
// (0xffffffff s).
const Infinite = 0xffffffff * time.Second

// Protocol is one DHCP protocol's part of a client, for leases of type L.
type Protocol[L any] interface {
	// Open opens what one acquisition talks through.
	Open(ctx context.Context) (Session[L], error)
	// Extend renews l (with the server that granted it) or, with rebind,
	// rebinds it (with any server), giving up at deadline.
	Extend(ctx context.Context, l L, rebind bool, deadline time.Time) (L, error)
	// Release gives l back to its server.
	Release(ctx context.Context, l L) error
	// Refused reports whether err, from Session.Reboot or Extend, is the
	// server refusing the lease: the client must forget it.
	Refused(err error) bool
	// Times is l's address and timers.
	Times(l L) Times
	// Fields describe l in the log line of a binding (after its address).
	Fields(l L) []zap.Field
	// EncodeFile is the lease file's form of l, marshalled as JSON;
	// hwaddr and link name the client it belongs to.
	EncodeFile(l L, hwaddr, link string) any
	// DecodeFile parses a lease file (err: it is not one). It returns the
	// hardware address the lease belongs to, and ok false when the file
	// holds no usable lease of this protocol (another family, no lifetime).
	DecodeFile(data []byte) (l L, hwaddr string, ok bool, err error)
}

// Session is one acquisition's socket.
type Session[L any] interface {
	// Reboot asks again for hint, an unexpired remembered lease.
	Reboot(ctx context.Context, hint L) (L, error)
	// Discover gets a lease from nothing, asking for hint's address when
	// hint is not nil. forget reports a refusal that means hint must be
	// forgotten too.
	Discover(ctx context.Context, hint *L) (l L, forget bool, err error)
	Close() error
}

// Times is what the engine needs to know of a lease.
type Times struct {
	Address  netip.Prefix  // the leased address
	Acquired time.Time     // when the message that got the lease was sent
	T1       time.Duration // renewal time, from Acquired
	T2       time.Duration // rebinding time, from Acquired
	// Valid is the lease's length, from Acquired; Infinite or more: the
	// lease never ends.
	Valid time.Duration
	// Preferred is how long the address stays preferred, from Acquired;
	// Infinite or more: as long as it is valid.
	Preferred time.Duration
}

// Infinite reports whether the lease never expires.
func (t Times) Infinite() bool { return t.Valid >= Infinite }

// Expiry is when the lease ends; the zero time for an infinite lease.
func (t Times) Expiry() time.Time {
	if t.Infinite() {
		return time.Time{}
	}
	return t.Acquired.Add(t.Valid)
}

func (t Times) alive() bool { return t.Infinite() || time.Now().Before(t.Expiry()) }

func (t Times) t1() time.Time { return t.Acquired.Add(t.T1) }
func (t Times) t2() time.Time { return t.Acquired.Add(t.T2) }
