package xmlapi

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

// TestHostNicsWorkIsLinear guards GET /nics against quadratic work by
// counting it, never by timing it: the answer for S(4n) (a bond carrying
// 4n bridged VLAN networks with an address each and a route each) may
// allocate at most 5 times what S(n)'s does; linear is 4, quadratic 16.
func TestHostNicsWorkIsLinear(t *testing.T) {
	const n, limit = 250, 5.0
	measure := func(n int) float64 {
		st, c := scaleState(n)
		links := make([]*netconf.Link, 0, len(st.Links))
		for i := range st.Links {
			links = append(links, &st.Links[i])
		}
		if doc := MarshalXML(HostNics(c, st, links)); len(doc) < n*1000 {
			t.Fatalf("S(%d): the answer is only %d bytes", n, len(doc))
		}
		return testing.AllocsPerRun(2, func() { MarshalXML(HostNics(c, st, links)) })
	}
	small, large := measure(n), measure(4*n)
	growth := large / small
	t.Logf("GET /nics allocations: %.0f at N=%d, %.0f at N=%d (×%.2f)", small, n, large, 4*n, growth)
	if growth > limit {
		t.Errorf("GET /nics allocations grow ×%.2f from N=%d to N=%d: superlinear", growth, n, 4*n)
	}
}

// scaleState is the kernel state of S(n) and the rendering context the
// agent gives it: every network's bridge carries it, one has a gateway.
func scaleState(n int) (*netconf.State, Context) {
	st := &netconf.State{}
	carried := map[string][2]string{}
	st.Links = append(st.Links,
		netconf.Link{Name: "bond0", Kind: netconf.KindBond, MAC: "02:00:00:00:b0:00", MTU: 1500, AdminUp: true, OperState: netconf.OperUp,
			Bond: &netconf.Bond{Mode: netconf.Bond8023AD, Options: []netconf.BondOption{{Name: "miimon", Value: "100"}}, Slaves: []string{"eth0", "eth1"}}},
	)
	for i := range n {
		vlan, bridge := fmt.Sprintf("bond0.%d", 1+i), fmt.Sprintf("net%04d", i)
		prefix := netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.1/24", 100+i/256, i%256))
		st.Links = append(st.Links,
			netconf.Link{Name: vlan, Kind: netconf.KindVLAN, MAC: "02:00:00:00:b0:00", MTU: 1500, AdminUp: true, OperState: netconf.OperUp,
				Master: bridge, VLAN: &netconf.VLAN{ID: 1 + i, Base: "bond0"}},
			netconf.Link{Name: bridge, Kind: netconf.KindBridge, MAC: "02:00:00:00:b0:00", MTU: 1500, AdminUp: true, OperState: netconf.OperUp,
				Addrs: []netconf.Addr{{Prefix: prefix}}})
		st.Routes = append(st.Routes, netconf.Route{Dst: prefix.Masked(), Link: bridge, Table: netconf.MainTable})
		carried[vlan] = [2]string{"id-" + bridge, bridge}
		carried[bridge] = [2]string{"id-" + bridge, bridge}
	}
	st.Routes = append(st.Routes, netconf.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.100.0.254"),
		Link: "net0000", Table: netconf.MainTable})
	for _, nic := range []string{"eth0", "eth1"} {
		st.Links = append(st.Links, netconf.Link{Name: nic, Kind: netconf.KindVeth, MAC: "02:00:00:00:b0:00", MTU: 1500, AdminUp: true,
			OperState: netconf.OperUp, Master: "bond0", Speed: 10_000_000_000, BondSlave: &netconf.BondSlave{AggregatorID: 1}})
	}
	sortLinks(st.Links)
	c := Context{
		HostID: "host",
		NicID:  func(name string) string { return "id-" + name },
		NicNetwork: func(name string) (string, string, bool) {
			v, ok := carried[name]
			return v[0], v[1], ok
		},
		NicOutOfSync: func(string) bool { return false },
	}
	return st, c
}

func sortLinks(links []netconf.Link) {
	for i := 1; i < len(links); i++ {
		for j := i; j > 0 && links[j].Name < links[j-1].Name; j-- {
			links[j], links[j-1] = links[j-1], links[j]
		}
	}
}
