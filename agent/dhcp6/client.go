package dhcp6

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/agent/internal/dhcpclient"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// Defaults of the optional Config fields.
const (
	// DefaultRetry is the first delay after a failed acquisition; it
	// doubles after each failure up to DefaultMaxRetry.
	DefaultRetry = dhcpclient.DefaultRetry
	// DefaultMaxRetry caps the delay between failed acquisitions.
	DefaultMaxRetry = dhcpclient.DefaultMaxRetry
)

const (
	// msgTimeout is the first retransmission timeout of an exchange
	// (RFC 8415 SOL_TIMEOUT, REQ_TIMEOUT: 1 s); it doubles with each of
	// the msgTries transmissions (1 s, 2 s, 4 s).
	msgTimeout = time.Second
	msgTries   = 3
	// rebootWait bounds the REBIND of a remembered lease at start before
	// falling back to SOLICIT.
	rebootWait = 4 * time.Second
	// linkLocalWait bounds the wait for a usable link-local address
	// before an exchange; the acquisition is retried after it.
	linkLocalWait = 5 * time.Second
	// minExtendRetry is the floor on the interval between renew (or
	// rebind) attempts: half the time left to the next phase, at least
	// this.
	minExtendRetry = 10 * time.Second
	// infinite is the lifetime RFC 8415 calls infinite (0xffffffff s).
	infinite = dhcpclient.Infinite
	// releaseWait bounds Close(true)'s RELEASE exchange.
	releaseWait = 2 * time.Second
)

// Config configures a Client.
type Config struct {
	// Namespace is the network namespace of Link; required.
	Namespace *kernel.Namespace
	// Link is the device that gets the address; required. It need not
	// exist yet: the client keeps trying.
	Link string
	// HWAddr is the client's stable identity; required, at least 4
	// bytes. The client identifier is the DUID-LL of it, the IAID its
	// last four bytes.
	HWAddr net.HardwareAddr
	// LeaseFile is where the lease is persisted (JSON, replaced
	// atomically); optional. A client started with a lease file that
	// holds an unexpired lease for the same HWAddr asks for that address
	// again (REBIND) before falling back to SOLICIT; an expired one is
	// still hinted in the SOLICIT.
	LeaseFile string
	// Log receives the client's log; required.
	Log *zap.Logger
	// OnChange is called from the client's goroutine whenever the lease
	// is bound, renewed, rebound, re-installed on a re-created device, or
	// lost (Lease.Bound false); optional. It must not call Close, and
	// should return quickly: the timers wait for it.
	OnChange func(Lease)
	// Retry is the first delay between failed acquisitions, doubled after
	// each failure up to MaxRetry; optional (DefaultRetry).
	Retry time.Duration
	// MaxRetry caps Retry's backoff; optional (DefaultMaxRetry).
	MaxRetry time.Duration

	// Test hooks.
	linkCheck      time.Duration // the engine's default (5 s) when 0
	minExtendRetry time.Duration // minExtendRetry when 0
}

// Lease is a DHCPv6 IA_NA lease as the client holds it.
type Lease struct {
	Bound     bool         // false once the lease is lost or released
	Address   netip.Prefix // the leased address, as a /128
	DNS       []netip.Addr // name servers (option 23)
	Preferred time.Duration
	Valid     time.Duration
	T1        time.Duration // renewal time, from Acquired
	T2        time.Duration // rebinding time, from Acquired
	Acquired  time.Time     // when the message that got the REPLY was sent
	ServerID  []byte        // the server's DUID, as sent
}

// Infinite reports whether the lease never expires.
func (l Lease) Infinite() bool { return l.Valid >= infinite }

// Expiry is when the lease ends; the zero time for an infinite lease.
func (l Lease) Expiry() time.Time {
	if l.Infinite() {
		return time.Time{}
	}
	return l.Acquired.Add(l.Valid)
}

// published is a copy of l for the client's user, bound or not.
func (l Lease) published(bound bool) Lease {
	l.DNS = slices.Clone(l.DNS)
	l.ServerID = slices.Clone(l.ServerID)
	l.Bound = bound
	return l
}

// Client is a running DHCPv6 client for one device: the lease engine
// (agent/internal/dhcpclient) with DHCPv6's exchanges. Start creates it,
// Close stops it.
type Client struct {
	cfg Config
	log *zap.Logger
	e   *dhcpclient.Client[Lease]
}

// Start validates cfg and starts the client's goroutine. It returns at once
// and never waits for the network: a missing server, device, carrier or
// link-local address is not an error, the client keeps trying until Close.
// Cancelling ctx stops the client like Close(false) would, but Close must
// still be called.
func Start(ctx context.Context, cfg Config) (*Client, error) {
	c := &Client{cfg: cfg}
	c.cfg.HWAddr = slices.Clone(cfg.HWAddr)
	ecfg := dhcpclient.Config[Lease]{
		Protocol: protocol{c}, Name: "DHCPv6", MinHWAddr: 4, MaxHWAddr: 64,
		Namespace: cfg.Namespace, Link: cfg.Link, HWAddr: c.cfg.HWAddr, LeaseFile: cfg.LeaseFile, Log: cfg.Log,
		Retry: cfg.Retry, MaxRetry: cfg.MaxRetry,
		LinkCheck: cfg.linkCheck, MinExtendRetry: cfg.minExtendRetry, ReleaseWait: releaseWait,
		// The server handed the address out: RFC 8415 §18.2.10.1 leaves
		// DAD to the client, and a tentative address could not source
		// the renewals.
		AddrFlags: unix.IFA_F_NODAD,
	}
	if ecfg.MinExtendRetry <= 0 {
		ecfg.MinExtendRetry = minExtendRetry
	}
	if cfg.OnChange != nil {
		ecfg.OnChange = func(l Lease, bound bool) { cfg.OnChange(l.published(bound)) }
	}
	e, err := dhcpclient.New(ecfg)
	if err != nil {
		return nil, fmt.Errorf("dhcp6.Start: %w", err)
	}
	c.e, c.log = e, e.Log()
	e.Start(ctx)
	return c, nil
}

// Lease returns the current lease and whether it is bound.
func (c *Client) Lease() (Lease, bool) {
	l, bound := c.e.Lease()
	return l.published(bound), bound
}

// Close stops the client and waits for its goroutine; no socket stays open.
// With release it also sends a RELEASE for the lease (the current one, or
// the one loaded from the lease file if the client had not re-acquired it
// yet), removes the address from the device and deletes the lease file.
// Without release the address stays on the device with its finite lifetime,
// and the lease file stays, so that a later Start asks for the same address.
// Close is idempotent: only the first call acts, later ones return its error.
func (c *Client) Close(release bool) error { return c.e.Close(release) }

// protocol is DHCPv6 for the lease engine.
type protocol struct{ *Client }

func (p protocol) Extend(ctx context.Context, l Lease, rebind bool, deadline time.Time) (Lease, error) {
	return p.extend(ctx, l, rebind, deadline)
}

func (p protocol) Release(ctx context.Context, l Lease) error { return p.release(ctx, l) }

func (protocol) Refused(err error) bool { return errors.As(err, new(*refusedError)) }

func (protocol) Times(l Lease) dhcpclient.Times {
	return dhcpclient.Times{Address: l.Address, Acquired: l.Acquired, T1: l.T1, T2: l.T2, Valid: l.Valid,
		Preferred: l.Preferred}
}

func (protocol) Fields(l Lease) []zap.Field {
	return []zap.Field{zap.Duration("preferred", l.Preferred), zap.Duration("valid", l.Valid),
		zap.Duration("t1", l.T1), zap.Duration("t2", l.T2)}
}
