package dhcp4

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap/zaptest"

	"github.com/hostnetd/hostnetd/agent/internal/dhcptest"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// The served subnet: the server (and router) is .1 on "srv0" in the peer
// namespace, the client is on "eth0" in its own namespace.
var (
	serverIP = netip.MustParseAddr("192.0.2.1")
	dnsIP    = netip.MustParseAddr("192.0.2.53")
)

type testbed struct {
	ns, peer *kernel.Namespace
	mac      net.HardwareAddr // eth0's
}

func newTestbed(t *testing.T) *testbed {
	t.Helper()
	ns, peer, mac := dhcptest.Testbed(t, netip.PrefixFrom(serverIP, 24))
	return &testbed{ns: ns, peer: peer, mac: mac}
}

// Shared with dhcp6's tests.
var (
	kernelAddr     = dhcptest.KernelAddr
	requireDynamic = dhcptest.RequireDynamic
	eventually     = dhcptest.Eventually
)

// events collects OnChange calls.
type events struct{ *dhcptest.Events[Lease] }

func newEvents() *events { return &events{dhcptest.NewEvents[Lease]("dhcp4")} }

func (e *events) onChange(l Lease) { e.OnChange(l) }

// next waits for the next OnChange.
func (e *events) next(t *testing.T, within time.Duration) Lease { t.Helper(); return e.Next(t, within) }

// none checks that OnChange is not called for d.
func (e *events) none(t *testing.T, d time.Duration) { t.Helper(); e.None(t, d) }

// start starts a client on link of bed's namespace and closes it (without
// release) at cleanup.
func start(t *testing.T, bed *testbed, link string, ev *events, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Namespace: bed.ns,
		Link:      link,
		HWAddr:    bed.mac,
		Log:       zaptest.NewLogger(t),
		Retry:     500 * time.Millisecond,
		MaxRetry:  2 * time.Second,
	}
	if ev != nil {
		cfg.OnChange = ev.onChange
	}
	if mod != nil {
		mod(&cfg)
	}
	return dhcptest.Started(t, func() (*Client, error) { return Start(context.Background(), cfg) })
}

// globalV4 lists the IPv4 addresses of link.
func globalV4(t *testing.T, ns *kernel.Namespace, link string) []string {
	t.Helper()
	addrs, err := ns.Handle.AddrList(nstest.Link(t, ns, link), netlink.FAMILY_V4)
	if err != nil {
		t.Fatalf("listing addresses of %s: %v", link, err)
	}
	var out []string
	for _, a := range addrs {
		out = append(out, a.IPNet.String())
	}
	return out
}

// dnsmasq is a dnsmasq serving srv0 in the peer namespace.
type dnsmasq struct{ *dhcptest.Dnsmasq }

func (d dnsmasq) output() string { return d.Output() }

// waitLog waits for s in dnsmasq's log.
func (d dnsmasq) waitLog(t *testing.T, s string, within time.Duration) {
	t.Helper()
	d.WaitLog(t, s, within)
}

// startDnsmasq runs dnsmasq on srv0 of bed's peer namespace: 2 min leases
// from 192.0.2.10–200, router .1, DNS .53. It is killed at cleanup.
func startDnsmasq(t *testing.T, bed *testbed) dnsmasq {
	t.Helper()
	return dnsmasq{dhcptest.StartDnsmasq(t, bed.peer, "DHCP, IP range",
		"--dhcp-range=192.0.2.10,192.0.2.200,2m",
		"--dhcp-option=3,"+serverIP.String(), // router
		"--dhcp-option=6,"+dnsIP.String(),    // name server
		"--dhcp-authoritative",               // the only server on the link
	)}
}

// stub is a controllable DHCP server (dhcpv4/server4) on srv0 of the peer
// namespace: it offers 192.0.2.100, .101, … in turn, ACKs any REQUEST (an
// INIT-REBOOT one for the requested address, a renewal for ciaddr), and can
// be told to NAK or ignore requests.
type stub struct {
	leaseTime time.Duration
	// stop closes the server and waits for its loop.
	stop func()

	mu   sync.Mutex
	next int
	// nak is how many of the next REQUESTs get a NAK.
	nak int
	// dropRenewalsUntil ignores REQUESTs with ciaddr until then.
	dropRenewalsUntil time.Time
	// ignoreRequests ignores every REQUEST.
	ignoreRequests bool
	// broadcastAcks broadcasts the answers to renewals, as some servers do.
	broadcastAcks bool
	msgs          []stubMsg
}

type stubMsg struct {
	at        time.Time
	typ       dhcpv4.MessageType
	ciaddr    netip.Addr
	requested netip.Addr
	serverID  bool
	clientID  []byte
	chaddr    string
	answered  bool
}

func startStub(t *testing.T, bed *testbed, leaseTime time.Duration) *stub {
	t.Helper()
	s := &stub{leaseTime: leaseTime}
	var srv *server4.Server
	err := bed.peer.Do(func() error {
		var err error
		srv, err = server4.NewServer("srv0", &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, s.handle)
		return err
	})
	if err != nil {
		t.Fatalf("starting the stub DHCP server: %v", err)
	}
	s.stop = dhcptest.Serve(t, srv)
	return s
}

func (s *stub) set(fn func(s *stub)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

func (s *stub) messages() []stubMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stubMsg(nil), s.msgs...)
}

func (s *stub) handle(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
	if m.OpCode != dhcpv4.OpcodeBootRequest {
		return
	}
	rec := stubMsg{at: time.Now(), typ: m.MessageType(), chaddr: m.ClientHWAddr.String(),
		serverID: m.Options.Get(dhcpv4.OptionServerIdentifier) != nil,
		clientID: m.Options.Get(dhcpv4.OptionClientIdentifier)}
	rec.ciaddr, _ = netip.AddrFromSlice(m.ClientIPAddr.To4())
	rec.requested, _ = netip.AddrFromSlice(m.RequestedIPAddress().To4())

	reply, err := dhcpv4.NewReplyFromRequest(m)
	if err != nil {
		return
	}
	s.mu.Lock()
	var yiaddr netip.Addr
	typ := dhcpv4.MessageTypeAck
	switch rec.typ {
	case dhcpv4.MessageTypeDiscover:
		typ = dhcpv4.MessageTypeOffer
		yiaddr = netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + s.next)})
		s.next++
	case dhcpv4.MessageTypeRequest:
		renewal := rec.ciaddr.IsValid() && !rec.ciaddr.IsUnspecified()
		switch {
		case s.ignoreRequests, renewal && rec.at.Before(s.dropRenewalsUntil):
			typ = 0
		case s.nak > 0:
			s.nak--
			typ = dhcpv4.MessageTypeNak
		case renewal:
			yiaddr = rec.ciaddr
		default:
			yiaddr = rec.requested
		}
	default:
		typ = 0 // RELEASE, DECLINE, …: no answer
	}
	rec.answered = typ != 0
	s.msgs = append(s.msgs, rec)
	s.mu.Unlock()
	if typ == 0 {
		return
	}
	reply.UpdateOption(dhcpv4.OptMessageType(typ))
	reply.UpdateOption(dhcpv4.OptServerIdentifier(serverIP.AsSlice()))
	if typ != dhcpv4.MessageTypeNak {
		reply.YourIPAddr = yiaddr.AsSlice()
		reply.UpdateOption(dhcpv4.OptIPAddressLeaseTime(s.leaseTime))
		reply.UpdateOption(dhcpv4.OptSubnetMask(net.CIDRMask(24, 32)))
		reply.UpdateOption(dhcpv4.OptRouter(serverIP.AsSlice()))
		reply.UpdateOption(dhcpv4.OptDNS(dnsIP.AsSlice()))
	}
	s.mu.Lock()
	broadcast := s.broadcastAcks && rec.ciaddr.IsValid() && !rec.ciaddr.IsUnspecified()
	s.mu.Unlock()
	if broadcast {
		peer = &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort}
	}
	conn.WriteTo(reply.ToBytes(), peer)
}

// eventWait bounds the waits for a client's events (dhcptest.EventWait).
const eventWait = dhcptest.EventWait
