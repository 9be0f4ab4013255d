package xmlapi

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
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
		// As the agent writes it: a NIC at a time.
		return testing.AllocsPerRun(2, func() {
			if err := HostNicList(c, st, links).WriteXML(io.Discard); err != nil {
				t.Fatal(err)
			}
		})
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

// TestSetupNetworksRequestWorkIsLinear guards reading a request the same
// way: parsing and decoding the setupnetworks of S(4n) may allocate at
// most 5 times what S(n)'s does.
func TestSetupNetworksRequestWorkIsLinear(t *testing.T) {
	const n, limit = 250, 5.0
	measure := func(n int) float64 {
		body := []byte(scaleRequestXML(n))
		run := func() int {
			root, err := ParseXML(body)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := DecodeSetupNetworks(root)
			if err != nil {
				t.Fatal(err)
			}
			return len(cs.ModifiedAttachments)
		}
		if got := run(); got != n {
			t.Fatalf("S(%d) decoded %d attachments", n, got)
		}
		return testing.AllocsPerRun(2, func() { run() })
	}
	small, large := measure(n), measure(4*n)
	growth := large / small
	t.Logf("setupnetworks parse and decode allocations: %.0f at N=%d, %.0f at N=%d (×%.2f)", small, n, large, 4*n, growth)
	if growth > limit {
		t.Errorf("reading setupnetworks grows ×%.2f from N=%d to N=%d: superlinear", growth, n, 4*n)
	}
}

// scaleRequestXML is the benchmark's request for S(n): the bond and n
// attachments with a static address each.
func scaleRequestXML(n int) string {
	var b strings.Builder
	b.WriteString(`<action><modified_bonds><host_nic><name>bond0</name><bonding><options>` +
		`<option><name>mode</name><value>4</value></option></options><slaves>` +
		`<host_nic><name>eth0</name></host_nic><host_nic><name>eth1</name></host_nic></slaves></bonding></host_nic></modified_bonds>` +
		`<modified_network_attachments>`)
	for i := range n {
		fmt.Fprintf(&b, `<network_attachment><network><name>net%04d</name></network><host_nic><name>bond0</name></host_nic>`+
			`<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>`+
			`<ip><address>10.%d.%d.1</address><netmask>255.255.255.0</netmask><version>v4</version></ip>`+
			`</ip_address_assignment></ip_address_assignments></network_attachment>`, i, 100+i/256, i%256)
	}
	b.WriteString(`</modified_network_attachments><commit_on_success>true</commit_on_success></action>`)
	return b.String()
}
