package dhcp4

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap/zaptest"

	"github.com/hostnetd/hostnetd/agent/internal/linkaddr"
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
	ns := nstest.New(t)
	peer := nstest.New(t)
	eth0 := nstest.Veth(t, ns, "eth0", peer, "srv0")
	srv0 := nstest.Link(t, peer, "srv0")
	if err := peer.Handle.AddrAdd(srv0, &netlink.Addr{IPNet: linkaddr.IPNet(netip.PrefixFrom(serverIP, 24))}); err != nil {
		t.Fatalf("adding the server address: %v", err)
	}
	return &testbed{ns: ns, peer: peer, mac: eth0.Attrs().HardwareAddr}
}

// events collects OnChange calls.
type events struct {
	ch chan Lease
}

func newEvents() *events { return &events{ch: make(chan Lease, 100)} }

func (e *events) onChange(l Lease) {
	select {
	case e.ch <- l:
	default:
		panic("dhcp4 test: too many OnChange calls")
	}
}

// next waits for the next OnChange.
func (e *events) next(t *testing.T, within time.Duration) Lease {
	t.Helper()
	select {
	case l := <-e.ch:
		return l
	case <-time.After(within):
		t.Fatalf("no OnChange within %s", within)
		return Lease{}
	}
}

// none checks that OnChange is not called for d.
func (e *events) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case l := <-e.ch:
		t.Fatalf("unexpected OnChange: %+v", l)
	case <-time.After(d):
	}
}

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
	begin := time.Now()
	c, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if d := time.Since(begin); d > 100*time.Millisecond {
		t.Errorf("Start took %s; it must not wait for the network", d)
	}
	t.Cleanup(func() { c.Close(false) })
	return c
}

// kernelAddr returns p as installed on link of ns, if it is there.
func kernelAddr(t *testing.T, ns *kernel.Namespace, link string, p netip.Prefix) (netlink.Addr, bool) {
	t.Helper()
	addrs, err := ns.Handle.AddrList(nstest.Link(t, ns, link), netlink.FAMILY_V4)
	if err != nil {
		t.Fatalf("listing addresses of %s: %v", link, err)
	}
	for _, a := range addrs {
		ones, _ := a.Mask.Size()
		if ip, ok := netip.AddrFromSlice(a.IP.To4()); ok && ip == p.Addr() && ones == p.Bits() {
			return a, true
		}
	}
	return netlink.Addr{}, false
}

// requireDynamic checks that p is on link with a finite lifetime of at most
// max seconds, and returns its valid lifetime.
func requireDynamic(t *testing.T, ns *kernel.Namespace, link string, p netip.Prefix, maxLft int) int {
	t.Helper()
	a, ok := kernelAddr(t, ns, link, p)
	if !ok {
		t.Fatalf("%s is not on %s", p, link)
	}
	if a.ValidLft <= 0 || a.ValidLft > maxLft || a.PreferedLft <= 0 || a.PreferedLft > maxLft {
		t.Fatalf("%s on %s: valid_lft %d, preferred_lft %d; want finite, at most %d", p, link, a.ValidLft,
			a.PreferedLft, maxLft)
	}
	if a.Flags&0x80 != 0 { // IFA_F_PERMANENT
		t.Fatalf("%s on %s is permanent; want dynamic", p, link)
	}
	return a.ValidLft
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

// eventually polls cond every 50 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dnsmasq is a dnsmasq serving srv0 in the peer namespace.
type dnsmasq struct {
	mu  sync.Mutex
	log bytes.Buffer
}

func (d *dnsmasq) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.Write(p)
}

func (d *dnsmasq) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

// waitLog waits for s in dnsmasq's log.
func (d *dnsmasq) waitLog(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(d.output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq did not log %q within %s; its log:\n%s", s, within, d.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startDnsmasq runs dnsmasq (kernel-testing.md §4) on srv0 of bed's peer
// namespace: 2 min leases from 192.0.2.10–200, router .1, DNS .53. It is
// killed at cleanup.
func startDnsmasq(t *testing.T, bed *testbed) *dnsmasq {
	t.Helper()
	path, err := exec.LookPath("dnsmasq")
	if err != nil {
		t.Fatalf("dnsmasq is needed (package dnsmasq-base): %v", err)
	}
	d := &dnsmasq{}
	cmd := exec.Command("ip", "netns", "exec", bed.peer.Name, path,
		"--conf-file=/dev/null", // ignore the system configuration
		"--leasefile-ro",        // no lease file (leases are kept in memory)
		"--pid-file=",           // no pid file
		"--user=root",           // keep privileges
		"-d",                    // foreground, log to stderr
		"-p", "0",               // no DNS service
		"--bind-dynamic", "-i", "srv0", // serve only the test link
		"--dhcp-range=192.0.2.10,192.0.2.200,2m",
		"--dhcp-option=3,"+serverIP.String(), // router
		"--dhcp-option=6,"+dnsIP.String(),    // name server
		"--no-ping",                          // offer without the ICMP probe
		"--dhcp-authoritative",               // the only server on the link
	)
	cmd.Stdout = d
	cmd.Stderr = d
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	d.waitLog(t, "DHCP, IP range", 5*time.Second)
	return d
}

// stub is a controllable DHCP server (dhcpv4/server4) on srv0 of the peer
// namespace: it offers 192.0.2.100, .101, … in turn, ACKs any REQUEST (an
// INIT-REBOOT one for the requested address, a renewal for ciaddr), and can
// be told to NAK or ignore requests.
type stub struct {
	leaseTime time.Duration
	srv       *server4.Server
	served    chan struct{}
	stopOnce  sync.Once

	mu   sync.Mutex
	next int
	// nak is how many of the next REQUESTs get a NAK.
	nak int
	// dropRenewalsUntil ignores REQUESTs with ciaddr until then.
	dropRenewalsUntil time.Time
	// ignoreRequests ignores every REQUEST.
	ignoreRequests bool
	msgs           []stubMsg
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
	s := &stub{leaseTime: leaseTime, served: make(chan struct{})}
	err := bed.peer.Do(func() error {
		var err error
		s.srv, err = server4.NewServer("srv0", &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, s.handle)
		return err
	})
	if err != nil {
		t.Fatalf("starting the stub DHCP server: %v", err)
	}
	go func() {
		defer close(s.served)
		s.srv.Serve()
	}()
	t.Cleanup(s.stop)
	return s
}

// stop closes the server and waits for its loop.
func (s *stub) stop() {
	s.stopOnce.Do(func() {
		s.srv.Close()
		<-s.served
	})
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
	conn.WriteTo(reply.ToBytes(), peer)
}
