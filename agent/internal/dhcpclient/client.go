package dhcpclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
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
	// defaultLinkCheck is how often a bound client checks that its
	// address is still on the device and the device is the same one.
	defaultLinkCheck = 5 * time.Second
)

// Config configures a Client. The fields the protocols' Configs share mean
// what they say there.
type Config[L any] struct {
	Protocol Protocol[L] // required
	// Name is the protocol in the log ("DHCPv4"); required.
	Name string
	// MinHWAddr and MaxHWAddr bound the length of HWAddr.
	MinHWAddr, MaxHWAddr int

	Namespace *kernel.Namespace
	Link      string
	HWAddr    net.HardwareAddr // kept as it is: the caller must not change it
	LeaseFile string
	Log       *zap.Logger
	// OnChange hears a lease with whether it is bound.
	OnChange func(l L, bound bool)
	Retry    time.Duration
	MaxRetry time.Duration

	// LinkCheck is how often a bound client checks its device;
	// defaultLinkCheck when 0.
	LinkCheck time.Duration
	// MinExtendRetry is the floor on the interval between renew (or
	// rebind) attempts; required.
	MinExtendRetry time.Duration
	// ReleaseWait bounds Close(true)'s release; required.
	ReleaseWait time.Duration
	// AddrFlags are the IFA_F_ flags of the installed address.
	AddrFlags int
}

// Client is the engine of a running client for one device. New creates it,
// Start starts it, Close stops it.
type Client[L any] struct {
	cfg    Config[L]
	proto  Protocol[L]
	log    *zap.Logger
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	lease L    // the current lease
	bound bool // whether lease is bound; false once it is lost or released
	// stored is the lease loaded from LeaseFile at start, for Close(true)
	// of a client that has not re-acquired it yet.
	stored *L

	closeOnce sync.Once
	closeErr  error
}

// New validates cfg and fills in its defaults. Start starts the client.
func New[L any](cfg Config[L]) (*Client[L], error) {
	switch {
	case cfg.Namespace == nil:
		return nil, errors.New("a namespace is required")
	case cfg.Link == "":
		return nil, errors.New("a link is required")
	case len(cfg.HWAddr) == 0:
		return nil, errors.New("a hardware address is required")
	case len(cfg.HWAddr) < cfg.MinHWAddr:
		return nil, fmt.Errorf("hardware address %q is too short", cfg.HWAddr)
	case len(cfg.HWAddr) > cfg.MaxHWAddr:
		return nil, fmt.Errorf("hardware address %s is too long", cfg.HWAddr)
	case cfg.Log == nil:
		return nil, errors.New("a logger is required")
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
	if cfg.LinkCheck <= 0 {
		cfg.LinkCheck = defaultLinkCheck
	}
	return &Client[L]{
		cfg:   cfg,
		proto: cfg.Protocol,
		log:   cfg.Log.With(zap.String("link", cfg.Link), zap.Stringer("hwaddr", cfg.HWAddr)),
		done:  make(chan struct{}),
	}, nil
}

// Log is the client's logger, with the link and the hardware address.
func (c *Client[L]) Log() *zap.Logger { return c.log }

// Start starts the client's goroutine. It returns at once and never waits
// for the network. Cancelling ctx stops the client like Close(false) would,
// but Close must still be called.
func (c *Client[L]) Start(ctx context.Context) {
	ctx, c.cancel = context.WithCancel(ctx)
	go c.run(ctx)
}

// Lease returns the current lease and whether it is bound.
func (c *Client[L]) Lease() (L, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lease, c.bound
}

// Close stops the client and waits for its goroutine. With release it also
// releases the lease (the current one, or the one loaded from the lease
// file if the client had not re-acquired it yet), removes the address from
// the device and deletes the lease file. Close is idempotent: only the
// first call acts, later ones return its error.
func (c *Client[L]) Close(release bool) error {
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
type binding[L any] struct {
	lease L
	Times
	ifindex int       // the device the address was installed on; 0 when not installed
	nextTry time.Time // the next renew or rebind attempt
}

func (c *Client[L]) binding(l L) *binding[L] {
	return &binding[L]{lease: l, Times: c.proto.Times(l)}
}

func (c *Client[L]) run(ctx context.Context) {
	defer close(c.done)
	hint := c.loadStored()
	var cur *binding[L]
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
				c.log.Info("no "+c.cfg.Name+" lease yet; trying again", zap.Error(err), zap.Duration("in", delay))
				backoff = min(2*backoff, c.cfg.MaxRetry)
				c.wait(ctx, time.Now().Add(delay), nil)
				continue
			}
			backoff = c.cfg.Retry
			cur = c.binding(l)
			var old *binding[L]
			if hint != nil {
				// The remembered address may still be on the device
				// (Close(false) leaves it); a new one replaces it.
				old = c.binding(*hint)
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
			c.log.Warn(c.cfg.Name+" lease expired", zap.Stringer("address", cur.Address))
			c.lose(cur)
			hint = &cur.lease
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
		l, err := c.proto.Extend(ctx, cur.lease, rebind, deadline)
		switch {
		case err == nil:
			old := cur
			cur = c.binding(l)
			if rebind {
				c.bind(cur, old, "rebound")
			} else {
				c.bind(cur, old, "renewed")
			}
		case ctx.Err() != nil:
			return
		case c.proto.Refused(err):
			c.log.Warn(c.cfg.Name+" server refused the lease; starting over", zap.Stringer("address", cur.Address), zap.Error(err))
			c.lose(cur)
			c.removeLeaseFile()
			hint = nil
			cur = nil
		default:
			// Wait half the time left before the next phase (rebind,
			// expiry), at least MinExtendRetry (RFC 2131 §4.4.5: a
			// minute), before trying again. Capped at the deadline, so
			// that the next phase starts on time.
			now := time.Now()
			cur.nextTry = minTime(now.Add(max(deadline.Sub(now)/2, c.cfg.MinExtendRetry)), deadline)
			phase := "renew"
			if rebind {
				phase = "rebind"
			}
			c.log.Info(c.cfg.Name+" "+phase+" got no answer", zap.Stringer("address", cur.Address), zap.Error(err),
				zap.Time("next", cur.nextTry))
		}
	}
}

// acquire gets a lease from nothing: it asks again for hint, the remembered
// lease, if it is unexpired, then gets a new one (asking for hint's
// address, if any). refused reports that the server refused hint: the
// caller must forget it.
func (c *Client[L]) acquire(ctx context.Context, hint *L) (l L, refused bool, err error) {
	s, err := c.proto.Open(ctx)
	if err != nil {
		return l, false, err
	}
	defer s.Close()

	if hint != nil && c.proto.Times(*hint).alive() {
		addr := c.proto.Times(*hint).Address
		rl, err := s.Reboot(ctx, *hint)
		switch {
		case err == nil:
			return rl, false, nil
		case ctx.Err() != nil:
			return l, false, ctx.Err()
		case c.proto.Refused(err):
			// Forget it: off the device (a restart may have left it
			// there), out of the lease file, not to be released.
			c.log.Info("the "+c.cfg.Name+" server refused the remembered address", zap.Stringer("address", addr),
				zap.Error(err))
			c.removeAddress(addr)
			c.removeLeaseFile()
			c.mu.Lock()
			c.stored = nil
			c.mu.Unlock()
			hint, refused = nil, true
		default:
			c.log.Info("no answer for the remembered "+c.cfg.Name+" address; asking for a new one", zap.Stringer("address", addr),
				zap.Error(err))
		}
	}
	l, forget, err := s.Discover(ctx, hint)
	return l, refused || forget, err
}

// bind installs and publishes a new or extended lease. old is the lease it
// replaces, nil for a fresh one.
func (c *Client[L]) bind(cur, old *binding[L], what string) {
	if old != nil && old.Address != cur.Address {
		c.removeAddress(old.Address)
	}
	c.log.Info(c.cfg.Name+" lease "+what, append([]zap.Field{zap.Stringer("address", cur.Address)},
		c.proto.Fields(cur.lease)...)...)
	c.mu.Lock()
	c.lease, c.bound = cur.lease, true
	c.stored = nil
	c.mu.Unlock()
	if err := c.saveLease(cur.lease); err != nil {
		c.log.Warn("persisting the "+c.cfg.Name+" lease failed", zap.Error(err))
	}
	c.install(cur)
}

// lose drops a lease: the address goes, OnChange hears it unbound.
func (c *Client[L]) lose(cur *binding[L]) {
	c.removeAddress(cur.Address)
	c.mu.Lock()
	c.lease, c.bound = cur.lease, false
	c.mu.Unlock()
	c.notify(cur.lease, false)
}

func (c *Client[L]) notify(l L, bound bool) {
	if c.cfg.OnChange != nil {
		c.cfg.OnChange(l, bound)
	}
}

// wait sleeps until t (forever when t is zero) or ctx ends. With a bound
// lease it checks the device every LinkCheck meanwhile.
func (c *Client[L]) wait(ctx context.Context, t time.Time, cur *binding[L]) {
	var until <-chan time.Time
	if !t.IsZero() {
		timer := time.NewTimer(time.Until(t))
		defer timer.Stop()
		until = timer.C
	}
	var tick <-chan time.Time
	if cur != nil {
		ticker := time.NewTicker(c.cfg.LinkCheck)
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
func (c *Client[L]) checkLink(cur *binding[L]) {
	idx, err := c.cfg.Namespace.LinkIndex(c.cfg.Link)
	if err != nil {
		if cur.ifindex != 0 {
			c.log.Warn("the "+c.cfg.Name+" device is gone; waiting for it", zap.Error(err))
			cur.ifindex = 0
		}
		return
	}
	if idx == cur.ifindex && c.hasAddress(cur.Address) {
		return
	}
	if cur.ifindex != 0 && idx != cur.ifindex {
		c.log.Info("the "+c.cfg.Name+" device was re-created; re-installing the address", zap.Int("ifindex", idx))
	} else if cur.ifindex != 0 {
		c.log.Info("the "+c.cfg.Name+" address was removed; re-installing it", zap.Stringer("address", cur.Address))
	}
	c.install(cur)
}

// install puts cur's address on the device and, once it is there,
// publishes the lease; on failure, the next link check tries again.
func (c *Client[L]) install(cur *binding[L]) {
	idx, err := c.installAddress(cur.Times)
	if err != nil {
		c.log.Warn("installing the "+c.cfg.Name+" address failed; will retry", zap.Stringer("address", cur.Address),
			zap.Error(err))
		cur.ifindex = 0
		return
	}
	cur.ifindex = idx
	c.notify(cur.lease, true)
}

// releaseAndRemove is Close(true)'s work, after the goroutine has stopped.
func (c *Client[L]) releaseAndRemove() error {
	c.mu.Lock()
	l := c.lease
	if !c.bound && c.stored != nil && c.proto.Times(*c.stored).alive() {
		l = *c.stored
	}
	c.bound = false
	c.mu.Unlock()
	var errs []error
	if t := c.proto.Times(l); t.Address.IsValid() && t.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ReleaseWait)
		err := c.proto.Release(ctx, l)
		cancel()
		if err != nil {
			errs = append(errs, err)
		} else {
			c.log.Info(c.cfg.Name+" lease released", zap.Stringer("address", t.Address))
		}
		if err := c.removeAddress(t.Address); err != nil {
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
