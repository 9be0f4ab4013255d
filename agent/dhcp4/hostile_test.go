package dhcp4

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// TestParseAckRefusesHostileAnswers: an ACK whose address no host can use
// gives no lease, and name servers a resolver cannot query are dropped.
func TestParseAckRefusesHostileAnswers(t *testing.T) {
	ack := func(yiaddr net.IP, opts ...dhcpv4.Option) *dhcpv4.DHCPv4 {
		m, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(yiaddr))
		if err != nil {
			t.Fatal(err)
		}
		m.UpdateOption(dhcpv4.OptIPAddressLeaseTime(time.Hour))
		for _, o := range opts {
			m.UpdateOption(o)
		}
		return m
	}
	mask24 := dhcpv4.OptSubnetMask(net.CIDRMask(24, 32))
	for name, m := range map[string]*dhcpv4.DHCPv4{
		"loopback":         ack(net.IPv4(127, 0, 0, 1), dhcpv4.OptSubnetMask(net.CIDRMask(8, 32))),
		"broadcast":        ack(net.IPv4(255, 255, 255, 255)),
		"multicast":        ack(net.IPv4(224, 0, 0, 1)),
		"class e":          ack(net.IPv4(240, 0, 0, 5), mask24),
		"link-local":       ack(net.IPv4(169, 254, 3, 4), dhcpv4.OptSubnetMask(net.CIDRMask(16, 32))),
		"mask 0":           ack(net.IPv4(192, 0, 2, 10), dhcpv4.OptSubnetMask(net.CIDRMask(0, 32))),
		"network address":  ack(net.IPv4(192, 0, 2, 0), mask24),
		"subnet broadcast": ack(net.IPv4(192, 0, 2, 255), mask24),
	} {
		if l, err := parseAck(m, time.Now(), nil); err == nil {
			t.Errorf("%s: lease %+v; want the ACK refused", name, l)
		}
	}
	l, err := parseAck(ack(net.IPv4(192, 0, 2, 10), mask24, dhcpv4.OptDNS(
		net.IPv4(255, 255, 255, 255), net.IPv4(224, 0, 0, 1), net.IPv4(127, 0, 0, 53), net.IPv4(192, 0, 2, 255),
		net.IPv4(0, 0, 0, 0), net.IPv4(169, 254, 1, 1), net.IPv4(192, 0, 2, 53), net.IPv4(192, 0, 2, 53), net.IPv4(198, 51, 100, 53))), time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("198.51.100.53")}; !slices.Equal(l.DNS, want) {
		t.Errorf("name servers kept: %v; want %v", l.DNS, want)
	}
	lease := Lease{Address: netip.MustParsePrefix("192.0.2.10/24")}
	for router, ok := range map[string]bool{
		"192.0.2.1": true, "192.0.2.254": true, "198.51.100.1": false, "192.0.2.10": false, "192.0.2.255": false,
		"192.0.2.0": false, "224.0.0.1": false, "127.0.0.1": false, "255.255.255.255": false,
	} {
		lease.Router = netip.MustParseAddr(router)
		if got := UsableRouter(lease); got != ok {
			t.Errorf("UsableRouter(%s in %s) = %v; want %v", router, lease.Address, got, ok)
		}
	}
}

// TestRenewWithBroadcastAcks: a server that broadcasts its answers to
// renewals (RFC 2131 §4.1 allows it) renews the lease at T1, without
// rebinding or losing it: the renewal socket hears broadcasts.
func TestRenewWithBroadcastAcks(t *testing.T) {
	t.Parallel()
	bed := newTestbed(t)
	srv := startStub(t, bed, windowLease)
	srv.set(func(s *stub) { s.broadcastAcks = true })
	ev := newEvents()
	start(t, bed, "eth0", ev, nil)
	first := ev.next(t, eventWait)
	for range 2 {
		renewed := ev.next(t, windowLease+eventWait)
		if !renewed.Bound || renewed.Address != first.Address {
			t.Fatalf("after %s: %+v; want %s renewed", first.Address, renewed, first.Address)
		}
		if at := renewed.Acquired.Sub(first.Acquired); at >= first.T2 {
			t.Errorf("renewed %s after the lease began; want before T2 (%s): the broadcast ACK of the renewal was missed", at, first.T2)
		}
		first = renewed
	}
}
