package dhcp6

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/dhcpv6/server6"
	"github.com/insomniacslk/dhcp/iana"
	"go.uber.org/zap/zaptest"

	"github.com/hostnetd/hostnetd/agent/internal/dhcptest"
	"github.com/hostnetd/hostnetd/netconf/kernel"
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
	ns, peer, mac := dhcptest.Testbed(t, netip.PrefixFrom(serverIP, 64))
	return &testbed{ns: ns, peer: peer, mac: mac}
}

// Shared with dhcp4's tests.
var (
	kernelAddr     = dhcptest.KernelAddr
	requireDynamic = dhcptest.RequireDynamic
)

// events collects OnChange calls.
type events struct{ *dhcptest.Events[Lease] }

func newEvents() *events { return &events{dhcptest.NewEvents[Lease]("dhcp6")} }

func (e *events) onChange(l Lease) { e.OnChange(l) }

// next waits for the next OnChange.
func (e *events) next(t *testing.T, within time.Duration) Lease { t.Helper(); return e.Next(t, within) }

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

// dnsmasq is a dnsmasq serving srv0 in the peer namespace.
type dnsmasq struct{ *dhcptest.Dnsmasq }

func (d dnsmasq) output() string { return d.Output() }

// waitLog waits for s in dnsmasq's log.
func (d dnsmasq) waitLog(t *testing.T, s string, within time.Duration) {
	t.Helper()
	d.WaitLog(t, s, within)
}

// startDnsmasq runs dnsmasq on srv0 of bed's peer namespace: 2 min leases
// from ::a–::64 of the subnet, name server ::53, router advertisements on.
// It is killed at cleanup.
func startDnsmasq(t *testing.T, bed *testbed) dnsmasq {
	t.Helper()
	return dnsmasq{dhcptest.StartDnsmasq(t, bed.peer, "DHCPv6, IP range",
		"--dhcp-range=fdb3:84e5:4ff4:55e3::a,fdb3:84e5:4ff4:55e3::64,2m",
		"--dhcp-option=option6:dns-server,["+dnsIP.String()+"]",
		"--enable-ra",
	)}
}

// stub is a controllable DHCPv6 server (dhcpv6/server6) on srv0 of the peer
// namespace: it advertises stubAddr and answers every REQUEST, RENEW and
// REBIND with it and the configured timers, and can be told to ignore
// RENEWs.
type stub struct {
	t1, t2, lifetime time.Duration
	// stop closes the server and waits for its loop.
	stop func()

	mu         sync.Mutex
	dropRenews bool
	// pref is the preference option of the stub's ADVERTISE (none when
	// 0). With rival set, a second server (rivalDUID) advertises
	// rivalAddr rival.delay (200 ms when 0) after the stub, with
	// preference rival.pref, and answers the REQUESTs that name it;
	// rivalSent is when it last advertised.
	pref      uint8
	rival     *rival
	rivalSent time.Time
	msgs      []stubMsg
}

type rival struct {
	pref  uint8
	delay time.Duration
}

type stubMsg struct {
	at       time.Time
	typ      dhcpv6.MessageType
	answered bool
	toRival  bool // a REQUEST naming the rival server
}

var (
	stubAddr = netip.MustParseAddr("fdb3:84e5:4ff4:55e3::100")
	stubDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x53}}

	rivalAddr = netip.MustParseAddr("fdb3:84e5:4ff4:55e3::200")
	rivalDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x54}}
)

func startStub(t *testing.T, bed *testbed, t1, t2, lifetime time.Duration) *stub {
	t.Helper()
	s := &stub{t1: t1, t2: t2, lifetime: lifetime}
	var srv *server6.Server
	err := bed.peer.Do(func() error {
		var err error
		srv, err = server6.NewServer("srv0", nil, s.handle)
		return err
	})
	if err != nil {
		t.Fatalf("starting the stub DHCPv6 server: %v", err)
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
	duid, addr := dhcpv6.DUID(stubDUID), stubAddr
	if sid := m.Options.ServerID(); s.rival != nil && sid != nil && sid.Equal(rivalDUID) {
		rec.toRival, duid, addr = true, rivalDUID, rivalAddr
	}
	s.msgs = append(s.msgs, rec)
	t1, t2, lifetime, pref, rv := s.t1, s.t2, s.lifetime, s.pref, s.rival
	s.mu.Unlock()
	if !rec.answered {
		return
	}
	answer := func(reply *dhcpv6.Message, duid dhcpv6.DUID, addr netip.Addr, pref uint8) {
		reply.AddOption(dhcpv6.OptServerID(duid))
		if pref != 0 {
			reply.AddOption(dhcpv6.OptPreference(pref))
		}
		if ia := m.Options.OneIANA(); ia != nil && m.MessageType != dhcpv6.MessageTypeRelease {
			out := &dhcpv6.OptIANA{IaId: ia.IaId, T1: t1, T2: t2}
			out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: addr.AsSlice(), PreferredLifetime: lifetime, ValidLifetime: lifetime})
			reply.AddOption(out)
		}
		conn.WriteTo(reply.ToBytes(), peer)
	}
	if m.MessageType != dhcpv6.MessageTypeSolicit {
		answer(reply, duid, addr, 0)
		return
	}
	answer(reply, stubDUID, stubAddr, pref)
	if rv != nil {
		time.Sleep(cmp.Or(rv.delay, 200*time.Millisecond))
		if second, err := dhcpv6.NewAdvertiseFromSolicit(m); err == nil {
			s.mu.Lock()
			s.rivalSent = time.Now()
			s.mu.Unlock()
			answer(second, rivalDUID, rivalAddr, rv.pref)
		}
	}
}

// eventWait bounds the waits for a client's events (dhcptest.EventWait).
const eventWait = dhcptest.EventWait
