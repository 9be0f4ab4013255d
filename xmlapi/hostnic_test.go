package xmlapi

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func testContext() Context {
	return Context{HostID: "H", NicID: func(name string) string { return "id-" + name }}
}

// bondVLANBridgeState is a host with an 802.3ad bond over eth0 and eth1, a
// VLAN 100 on it carrying a bridge with static IPv4 and IPv6 addresses and the
// default routes, and a DHCP address on eth2.
func bondVLANBridgeState() *netconf.State {
	p := netip.MustParsePrefix
	return &netconf.State{
		Links: []netconf.Link{
			{Index: 5, Name: "bond0", Kind: netconf.KindBond, MAC: "52:54:00:0c:79:1d", MTU: 9000, AdminUp: true, OperState: netconf.OperUp, Speed: 20_000_000_000,
				Bond: &netconf.Bond{Mode: netconf.Bond8023AD, Slaves: []string{"eth0", "eth1"}, AggregatorID: 1, PartnerMAC: "00:1b:21:aa:bb:cc",
					Options: []netconf.BondOption{{Name: "miimon", Value: "100"}, {Name: "xmit_hash_policy", Value: "layer3+4"}}}},
			{Index: 7, Name: "bond0.100", Kind: netconf.KindVLAN, MAC: "52:54:00:0c:79:1d", MTU: 9000, AdminUp: true, OperState: netconf.OperUp,
				Master: "vmnet100", VLAN: &netconf.VLAN{ID: 100, Base: "bond0"}},
			{Index: 2, Name: "eth0", Kind: netconf.KindDevice, MAC: "52:54:00:0c:79:1d", MTU: 9000, AdminUp: true, OperState: netconf.OperUp, Speed: 10_000_000_000,
				Master: "bond0", BondSlave: &netconf.BondSlave{AggregatorID: 1}},
			{Index: 3, Name: "eth1", Kind: netconf.KindDevice, MAC: "52:54:00:0c:79:1e", MTU: 9000, AdminUp: true, OperState: netconf.OperDown,
				Master: "bond0", BondSlave: &netconf.BondSlave{AggregatorID: 1}},
			{Index: 4, Name: "eth2", Kind: netconf.KindDevice, MAC: "52:54:00:0c:79:1f", MTU: 1500, AdminUp: true, OperState: netconf.OperUp,
				Addrs: []netconf.Addr{{Prefix: p("192.0.3.13/24"), Dynamic: true, ValidLft: 120, PreferredLft: 120}},
				Stats: netconf.LinkStats{RxBytes: 1000, TxBytes: 2000, RxPackets: 10, TxPackets: 20, RxErrors: 1, TxDropped: 2}},
			{Index: 8, Name: "vmnet100", Kind: netconf.KindBridge, MAC: "52:54:00:0c:79:1d", MTU: 9000, AdminUp: true, OperState: netconf.OperUnknown,
				Addrs: []netconf.Addr{
					{Prefix: p("10.0.0.5/24")},
					{Prefix: p("10.0.0.6/24")},
					{Prefix: p("2001:db8::5/64")},
					{Prefix: p("fe80::5054:ff:fe0c:791d/64"), LinkLocal: true},
				}},
		},
		Routes: []netconf.Route{
			{Dst: p("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.0.0.1"), Link: "vmnet100", Table: netconf.MainTable},
			{Dst: p("::/0"), Gateway: netip.MustParseAddr("2001:db8::1"), Link: "vmnet100", Table: netconf.MainTable},
			{Dst: p("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.3.1"), Link: "eth2", Table: 1234},
		},
	}
}

func allLinks(st *netconf.State) []*netconf.Link {
	out := make([]*netconf.Link, len(st.Links))
	for i := range st.Links {
		out[i] = &st.Links[i]
	}
	return out
}

func TestHostNicsGolden(t *testing.T) {
	st := bondVLANBridgeState()
	doc := HostNics(testContext(), st, allLinks(st))
	golden(t, "host_nics.xml", MarshalXML(doc))
	golden(t, "host_nics.json", MarshalJSON(doc))
}

func TestStatisticsGolden(t *testing.T) {
	st := bondVLANBridgeState()
	eth2, _ := st.Link("eth2")
	doc := Statistics(testContext(), eth2)
	golden(t, "statistics.xml", MarshalXML(doc))
	golden(t, "statistics.json", MarshalJSON(doc))
}

func TestFaultGolden(t *testing.T) {
	doc := FaultNode(Fault{Reason: "Entity not found: host_nic", Detail: `host_nic "x" does not exist`, Code: "ENTITY_NOT_FOUND"})
	golden(t, "fault.xml", MarshalXML(doc))
	golden(t, "fault.json", MarshalJSON(doc))
}

func TestHostsGolden(t *testing.T) {
	doc := Hosts(testContext(), HostInfo{ID: "H", Name: "hv1.example.org", Status: "up"})
	golden(t, "hosts.xml", MarshalXML(doc))
	golden(t, "hosts.json", MarshalJSON(doc))
}

func TestBootProtocols(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name     string
		addrs    []netconf.Addr
		want4    string
		want6    string
		wantIPv4 string
		wantIPv6 string
	}{
		{name: "no-addresses", want4: "none", want6: "none"},
		{name: "link-local-only", addrs: []netconf.Addr{{Prefix: p("fe80::1/64"), LinkLocal: true}}, want4: "none", want6: "none"},
		{name: "static-both", addrs: []netconf.Addr{{Prefix: p("192.0.2.1/24")}, {Prefix: p("2001:db8::1/64")}}, want4: "static", want6: "static"},
		{name: "dhcp-primary", addrs: []netconf.Addr{{Prefix: p("192.0.2.1/24"), Dynamic: true}, {Prefix: p("192.0.2.2/24")}}, want4: "dhcp", want6: "none"},
		{name: "static-primary-with-dynamic-alias", addrs: []netconf.Addr{{Prefix: p("192.0.2.2/24")}, {Prefix: p("192.0.2.1/24"), Dynamic: true}}, want4: "static", want6: "none"},
		{name: "slaac", addrs: []netconf.Addr{{Prefix: p("2001:db8::5054:ff:fe00:1/64"), Dynamic: true, AutoconfEUI64: true}}, want4: "none", want6: "autoconf"},
		{name: "dhcpv6", addrs: []netconf.Addr{{Prefix: p("2001:db8::a/128"), Dynamic: true}}, want4: "none", want6: "dhcp"},
		{name: "dhcpv6-and-slaac", addrs: []netconf.Addr{{Prefix: p("2001:db8::a/128"), Dynamic: true}, {Prefix: p("2001:db8::5054:ff:fe00:1/64"), Dynamic: true, AutoconfEUI64: true}}, want4: "none", want6: "poly_dhcp_autoconf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &netconf.Link{Name: "eth0", Addrs: tt.addrs}
			v4, _ := primaryAddrs(l)
			if got := bootProtocol4(v4); got != tt.want4 {
				t.Errorf("boot_protocol = %q; want %q", got, tt.want4)
			}
			if got := bootProtocol6(l); got != tt.want6 {
				t.Errorf("ipv6_boot_protocol = %q; want %q", got, tt.want6)
			}
		})
	}
}
