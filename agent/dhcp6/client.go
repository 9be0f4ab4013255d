package dhcp6

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// Defaults of the optional Config fields.
const (
	// DefaultRetry is the first delay after a failed acquisition; it
	// doubles after each failure up to DefaultMaxRetry.
	DefaultRetry = 3 * time.Second
	// DefaultMaxRetry caps the delay between failed acquisitions.
	DefaultMaxRetry = 60 * time.Second
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
	// defaultLinkCheck is how often a bound client checks that its
	// address is still on the device and the device is the same one.
	defaultLinkCheck = 5 * time.Second
	// infinite is the lifetime RFC 8415 calls infinite (0xffffffff s).
	infinite = 0xffffffff * time.Second
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
	linkCheck      time.Duration // defaultLinkCheck when 0
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

func (l Lease) alive() bool { return l.Infinite() || time.Now().Before(l.Expiry()) }

func (l Lease) clone() Lease {
	l.DNS = slices.Clone(l.DNS)
	l.ServerID = slices.Clone(l.ServerID)
	return l
}

// Client is a running DHCPv6 client for one device. Start creates it, Close
// stops it.
type Client struct {
	cfg    Config
	log    *zap.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	lease Lease // the current lease; Bound false when none
	// stored is the lease loaded from LeaseFile at start, for Close(true)
	// of a client that has not re-acquired it yet.
	stored *Lease

	closeOnce sync.Once
	closeErr  error
}

// Start validates cfg and starts the client's goroutine. It returns at once
// and never waits for the network: a missing server, device, carrier or
// link-local address is not an error, the client keeps trying until Close.
// Cancelling ctx stops the client like Close(false) would, but Close must
// still be called.
func Start(ctx context.Context, cfg Config) (*Client, error) {
	switch {
	case cfg.Namespace == nil || cfg.Namespace.Handle == nil:
		return nil, errors.New("dhcp6.Start: a namespace is required")
	case cfg.Link == "":
		return nil, errors.New("dhcp6.Start: a link is required")
	case len(cfg.HWAddr) < 4:
		return nil, fmt.Errorf("dhcp6.Start: hardware address %q is too short", cfg.HWAddr)
	case len(cfg.HWAddr) > 64:
		return nil, fmt.Errorf("dhcp6.Start: hardware address %s is too long", cfg.HWAddr)
	case cfg.Log == nil:
		return nil, errors.New("dhcp6.Start: a logger is required")
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.MaxRetry <= 0 {
		cfg.MaxRetry = DefaultMaxRetry
	}
	if cfg.MaxRetry < cfg.Retry {
		cfg.MaxRetry = cfg.Retry
	}
	if cfg.linkCheck <= 0 {
		cfg.linkCheck = defaultLinkCheck
	}
	if cfg.minExtendRetry <= 0 {
		cfg.minExtendRetry = minExtendRetry
	}
	cfg.HWAddr = slices.Clone(cfg.HWAddr)
	ctx, cancel := context.WithCancel(ctx)
	c := &Client{
		cfg:    cfg,
		log:    cfg.Log.With(zap.String("link", cfg.Link), zap.Stringer("hwaddr", cfg.HWAddr)),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go c.run(ctx)
	return c, nil
}

// Lease returns the current lease and whether it is bound.
func (c *Client) Lease() (Lease, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lease.clone(), c.lease.Bound
}

// Close stops the client and waits for its goroutine; no socket stays open.
// With release it also sends a RELEASE for the lease (the current one, or
// the one loaded from the lease file if the client had not re-acquired it
// yet), removes the address from the device and deletes the lease file.
// Without release the address stays on the device with its finite lifetime,
// and the lease file stays, so that a later Start asks for the same address.
// Close is idempotent: only the first call acts, later ones return its error.
func (c *Client) Close(release bool) error {
	c.closeOnce.Do(func() {
		c.cancel()
		<-c.done
		if release {
			c.closeErr = c.releaseAndRemove()
		}
	})
	return c.closeErr
}

// binding is the run loop's state for a bound lease.
type binding struct {
	Lease
	ifindex int       // the device the address was installed on; 0 when not installed
	nextTry time.Time // the next renew or rebind attempt
}

func (b *binding) t1() time.Time { return b.Acquired.Add(b.T1) }
func (b *binding) t2() time.Time { return b.Acquired.Add(b.T2) }

func (c *Client) run(ctx context.Context) {
	defer close(c.done)
	hint := c.loadStored()
	var cur *binding
	backoff := c.cfg.Retry
	for ctx.Err() == nil {
		if cur == nil {
			l, refused, err := c.acquire(ctx, hint)
			if refused {
				hint = nil
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				delay := jitter(backoff)
				c.log.Info("no DHCPv6 lease yet; trying again", zap.Error(err), zap.Duration("in", delay))
				backoff = min(2*backoff, c.cfg.MaxRetry)
				c.wait(ctx, time.Now().Add(delay), nil)
				continue
			}
			backoff = c.cfg.Retry
			cur = &binding{Lease: l}
			var old *binding
			if hint != nil {
				// The remembered address may still be on the device
				// (Close(false) leaves it); a new one replaces it.
				old = &binding{Lease: *hint}
			}
			c.bind(cur, old, "bound")
			continue
		}
		if cur.Infinite() {
			c.wait(ctx, time.Time{}, cur)
			continue
		}
		now := time.Now()
		expiry := cur.Expiry()
		var (
			rebind   bool
			deadline time.Time
		)
		switch {
		case !now.Before(expiry):
			c.log.Warn("DHCPv6 lease expired", zap.Stringer("address", cur.Address))
			c.lose(cur)
			hint = &cur.Lease
			cur = nil
			continue
		case !now.Before(cur.t2()):
			rebind, deadline = true, expiry
		case !now.Before(cur.t1()):
			deadline = cur.t2()
		default:
			c.wait(ctx, cur.t1(), cur)
			continue
		}
		if now.Before(cur.nextTry) {
			c.wait(ctx, cur.nextTry, cur)
			continue
		}
		l, err := c.extend(ctx, cur.Lease, rebind, deadline)
		switch {
		case err == nil:
			old := cur
			cur = &binding{Lease: l}
			if rebind {
				c.bind(cur, old, "rebound")
			} else {
				c.bind(cur, old, "renewed")
			}
		case ctx.Err() != nil:
			return
		case errors.As(err, new(*refusedError)):
			c.log.Warn("DHCPv6 server refused the lease; starting over", zap.Stringer("address", cur.Address), zap.Error(err))
			c.lose(cur)
			c.removeLeaseFile()
			hint = nil
			cur = nil
		default:
			// Half the time left before the next phase (rebind,
			// expiry), at least minExtendRetry, capped at the deadline
			// so that the next phase starts on time.
			now := time.Now()
			cur.nextTry = minTime(now.Add(max(deadline.Sub(now)/2, c.cfg.minExtendRetry)), deadline)
			phase := "renew"
			if rebind {
				phase = "rebind"
			}
			c.log.Info("DHCPv6 "+phase+" got no answer", zap.Stringer("address", cur.Address), zap.Error(err),
				zap.Time("next", cur.nextTry))
		}
	}
}

// bind installs and publishes a new or extended lease. old is the lease it
// replaces, nil for a fresh one.
func (c *Client) bind(cur, old *binding, what string) {
	if old != nil && old.Address != cur.Address {
		c.removeAddress(old.Address)
	}
	c.log.Info("DHCPv6 lease "+what, zap.Stringer("address", cur.Address), zap.Duration("preferred", cur.Preferred),
		zap.Duration("valid", cur.Valid), zap.Duration("t1", cur.T1), zap.Duration("t2", cur.T2))
	c.mu.Lock()
	c.lease = cur.clone()
	c.stored = nil
	c.mu.Unlock()
	if err := c.saveLease(cur.Lease); err != nil {
		c.log.Warn("persisting the DHCPv6 lease failed", zap.Error(err))
	}
	idx, err := c.installAddress(cur.Lease)
	if err != nil {
		c.log.Warn("installing the DHCPv6 address failed; will retry", zap.Stringer("address", cur.Address), zap.Error(err))
		cur.ifindex = 0
		return
	}
	cur.ifindex = idx
	c.notify(cur.Lease)
}

// lose drops a lease: the address goes, OnChange hears Bound false.
func (c *Client) lose(cur *binding) {
	c.removeAddress(cur.Address)
	lost := cur.clone()
	lost.Bound = false
	c.mu.Lock()
	c.lease = lost.clone()
	c.mu.Unlock()
	c.notify(lost)
}

func (c *Client) notify(l Lease) {
	if c.cfg.OnChange != nil {
		c.cfg.OnChange(l.clone())
	}
}

// wait sleeps until t (forever when t is zero) or ctx ends. With a bound
// lease it checks the device every linkCheck meanwhile.
func (c *Client) wait(ctx context.Context, t time.Time, cur *binding) {
	var until <-chan time.Time
	if !t.IsZero() {
		timer := time.NewTimer(time.Until(t))
		defer timer.Stop()
		until = timer.C
	}
	var tick <-chan time.Time
	if cur != nil {
		ticker := time.NewTicker(c.cfg.linkCheck)
		defer ticker.Stop()
		tick = ticker.C
		c.checkLink(cur) // a pending install is retried at once
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-until:
			return
		case <-tick:
			c.checkLink(cur)
		}
	}
}

// checkLink re-installs the address when the device was re-created (new
// ifindex) or the address was removed behind the client's back.
func (c *Client) checkLink(cur *binding) {
	link, err := c.cfg.Namespace.Handle.LinkByName(c.cfg.Link)
	if err != nil {
		if cur.ifindex != 0 {
			c.log.Warn("the DHCPv6 device is gone; waiting for it", zap.Error(err))
			cur.ifindex = 0
		}
		return
	}
	idx := link.Attrs().Index
	if idx == cur.ifindex && c.hasAddress(link, cur.Address) {
		return
	}
	if cur.ifindex != 0 && idx != cur.ifindex {
		c.log.Info("the DHCPv6 device was re-created; re-installing the address", zap.Int("ifindex", idx))
	} else if cur.ifindex != 0 {
		c.log.Info("the DHCPv6 address was removed; re-installing it", zap.Stringer("address", cur.Address))
	}
	idx, err = c.installAddress(cur.Lease)
	if err != nil {
		c.log.Warn("installing the DHCPv6 address failed; will retry", zap.Stringer("address", cur.Address), zap.Error(err))
		cur.ifindex = 0
		return
	}
	cur.ifindex = idx
	c.notify(cur.Lease)
}

// releaseAndRemove is Close(true)'s work, after the goroutine has stopped.
func (c *Client) releaseAndRemove() error {
	c.mu.Lock()
	l := c.lease.clone()
	if !l.Bound && c.stored != nil && c.stored.alive() {
		l = c.stored.clone()
	}
	c.lease.Bound = false
	c.mu.Unlock()
	var errs []error
	if l.Address.IsValid() && l.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), releaseWait)
		err := c.release(ctx, l)
		cancel()
		if err != nil {
			errs = append(errs, err)
		} else {
			c.log.Info("DHCPv6 lease released", zap.Stringer("address", l.Address))
		}
		if err := c.removeAddress(l.Address); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.removeLeaseFile(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func jitter(d time.Duration) time.Duration {
	// ±10 %, so that clients started together do not stay in step.
	return d - d/10 + rand.N(d/5+1)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
