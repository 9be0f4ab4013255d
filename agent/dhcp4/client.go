package dhcp4

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"go.uber.org/zap"

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
	// msgTimeout is the first retransmission timeout of an exchange; it
	// doubles with each of the msgTries transmissions (2 s, 4 s, 8 s).
	msgTimeout = 2 * time.Second
	msgTries   = 3
	// initRebootWait bounds the INIT-REBOOT attempt before falling back
	// to DISCOVER (two transmissions).
	initRebootWait = 6 * time.Second
	// minExtendRetry is RFC 2131's floor on the interval between renew
	// (or rebind) retransmissions: half the remaining time, at least 60 s.
	minExtendRetry = 60 * time.Second
	// infiniteLease is the lease time RFC 2131 calls infinite.
	infiniteLease = dhcpclient.Infinite
	// releaseWait bounds Close(true)'s release (one datagram, no reply).
	releaseWait = 3 * time.Second
)

// Config configures a Client.
type Config struct {
	// Namespace is the network namespace of Link; required.
	Namespace *kernel.Namespace
	// Link is the device that gets the address: a NIC, bond, VLAN device
	// or bridge; required. It need not exist yet: the client keeps trying.
	Link string
	// HWAddr is the client's stable identity; required. It is the chaddr
	// of every message and, as type 1 + HWAddr, the client identifier
	// (option 61). Use the MAC the device carries, which for a bridge is
	// the MAC of its port (see "Use by the agent" in the package doc).
	HWAddr net.HardwareAddr
	// LeaseFile is where the lease is persisted (JSON, replaced
	// atomically); optional. A client started with a lease file that
	// holds an unexpired lease for the same HWAddr asks for that address
	// again (INIT-REBOOT) before falling back to DISCOVER; an expired one
	// is still asked for (requested-address option of the DISCOVER).
	LeaseFile string
	// Log receives the client's log; required.
	Log *zap.Logger
	// OnChange is called from the client's goroutine whenever the lease
	// is bound, renewed, rebound, re-installed on a re-created device, or
	// lost (Lease.Bound false: NAK or expiry); optional. It must not call
	// Close, and should return quickly: the timers wait for it.
	OnChange func(Lease)
	// OnConflict is called from the client's goroutine when it declines
	// an offered address that another host holds (conflict.go): the
	// address, the holder's hardware address and the offering server;
	// optional.
	OnConflict func(addr netip.Addr, holder net.HardwareAddr, server netip.Addr)
	// Retry is the first delay between failed acquisitions, doubled after
	// each failure up to MaxRetry; optional (DefaultRetry).
	Retry time.Duration
	// MaxRetry caps Retry's backoff; optional (DefaultMaxRetry).
	MaxRetry time.Duration

	// Test hooks.
	linkCheck      time.Duration // the engine's default (5 s) when 0
	minExtendRetry time.Duration // minExtendRetry when 0
	declineWait    time.Duration // declineWait when 0
}

// Lease is a DHCPv4 lease as the client holds it.
type Lease struct {
	Bound   bool         // false once the lease is lost or released
	Address netip.Prefix // the leased address and the subnet's prefix length
	// Router is the default gateway: the first router of option 3, or the
	// default route of option 121, which replaces option 3 when present
	// (RFC 3442); invalid when none.
	Router netip.Addr
	// Routes are option 121's classless static routes other than the
	// default route.
	Routes    []Route
	DNS       []netip.Addr // name servers (option 6)
	LeaseTime time.Duration
	T1        time.Duration // renewal time, from Acquired
	T2        time.Duration // rebinding time, from Acquired
	Acquired  time.Time     // when the REQUEST that got the ACK was sent
	ServerID  netip.Addr    // the server identifier (option 54)
}

// Route is a classless static route (RFC 3442).
type Route struct {
	Dst netip.Prefix `json:"dst"`
	// Router is invalid for a route on the link itself (router 0.0.0.0).
	Router netip.Addr `json:"router,omitzero"`
}

// Infinite reports whether the lease never expires.
func (l Lease) Infinite() bool { return l.LeaseTime >= infiniteLease }

// Expiry is when the lease ends; the zero time for an infinite lease.
func (l Lease) Expiry() time.Time {
	if l.Infinite() {
		return time.Time{}
	}
	return l.Acquired.Add(l.LeaseTime)
}

// published is a copy of l for the client's user, bound or not.
func (l Lease) published(bound bool) Lease {
	l.DNS, l.Routes = slices.Clone(l.DNS), slices.Clone(l.Routes)
	l.Bound = bound
	return l
}

// Client is a running DHCPv4 client for one device: the lease engine
// (agent/internal/dhcpclient) with DHCPv4's exchanges. Start creates it,
// Close stops it.
type Client struct {
	cfg Config
	log *zap.Logger
	e   *dhcpclient.Client[Lease]
}

// Start validates cfg and starts the client's goroutine. It returns at once
// and never waits for the network: a missing server, device or carrier is
// not an error, the client keeps trying until Close. Cancelling ctx stops the
// client like Close(false) would, but Close must still be called.
func Start(ctx context.Context, cfg Config) (*Client, error) {
	c := &Client{cfg: cfg}
	c.cfg.HWAddr = slices.Clone(cfg.HWAddr)
	ecfg := dhcpclient.Config[Lease]{
		Protocol: protocol{c}, Name: "DHCPv4", MinHWAddr: 1, MaxHWAddr: 16,
		Namespace: cfg.Namespace, Link: cfg.Link, HWAddr: c.cfg.HWAddr, LeaseFile: cfg.LeaseFile, Log: cfg.Log,
		Retry: cfg.Retry, MaxRetry: cfg.MaxRetry,
		LinkCheck: cfg.linkCheck, MinExtendRetry: cfg.minExtendRetry, ReleaseWait: releaseWait,
	}
	if ecfg.MinExtendRetry <= 0 {
		ecfg.MinExtendRetry = minExtendRetry
	}
	if cfg.OnChange != nil {
		ecfg.OnChange = func(l Lease, bound bool) { cfg.OnChange(l.published(bound)) }
	}
	e, err := dhcpclient.New(ecfg)
	if err != nil {
		return nil, fmt.Errorf("dhcp4.Start: %w", err)
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
// With release it also sends a DHCPRELEASE for the lease (the current one,
// or the one loaded from the lease file if the client had not re-acquired it
// yet), removes the address from the device and deletes the lease file.
// Without release the address stays on the device with its finite lifetime,
// and the lease file stays, so that a later Start asks for the same address.
// Close is idempotent: only the first call acts, later ones return its error.
func (c *Client) Close(release bool) error { return c.e.Close(release) }

// protocol is DHCPv4 for the lease engine.
type protocol struct{ *Client }

func (p protocol) Extend(ctx context.Context, l Lease, rebind bool, deadline time.Time) (Lease, error) {
	return p.extend(ctx, l, rebind, deadline)
}

func (p protocol) Release(ctx context.Context, l Lease) error { return p.release(ctx, l) }

func (protocol) Refused(err error) bool { return errors.As(err, new(*nakError)) }

func (protocol) Times(l Lease) dhcpclient.Times {
	// The address is preferred as long as it is valid.
	return dhcpclient.Times{Address: l.Address, Acquired: l.Acquired, T1: l.T1, T2: l.T2, Valid: l.LeaseTime,
		Preferred: dhcpclient.Infinite}
}

func (protocol) Fields(l Lease) []zap.Field {
	return []zap.Field{zap.Stringer("router", l.Router), zap.Int("static_routes", len(l.Routes)), zap.Duration("lease", l.LeaseTime), zap.Stringer("server", l.ServerID)}
}
