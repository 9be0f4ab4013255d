package dhcp4

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/agent/internal/dhcpclient"
)

// nakError is a DHCPNAK from the server.
type nakError struct {
	msg string
}

func (e *nakError) Error() string {
	if e.msg != "" {
		return "the server answered DHCPNAK: " + e.msg
	}
	return "the server answered DHCPNAK"
}

func nak(m *dhcpv4.DHCPv4) error { return &nakError{msg: m.Message()} }

// requestedOptions are the parameters the client asks for (option 55).
var requestedOptions = []dhcpv4.OptionCode{
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionClasslessStaticRoute, // before the router, as RFC 3442 §3 asks
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionDomainName,
	dhcpv4.OptionIPAddressLeaseTime,
	dhcpv4.OptionRenewTimeValue,
	dhcpv4.OptionRebindingTimeValue,
}

// clientID is option 61: hardware type 1 (Ethernet) and the hardware address.
func (c *Client) clientID() []byte {
	return append([]byte{byte(1)}, c.cfg.HWAddr...)
}

// common are the modifiers of every message the client sends.
func (c *Client) common() []dhcpv4.Modifier {
	return []dhcpv4.Modifier{
		dhcpv4.WithHwAddr(c.cfg.HWAddr),
		dhcpv4.WithOption(dhcpv4.OptClientIdentifier(c.clientID())),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(nclient4.MaxMessageSize)),
		dhcpv4.WithRequestedOptions(requestedOptions...),
	}
}

// Open opens an acquisition's socket: INIT-REBOOT for an unexpired
// remembered lease, then DISCOVER (asking for the remembered address, if
// any).
//
// The client has no address yet, so it talks through a raw socket. It sets
// the broadcast flag, so that the answers reach it even when the device's
// MAC is not HWAddr.
func (p protocol) Open(context.Context) (dhcpclient.Session[Lease], error) {
	nc, err := p.rawClient()
	if err != nil {
		return nil, err
	}
	return &session{c: p.Client, nc: nc, mods: append(p.common(), dhcpv4.WithBroadcast(true))}, nil
}

// session is one acquisition's raw socket.
type session struct {
	c    *Client
	nc   *nclient4.Client
	mods []dhcpv4.Modifier
}

func (s *session) Close() error { return s.nc.Close() }

func (s *session) Reboot(ctx context.Context, hint Lease) (Lease, error) {
	return s.c.initReboot(ctx, s.nc, hint.Address.Addr(), s.mods)
}

// Discover is DISCOVER, OFFER, REQUEST, ACK. A NAK of the offered address
// forgets hint too.
func (s *session) Discover(ctx context.Context, hint *Lease) (Lease, bool, error) {
	discover := s.mods
	if hint != nil {
		discover = append(discover[:len(discover):len(discover)],
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(hint.Address.Addr().AsSlice())))
	}
	offer, err := s.nc.DiscoverOffer(ctx, discover...)
	if err != nil {
		return Lease{}, false, err
	}
	sent := time.Now()
	res, err := s.nc.RequestFromOffer(ctx, offer, s.mods...)
	if err != nil {
		if n := (*nclient4.ErrNak)(nil); errors.As(err, &n) {
			return Lease{}, true, nak(n.Nak)
		}
		return Lease{}, false, err
	}
	l, err := parseAck(res.ACK, sent, nil)
	if err != nil {
		return Lease{}, false, err
	}
	return s.checkConflict(ctx, l, res.ACK)
}

// checkConflict probes the link for a fresh lease's address before it is
// installed. If someone holds it, the client declines it, forgets it (the
// next DISCOVER does not ask for it) and waits before starting over. A
// probe that cannot run does not cost the lease: it is logged.
func (s *session) checkConflict(ctx context.Context, l Lease, ack *dhcpv4.DHCPv4) (Lease, bool, error) {
	holder, err := s.c.probe(ctx, l.Address.Addr())
	switch {
	case ctx.Err() != nil:
		return Lease{}, false, ctx.Err()
	case err != nil:
		s.c.log.Warn("the address conflict check failed; taking the lease unchecked", zap.Stringer("address", l.Address), zap.Error(err))
		return l, false, nil
	case holder == nil:
		return l, false, nil
	}
	conflict := &conflictError{addr: l.Address.Addr(), holder: holder}
	s.c.log.Warn("the offered address is in use on the link; declining it", zap.Stringer("address", l.Address),
		zap.Stringer("holder", holder), zap.Stringer("server", l.ServerID))
	if err := s.decline(ack); err != nil {
		s.c.log.Warn("sending DHCPDECLINE failed", zap.Error(err))
	}
	if s.c.cfg.OnConflict != nil {
		s.c.cfg.OnConflict(l.Address.Addr(), holder, l.ServerID)
	}
	wait := s.c.cfg.declineWait
	if wait == 0 {
		wait = declineWait
	}
	select {
	case <-ctx.Done():
		return Lease{}, true, ctx.Err()
	case <-time.After(wait):
	}
	return Lease{}, true, conflict
}

// initReboot is RFC 2131's INIT-REBOOT: a broadcast REQUEST for addr, with
// no server identifier and no ciaddr.
func (c *Client) initReboot(ctx context.Context, nc *nclient4.Client, addr netip.Addr, mods []dhcpv4.Modifier) (Lease, error) {
	ctx, cancel := context.WithTimeout(ctx, initRebootWait)
	defer cancel()
	req, err := dhcpv4.New(append(mods,
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(addr.AsSlice())))...)
	if err != nil {
		return Lease{}, err
	}
	sent := time.Now()
	resp, err := nc.SendAndRead(ctx, nclient4.DefaultServers, req,
		nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak))
	if err != nil {
		return Lease{}, err
	}
	if resp.MessageType() == dhcpv4.MessageTypeNak {
		return Lease{}, nak(resp)
	}
	return parseAck(resp, sent, nil)
}

// extend renews (unicast to the server that granted the lease) or rebinds
// (broadcast, any server) the lease, giving up at deadline. It talks from
// the leased address through a kernel UDP socket.
func (c *Client) extend(ctx context.Context, l Lease, rebind bool, deadline time.Time) (Lease, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	dest := &net.UDPAddr{IP: l.ServerID.AsSlice(), Port: nclient4.ServerPort}
	match := nclient4.IsAll(nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak),
		nclient4.IsCorrectServer(l.ServerID.AsSlice()))
	if rebind || !l.ServerID.IsValid() {
		dest = &net.UDPAddr{IP: net.IPv4bcast, Port: nclient4.ServerPort}
		match = nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
	}
	nc, err := c.udpClient(l.Address.Addr())
	if err != nil {
		return Lease{}, err
	}
	defer nc.Close()
	// RFC 2131 §4.3.2, RENEWING and REBINDING: ciaddr is the leased
	// address, no requested address, no server identifier.
	req, err := dhcpv4.New(append(c.common(),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithClientIP(l.Address.Addr().AsSlice()),
		dhcpv4.WithBroadcast(false))...)
	if err != nil {
		return Lease{}, err
	}
	sent := time.Now()
	resp, err := nc.SendAndRead(ctx, dest, req, match)
	if err != nil {
		return Lease{}, err
	}
	if resp.MessageType() == dhcpv4.MessageTypeNak {
		return Lease{}, nak(resp)
	}
	return parseAck(resp, sent, &l)
}

// release sends a DHCPRELEASE for l, unicast to its server from its address.
func (c *Client) release(ctx context.Context, l Lease) error {
	if !l.ServerID.IsValid() {
		return fmt.Errorf("releasing %s: the lease has no server identifier", l.Address)
	}
	nc, err := c.udpClient(l.Address.Addr())
	if err != nil {
		return fmt.Errorf("releasing %s: %w", l.Address, err)
	}
	defer nc.Close()
	ack, err := dhcpv4.New(
		dhcpv4.WithHwAddr(c.cfg.HWAddr),
		dhcpv4.WithYourIP(l.Address.Addr().AsSlice()),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(l.ServerID.AsSlice())))
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		done <- nc.Release(&nclient4.Lease{ACK: ack},
			dhcpv4.WithOption(dhcpv4.OptClientIdentifier(c.clientID())))
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		nc.Close() // unblocks the write
		err = <-done
	}
	if err != nil {
		return fmt.Errorf("releasing %s: %w", l.Address, err)
	}
	return nil
}

// rawClient opens an nclient4 client on an AF_PACKET socket on the device,
// inside the namespace.
func (c *Client) rawClient() (*nclient4.Client, error) {
	var nc *nclient4.Client
	err := c.cfg.Namespace.Do(func() error {
		var err error
		nc, err = nclient4.New(c.cfg.Link, c.clientOpts()...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening a DHCP socket on %s: %w", c.cfg.Link, err)
	}
	return nc, nil
}

// udpClient opens an nclient4 client for the lease of addr on a kernel
// UDP socket bound to the device and to port 68 of any address, inside the
// namespace: a server may answer a renewal unicast to addr or broadcast
// (RFC 2131 §4.1 lets it, and some do), and a socket bound to addr itself
// never sees a broadcast, so the renewal timed out and the lease flapped.
// What it sends leaves from addr, the device's address for the server.
func (c *Client) udpClient(addr netip.Addr) (*nclient4.Client, error) {
	var nc *nclient4.Client
	err := c.cfg.Namespace.Do(func() error {
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				for _, o := range []struct{ level, opt int }{
					{unix.SOL_SOCKET, unix.SO_REUSEADDR},
					{unix.SOL_SOCKET, unix.SO_BROADCAST},
					{unix.SOL_IP, unix.IP_FREEBIND},
				} {
					if serr = unix.SetsockoptInt(int(fd), o.level, o.opt, 1); serr != nil {
						return
					}
				}
				serr = unix.BindToDevice(int(fd), c.cfg.Link)
			})
			if err != nil {
				return err
			}
			return serr
		}}
		pc, err := lc.ListenPacket(context.Background(), "udp4",
			netip.AddrPortFrom(netip.IPv4Unspecified(), nclient4.ClientPort).String())
		if err != nil {
			return err
		}
		nc, err = nclient4.NewWithConn(pc, c.cfg.HWAddr, c.clientOpts()...)
		if err != nil {
			pc.Close()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening a DHCP socket on %s for %s: %w", c.cfg.Link, addr, err)
	}
	return nc, nil
}

func (c *Client) clientOpts() []nclient4.ClientOpt {
	return []nclient4.ClientOpt{
		nclient4.WithHWAddr(c.cfg.HWAddr),
		nclient4.WithTimeout(msgTimeout),
		nclient4.WithRetry(msgTries),
		nclient4.WithLogger(zapLogger{c.log}),
	}
}

// parseAck turns an ACK into a Lease. prev, for a renewal, supplies what a
// terse server left out of its ACK (mask, router, name servers).
func parseAck(ack *dhcpv4.DHCPv4, sent time.Time, prev *Lease) (Lease, error) {
	ip, ok := netip.AddrFromSlice(ack.YourIPAddr.To4())
	if !ok || ip.IsUnspecified() {
		return Lease{}, errors.New("the DHCPACK has no address")
	}
	l := Lease{Bound: true, Acquired: sent}
	bits := -1
	if mask := ack.SubnetMask(); mask != nil {
		if ones, size := mask.Size(); size == 32 {
			bits = ones
		}
	}
	if bits < 0 && prev != nil && prev.Address.Addr() == ip {
		bits = prev.Address.Bits()
	}
	if bits < 0 { // classful, as RFC 2132 §3.3 allows
		bits, _ = net.IP(ip.AsSlice()).DefaultMask().Size()
	}
	l.Address = netip.PrefixFrom(ip, bits)
	if err := usableAddress(l.Address); err != nil {
		return Lease{}, fmt.Errorf("the DHCPACK offers %s, which no host can use: %v", l.Address, err)
	}
	classless, hasClassless := classlessRoutes(ack)
	if hasClassless {
		l.Router, l.Routes = classless.router, classless.routes
	} else {
		for _, r := range ack.Router() {
			if a, ok := netip.AddrFromSlice(r.To4()); ok && !a.IsUnspecified() {
				l.Router = a
				break
			}
		}
	}
	for _, d := range ack.DNS() {
		if a, ok := netip.AddrFromSlice(d.To4()); ok && saneNameserver(a, l.Address) && !slices.Contains(l.DNS, a) {
			l.DNS = append(l.DNS, a)
		}
	}
	if prev != nil && prev.Address.Addr() == ip {
		if !hasClassless && ack.Options.Get(dhcpv4.OptionRouter) == nil {
			l.Router, l.Routes = prev.Router, prev.Routes
		}
		if len(l.DNS) == 0 && ack.Options.Get(dhcpv4.OptionDomainNameServer) == nil {
			l.DNS = prev.DNS
		}
	}
	if sid, ok := netip.AddrFromSlice(ack.ServerIdentifier().To4()); ok && !sid.IsUnspecified() {
		l.ServerID = sid
	} else if prev != nil {
		l.ServerID = prev.ServerID
	}
	l.LeaseTime = ack.IPAddressLeaseTime(0)
	if l.LeaseTime <= 0 {
		if prev == nil {
			return Lease{}, errors.New("the DHCPACK has no lease time")
		}
		l.LeaseTime = prev.LeaseTime
	}
	l.LeaseTime = l.LeaseTime.Truncate(time.Second)
	// RFC 2131 §4.4.5: T1 defaults to half the lease, T2 to 7/8; a server
	// giving inconsistent times gets the defaults.
	l.T1 = ack.IPAddressRenewalTime(l.LeaseTime / 2)
	l.T2 = ack.IPAddressRebindingTime(l.LeaseTime / 8 * 7)
	if l.T2 <= 0 || l.T2 > l.LeaseTime {
		l.T2 = l.LeaseTime / 8 * 7
	}
	if l.T1 <= 0 || l.T1 > l.T2 {
		l.T1 = min(l.LeaseTime/2, l.T2)
	}
	return l, nil
}

// usableAddress refuses a leased address no host can use (RFC 1122
// §3.2.1.3, RFC 5735): unspecified, loopback, multicast, limited
// broadcast, class E, link-local, a /0 mask, or below /31 its subnet's
// network or broadcast address. A hostile or broken server offering one
// gets no lease out of the client.
func usableAddress(p netip.Prefix) error {
	a := p.Addr()
	switch {
	case !a.Is4():
		return errors.New("not an IPv4 address")
	case a.IsUnspecified(), a.IsLoopback(), a.IsMulticast(), a.IsLinkLocalUnicast():
		return errors.New("not a unicast host address")
	case a.As4()[0] >= 240: // class E, and 255.255.255.255
		return errors.New("a reserved or broadcast address")
	case p.Bits() == 0:
		return errors.New("a /0 subnet mask")
	case p.Bits() < 31 && (a == p.Masked().Addr() || a == subnetBroadcast(p)):
		return errors.New("its subnet's network or broadcast address")
	}
	return nil
}

// saneNameserver keeps a name server a resolver can query: a unicast
// address that is not loopback (the server's own resolver is not this
// host's), link-local, reserved, or the leased subnet's broadcast.
func saneNameserver(a netip.Addr, lease netip.Prefix) bool {
	return a.Is4() && a.IsGlobalUnicast() && a.As4()[0] < 240 &&
		!(lease.Bits() < 31 && a == subnetBroadcast(lease))
}

// UsableRouter reports whether a lease's router can be its gateway: a
// unicast address in the leased subnet, other than the leased address and
// the subnet's network and broadcast addresses.
func UsableRouter(l Lease) bool {
	r := l.Router
	if !r.Is4() || !r.IsGlobalUnicast() || r.As4()[0] >= 240 || r == l.Address.Addr() || !l.Address.Masked().Contains(r) {
		return false
	}
	return l.Address.Bits() >= 31 || r != l.Address.Masked().Addr() && r != subnetBroadcast(l.Address)
}

// subnetBroadcast is the broadcast address of an IPv4 subnet.
func subnetBroadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

type classless struct {
	router netip.Addr
	routes []Route
}

// classlessRoutes reads option 121. When it is present and well formed the
// client must ignore option 3 (RFC 3442 §3): the default gateway is its
// 0.0.0.0/0 route, if it has one. A malformed option is ignored whole, so
// that option 3 still applies. Destinations are masked, since the encoding
// can carry bits past the prefix length, and a destination given twice
// keeps its first router.
func classlessRoutes(ack *dhcpv4.DHCPv4) (classless, bool) {
	v := ack.Options.Get(dhcpv4.OptionClasslessStaticRoute)
	if len(v) == 0 { // absent, or shorter than any route (RFC 3442 §2: at least 5 bytes)
		return classless{}, false
	}
	var parsed dhcpv4.Routes
	if err := parsed.FromBytes(v); err != nil {
		return classless{}, false
	}
	var c classless
	seen := map[netip.Prefix]bool{}
	for _, r := range parsed {
		ip, ok := netip.AddrFromSlice(r.Dest.IP.To4())
		ones, _ := r.Dest.Mask.Size()
		if !ok {
			continue
		}
		dst := netip.PrefixFrom(ip, ones).Masked()
		if seen[dst] {
			continue
		}
		seen[dst] = true
		router, _ := netip.AddrFromSlice(r.Router.To4())
		if router.IsUnspecified() {
			router = netip.Addr{}
		}
		if dst.Bits() == 0 {
			c.router = router
			continue
		}
		c.routes = append(c.routes, Route{Dst: dst, Router: router})
	}
	return c, true
}

// zapLogger adapts nclient4's logger to zap, at debug level.
type zapLogger struct{ log *zap.Logger }

func (z zapLogger) Printf(format string, v ...any) {
	z.log.Debug("nclient4: " + fmt.Sprintf(format, v...))
}

func (z zapLogger) PrintMessage(prefix string, m *dhcpv4.DHCPv4) {
	if ce := z.log.Check(zap.DebugLevel, "nclient4: "+prefix); ce != nil {
		ce.Write(zap.Stringer("type", m.MessageType()), zap.Stringer("xid", m.TransactionID),
			zap.Stringer("yiaddr", m.YourIPAddr), zap.Stringer("ciaddr", m.ClientIPAddr))
	}
}
