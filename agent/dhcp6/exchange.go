package dhcp6

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/nclient6"
	"github.com/insomniacslk/dhcp/iana"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/agent/internal/dhcpclient"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// refusedError is a server's refusal of an address or binding: a status
// code of NoAddrsAvail, NoBinding or NotOnLink, or a zero valid lifetime.
// The client must forget the lease.
type refusedError struct {
	code iana.StatusCode
	msg  string
}

func (e *refusedError) Error() string {
	s := "the server refused: " + e.code.String()
	if e.msg != "" {
		s += ": " + e.msg
	}
	return s
}

// statusError turns a non-success status into an error: a refusedError for
// the codes that mean "not this address/binding", a plain error otherwise.
func statusError(where string, st *dhcpv6.OptStatusCode) error {
	if st == nil || st.StatusCode == iana.StatusSuccess {
		return nil
	}
	switch st.StatusCode {
	case iana.StatusNoAddrsAvail, iana.StatusNoBinding, iana.StatusNotOnLink:
		return &refusedError{code: st.StatusCode, msg: st.StatusMessage}
	}
	return fmt.Errorf("%s status %s: %s", where, st.StatusCode, st.StatusMessage)
}

// duid is the client identifier: a DUID-LL of HWAddr.
func (c *Client) duid() dhcpv6.DUID {
	return &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: c.cfg.HWAddr}
}

// iaid is the IA_NA's identifier: the last four bytes of HWAddr.
func (c *Client) iaid() [4]byte {
	var id [4]byte
	copy(id[:], c.cfg.HWAddr[len(c.cfg.HWAddr)-4:])
	return id
}

// newMsg builds a client message with the client identifier, the elapsed
// time, the option request (name servers) and an IA_NA holding addr when
// it is valid (lifetimes 0: the server chooses them). serverID is added
// when not empty.
func (c *Client) newMsg(typ dhcpv6.MessageType, addr netip.Addr, serverID []byte) (*dhcpv6.Message, error) {
	m, err := dhcpv6.NewMessage()
	if err != nil {
		return nil, err
	}
	m.MessageType = typ
	m.AddOption(dhcpv6.OptClientID(c.duid()))
	if len(serverID) > 0 {
		sid, err := dhcpv6.DUIDFromBytes(serverID)
		if err != nil {
			return nil, fmt.Errorf("the server identifier %x: %w", serverID, err)
		}
		m.AddOption(dhcpv6.OptServerID(sid))
	}
	m.AddOption(dhcpv6.OptElapsedTime(0))
	if typ != dhcpv6.MessageTypeRelease {
		m.AddOption(dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer))
	}
	ia := &dhcpv6.OptIANA{IaId: c.iaid()}
	if addr.IsValid() {
		ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: addr.AsSlice()})
	}
	m.AddOption(ia)
	return m, nil
}

// fromServer matches the answers of type typ to this client (its client
// identifier; the transaction ID is nclient6's business).
func (c *Client) fromServer(typ dhcpv6.MessageType) nclient6.Matcher {
	own := c.duid()
	return func(m *dhcpv6.Message) bool {
		if m.MessageType != typ {
			return false
		}
		cid := m.Options.ClientID()
		return cid != nil && bytes.Equal(cid.ToBytes(), own.ToBytes()) && m.Options.ServerID() != nil
	}
}

// conn is one exchange's socket.
type conn struct {
	nc   *nclient6.Client
	dest *net.UDPAddr // ff02::1:2 on the device
}

func (k *conn) Close() error { return k.nc.Close() }

// send sends m and waits for the first answer that match accepts.
func (c *Client) send(ctx context.Context, k *conn, m *dhcpv6.Message, match nclient6.Matcher) (*dhcpv6.Message, error) {
	c.log.Debug("DHCPv6 send", zap.Stringer("type", m.MessageType), zap.Stringer("xid", m.TransactionID))
	resp, err := k.nc.SendAndRead(ctx, k.dest, m, match)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.MessageType, err)
	}
	c.log.Debug("DHCPv6 received", zap.Stringer("type", resp.MessageType), zap.Stringer("xid", resp.TransactionID))
	return resp, nil
}

// Open opens an acquisition's socket: a REBIND for an unexpired remembered
// lease, then SOLICIT (hinting the remembered address, if any), ADVERTISE,
// REQUEST, REPLY.
func (p protocol) Open(ctx context.Context) (dhcpclient.Session[Lease], error) {
	k, err := p.open(ctx)
	if err != nil {
		return nil, err
	}
	return &session{c: p.Client, k: k}, nil
}

// session is one acquisition's socket.
type session struct {
	c *Client
	k *conn
}

func (s *session) Close() error { return s.k.Close() }

func (s *session) Reboot(ctx context.Context, hint Lease) (Lease, error) {
	ctx, cancel := context.WithTimeout(ctx, rebootWait)
	defer cancel()
	return s.c.extendOn(ctx, s.k, hint, true)
}

// Discover is SOLICIT, ADVERTISE, REQUEST, REPLY. A refusal keeps hint:
// the address it names is removed when another one is bound.
func (s *session) Discover(ctx context.Context, hint *Lease) (Lease, bool, error) {
	c, k := s.c, s.k
	var want netip.Addr
	if hint != nil {
		want = hint.Address.Addr()
	}
	sol, err := c.newMsg(dhcpv6.MessageTypeSolicit, want, nil)
	if err != nil {
		return Lease{}, false, err
	}
	adv, err := c.solicit(ctx, k, sol)
	if err != nil {
		return Lease{}, false, err
	}
	offered := c.ownIA(adv).Options.OneAddress().IPv6Addr
	addr, _ := netip.AddrFromSlice(offered)
	req, err := c.newMsg(dhcpv6.MessageTypeRequest, addr.Unmap(), adv.Options.ServerID().ToBytes())
	if err != nil {
		return Lease{}, false, err
	}
	sent := time.Now()
	reply, err := c.send(ctx, k, req, c.fromServer(dhcpv6.MessageTypeReply))
	if err != nil {
		return Lease{}, false, err
	}
	l, err := c.parseReply(reply, sent, nil)
	return l, false, err
}

// collectWait is how long a client collects ADVERTISEs before it chooses
// one: the first retransmission time, SOL_TIMEOUT (RFC 8415 §18.2.1, §7.6).
const collectWait = time.Second

// solicit sends SOLICIT and chooses the server, as RFC 8415 §18.2.1 and
// §18.2.9 say: it collects ADVERTISEs for collectWait and takes the one of
// highest preference, the first among equals; an ADVERTISE with preference
// 255 is taken at once; if none came in that time, the first that comes.
// With two servers, the one the site prefers gets the client, not the one
// that answers first.
func (c *Client) solicit(ctx context.Context, k *conn, sol *dhcpv6.Message) (*dhcpv6.Message, error) {
	valid := c.advertises()
	var best *dhcpv6.Message
	collect := func(m *dhcpv6.Message) bool { // runs on this goroutine, in SendAndRead
		if !valid(m) {
			return false
		}
		if best == nil || m.Options.Preference() > best.Options.Preference() {
			best = m
		}
		return m.Options.Preference() == 255
	}
	window, cancel := context.WithTimeout(ctx, collectWait)
	adv, err := c.send(window, k, sol, collect)
	cancel()
	switch {
	case err == nil:
		return adv, nil
	case ctx.Err() != nil:
		return nil, err
	case best != nil:
		c.log.Debug("DHCPv6 server chosen", zap.Uint8("preference", best.Options.Preference()))
		return best, nil
	}
	return c.send(ctx, k, sol, valid)
}

// advertises matches an ADVERTISE that offers an address in this client's
// IA_NA; the others (NoAddrsAvail) are ignored, as RFC 8415 §18.2.9 says.
func (c *Client) advertises() nclient6.Matcher {
	from := c.fromServer(dhcpv6.MessageTypeAdvertise)
	return func(m *dhcpv6.Message) bool {
		if !from(m) || statusError("", m.Options.Status()) != nil {
			return false
		}
		ia := c.ownIA(m)
		if ia == nil || statusError("", ia.Options.Status()) != nil {
			return false
		}
		a := ia.Options.OneAddress()
		return a != nil && len(a.IPv6Addr) == net.IPv6len
	}
}

// ownIA is the IA_NA of m with this client's IAID, nil when none.
func (c *Client) ownIA(m *dhcpv6.Message) *dhcpv6.OptIANA {
	for _, ia := range m.Options.IANA() {
		if ia.IaId == c.iaid() {
			return ia
		}
	}
	return nil
}

// extend renews (RENEW to the server that granted the lease) or rebinds
// (REBIND, any server) the lease, giving up at deadline.
func (c *Client) extend(ctx context.Context, l Lease, rebind bool, deadline time.Time) (Lease, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	k, err := c.open(ctx)
	if err != nil {
		return Lease{}, err
	}
	defer k.Close()
	return c.extendOn(ctx, k, l, rebind)
}

func (c *Client) extendOn(ctx context.Context, k *conn, l Lease, rebind bool) (Lease, error) {
	typ, sid := dhcpv6.MessageTypeRenew, l.ServerID
	if rebind || len(l.ServerID) == 0 {
		typ, sid = dhcpv6.MessageTypeRebind, nil
	}
	m, err := c.newMsg(typ, l.Address.Addr(), sid)
	if err != nil {
		return Lease{}, err
	}
	sent := time.Now()
	reply, err := c.send(ctx, k, m, c.fromServer(dhcpv6.MessageTypeReply))
	if err != nil {
		return Lease{}, err
	}
	return c.parseReply(reply, sent, &l)
}

// release sends a RELEASE for l to its server and waits (briefly) for the
// REPLY. No answer is not an error: RFC 8415 §18.2.7 has the client give
// the address up anyway.
func (c *Client) release(ctx context.Context, l Lease) error {
	if len(l.ServerID) == 0 {
		return fmt.Errorf("releasing %s: the lease has no server identifier", l.Address)
	}
	k, err := c.open(ctx)
	if err != nil {
		return fmt.Errorf("releasing %s: %w", l.Address, err)
	}
	defer k.Close()
	m, err := c.newMsg(dhcpv6.MessageTypeRelease, l.Address.Addr(), l.ServerID)
	if err != nil {
		return fmt.Errorf("releasing %s: %w", l.Address, err)
	}
	reply, err := c.send(ctx, k, m, c.fromServer(dhcpv6.MessageTypeReply))
	if err != nil {
		if errors.Is(err, nclient6.ErrNoResponse) || errors.Is(err, context.DeadlineExceeded) {
			c.log.Info("no answer to the DHCPv6 RELEASE", zap.Stringer("address", l.Address))
			return nil
		}
		return fmt.Errorf("releasing %s: %w", l.Address, err)
	}
	if err := statusError("RELEASE", reply.Options.Status()); err != nil {
		c.log.Info("the DHCPv6 server answered the RELEASE", zap.Stringer("address", l.Address), zap.Error(err))
	}
	return nil
}

// open waits for a usable link-local address on the device and opens an
// nclient6 client on a kernel UDP socket bound to it, port 546 and the
// device, inside the namespace.
func (c *Client) open(ctx context.Context) (*conn, error) {
	ll, idx, err := c.linkLocal(ctx)
	if err != nil {
		return nil, err
	}
	zone := strconv.Itoa(idx)
	var nc *nclient6.Client
	err = c.cfg.Namespace.Do(func() error {
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
					return
				}
				serr = unix.BindToDevice(int(fd), c.cfg.Link)
			})
			if err != nil {
				return err
			}
			return serr
		}}
		// A numeric zone: a name would go through the net package's
		// process-wide interface cache, which knows nothing of
		// namespaces.
		laddr := net.UDPAddr{IP: ll.AsSlice(), Port: dhcpv6.DefaultClientPort, Zone: zone}
		pc, err := lc.ListenPacket(context.Background(), "udp6", laddr.String())
		if err != nil {
			return err
		}
		nc, err = nclient6.NewWithConn(pc, c.cfg.HWAddr, nclient6.WithTimeout(msgTimeout), nclient6.WithRetry(msgTries))
		if err != nil {
			pc.Close()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("opening a DHCPv6 socket on %s: %w", c.cfg.Link, err)
	}
	dest := *nclient6.AllDHCPRelayAgentsAndServers
	dest.Zone = zone
	return &conn{nc: nc, dest: &dest}, nil
}

// linkLocal waits (up to linkLocalWait) for the device to exist and carry a
// link-local address that is no longer tentative, and returns it with the
// device's ifindex.
func (c *Client) linkLocal(ctx context.Context) (netip.Addr, int, error) {
	ctx, cancel := context.WithTimeout(ctx, linkLocalWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ll, idx, err := c.findLinkLocal()
		if err == nil {
			return ll, idx, nil
		}
		select {
		case <-ctx.Done():
			return netip.Addr{}, 0, err
		case <-tick.C:
		}
	}
}

func (c *Client) findLinkLocal() (netip.Addr, int, error) {
	idx, addrs, err := c.cfg.Namespace.LinkAddrs(c.cfg.Link, kernel.IPv6)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	for _, a := range addrs {
		ip := a.Prefix.Addr()
		if ip.Is6() && ip.IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
			return ip, idx, nil
		}
	}
	return netip.Addr{}, 0, fmt.Errorf("%s has no usable link-local address yet", c.cfg.Link)
}

// parseReply turns a REPLY into a Lease. prev, for a renewal or rebind,
// is the lease being extended: its address is the one looked for, and it
// supplies what a terse server left out (name servers).
func (c *Client) parseReply(m *dhcpv6.Message, sent time.Time, prev *Lease) (Lease, error) {
	if err := statusError("REPLY", m.Options.Status()); err != nil {
		return Lease{}, err
	}
	ia := c.ownIA(m)
	if ia == nil {
		return Lease{}, errors.New("the REPLY has no IA_NA for this client")
	}
	if err := statusError("IA_NA", ia.Options.Status()); err != nil {
		return Lease{}, err
	}
	var found *dhcpv6.OptIAAddress
	for _, a := range ia.Options.Addresses() {
		ip, ok := netip.AddrFromSlice(a.IPv6Addr)
		if !ok || !ip.Is6() || ip.Is4In6() || statusError("", a.Options.Status()) != nil {
			continue
		}
		if prev != nil && ip == prev.Address.Addr() {
			found = a
			break
		}
		if found == nil && a.ValidLifetime > 0 {
			found = a
		}
	}
	if found == nil {
		return Lease{}, &refusedError{code: iana.StatusNoAddrsAvail, msg: "no address in the IA_NA"}
	}
	if found.ValidLifetime <= 0 {
		return Lease{}, &refusedError{code: iana.StatusNoBinding, msg: "valid lifetime 0"}
	}
	ip, _ := netip.AddrFromSlice(found.IPv6Addr)
	l := Lease{
		Bound:     true,
		Address:   netip.PrefixFrom(ip, 128),
		Valid:     found.ValidLifetime.Truncate(time.Second),
		Preferred: min(found.PreferredLifetime, found.ValidLifetime).Truncate(time.Second),
		Acquired:  sent,
	}
	for _, d := range m.Options.DNS() {
		if a, ok := netip.AddrFromSlice(d); ok && a.Is6() && !a.IsUnspecified() {
			l.DNS = append(l.DNS, a)
		}
	}
	if prev != nil && len(l.DNS) == 0 && m.GetOneOption(dhcpv6.OptionDNSRecursiveNameServer) == nil {
		l.DNS = prev.DNS
	}
	if sid := m.Options.ServerID(); sid != nil {
		l.ServerID = sid.ToBytes()
	} else if prev != nil {
		l.ServerID = prev.ServerID
	}
	l.T1, l.T2 = timers(ia.T1, ia.T2, l.Preferred, l.Valid)
	return l, nil
}

// timers fixes up the T1 and T2 of an IA_NA: 0 leaves them to the client,
// which takes 1/2 and 4/5 of the preferred lifetime (RFC 8415 §21.4; of
// the valid one when the preferred lifetime is 0); an
// inconsistent pair (T1 > T2) is ignored likewise. Neither passes the valid
// lifetime.
func timers(t1, t2, preferred, valid time.Duration) (time.Duration, time.Duration) {
	if t1 > 0 && t2 > 0 && t1 > t2 {
		t1, t2 = 0, 0
	}
	base := preferred
	if base <= 0 { // a deprecated address: renew well before it goes
		base = valid
	}
	if t1 <= 0 {
		t1 = base / 2
	}
	if t2 <= 0 {
		t2 = base / 5 * 4
	}
	if valid < infinite {
		t2 = min(t2, valid)
	}
	t1 = min(t1, t2)
	return t1, t2
}
