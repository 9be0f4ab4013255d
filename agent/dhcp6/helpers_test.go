package dhcp6

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

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/server6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// The served subnet: the server is ::1 on "srv0" in the peer namespace, the
// client is on "eth0" in its own namespace.
var (
	subnet   = netip.MustParsePrefix("fdb3:84e5:4ff4:55e3::/64")
	serverIP = netip.MustParseAddr("fdb3:84e5:4ff4:55e3::1")
	dnsIP    = netip.MustParseAddr("fdb3:84e5:4ff4:55e3::53")
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
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: serverIP.AsSlice(), Mask: net.CIDRMask(64, 128)}, Flags: unix.IFA_F_NODAD}
	if err := peer.Handle.AddrAdd(srv0, addr); err != nil {
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
		panic("dhcp6 test: too many OnChange calls")
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
	addrs, err := ns.Handle.AddrList(nstest.Link(t, ns, link), netlink.FAMILY_V6)
	if err != nil {
		t.Fatalf("listing addresses of %s: %v", link, err)
	}
	for _, a := range addrs {
		ones, _ := a.Mask.Size()
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip == p.Addr() && ones == p.Bits() {
			return a, true
		}
	}
	return netlink.Addr{}, false
}

// requireDynamic checks that p is on link with finite lifetimes of at most
// maxLft seconds, and returns its valid lifetime.
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
	if a.Flags&unix.IFA_F_PERMANENT != 0 {
		t.Fatalf("%s on %s is permanent; want dynamic", p, link)
	}
	return a.ValidLft
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
// namespace: 2 min leases from ::a–::64 of the subnet, name server ::53,
// router advertisements on. It is killed at cleanup.
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
		"--dhcp-range=fdb3:84e5:4ff4:55e3::a,fdb3:84e5:4ff4:55e3::64,2m",
		"--dhcp-option=option6:dns-server,["+dnsIP.String()+"]",
		"--enable-ra",
		"--no-ping",
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
	d.waitLog(t, "DHCPv6, IP range", 5*time.Second)
	return d
}

// stub is a controllable DHCPv6 server (dhcpv6/server6) on srv0 of the peer
// namespace: it advertises stubAddr and answers every REQUEST, RENEW and
// REBIND with it and the configured timers, and can be told to ignore
// RENEWs.
type stub struct {
	t1, t2, lifetime time.Duration
	srv              *server6.Server
	served           chan struct{}
	stopOnce         sync.Once

	mu         sync.Mutex
	dropRenews bool
	msgs       []stubMsg
}

type stubMsg struct {
	at       time.Time
	typ      dhcpv6.MessageType
	answered bool
}

var (
	stubAddr = netip.MustParseAddr("fdb3:84e5:4ff4:55e3::100")
	stubDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x53}}
)

func startStub(t *testing.T, bed *testbed, t1, t2, lifetime time.Duration) *stub {
	t.Helper()
	s := &stub{t1: t1, t2: t2, lifetime: lifetime, served: make(chan struct{})}
	err := bed.peer.Do(func() error {
		var err error
		s.srv, err = server6.NewServer("srv0", nil, s.handle)
		return err
	})
	if err != nil {
		t.Fatalf("starting the stub DHCPv6 server: %v", err)
	}
	go func() {
		defer close(s.served)
		s.srv.Serve()
	}()
	t.Cleanup(s.stop)
	return s
}

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

func (s *stub) handle(conn net.PacketConn, peer net.Addr, d dhcpv6.DHCPv6) {
	m, ok := d.(*dhcpv6.Message)
	if !ok {
		return
	}
	rec := stubMsg{at: time.Now(), typ: m.MessageType}
	var reply *dhcpv6.Message
	var err error
	s.mu.Lock()
	switch m.MessageType {
	case dhcpv6.MessageTypeSolicit:
		reply, err = dhcpv6.NewAdvertiseFromSolicit(m)
	case dhcpv6.MessageTypeRenew:
		if s.dropRenews {
			break
		}
		fallthrough
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeRelease:
		reply, err = dhcpv6.NewReplyFromMessage(m)
	}
	rec.answered = reply != nil && err == nil
	s.msgs = append(s.msgs, rec)
	t1, t2, lifetime := s.t1, s.t2, s.lifetime
	s.mu.Unlock()
	if !rec.answered {
		return
	}
	reply.AddOption(dhcpv6.OptServerID(stubDUID))
	if ia := m.Options.OneIANA(); ia != nil && m.MessageType != dhcpv6.MessageTypeRelease {
		out := &dhcpv6.OptIANA{IaId: ia.IaId, T1: t1, T2: t2}
		out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: stubAddr.AsSlice(), PreferredLifetime: lifetime, ValidLifetime: lifetime})
		reply.AddOption(out)
	}
	conn.WriteTo(reply.ToBytes(), peer)
}
