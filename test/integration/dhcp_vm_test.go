//go:build vmtest

package integration

import (
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestDHCPOnABridgedVLANNetworkOnABond: the switch side is a bridge over
// the peers of both bond slaves, with VLAN 100 on it serving DHCP; the host
// gets its lease on the network's bridge, over the VLAN over the bond, and
// the default route from it.
func TestDHCPOnABridgedVLANNetworkOnABond(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	sw := netlink.NewLinkAttrs()
	sw.Name = "sw"
	if err := peer.Handle.LinkAdd(&netlink.Bridge{LinkAttrs: sw}); err != nil {
		t.Fatal(err)
	}
	br := nstest.SetUp(t, peer, "sw")
	for _, p := range []string{"p0", "p1"} {
		if err := peer.Handle.LinkSetMaster(nstest.Link(t, peer, p), br); err != nil {
			t.Fatal(err)
		}
	}
	vlan := netlink.NewLinkAttrs()
	vlan.Name, vlan.ParentIndex = "sw.100", br.Attrs().Index
	if err := peer.Handle.LinkAdd(&netlink.Vlan{LinkAttrs: vlan, VlanId: 100}); err != nil {
		t.Fatal(err)
	}
	nstest.SetUp(t, peer, "sw.100")
	startDnsmasq(t, peer, "sw.100")

	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>dyn</name><vlan id="100"/><usages><usage>vm</usage><usage>default_route</usage></usages></network>`)
	setup(t, ag, `<action><modified_bonds><host_nic><name>bond0</name><bonding><options>
<option><name>mode</name><value>1</value></option><option><name>miimon</name><value>100</value></option></options>
<slaves><host_nic><name>eth0</name></host_nic><host_nic><name>eth1</name></host_nic></slaves></bonding></host_nic></modified_bonds>
<modified_network_attachments><network_attachment><network><name>dyn</name></network><host_nic><name>bond0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments>
</network_attachment></modified_network_attachments></action>`)
	addr := waitLease(t, ag, host, "dyn")
	t.Logf("lease %s on dyn (bridge) over bond0.100 over bond0", addr)
	if !contains(routesOf(t, host), "254 0.0.0.0/0 via 192.0.3.1 dev dyn") {
		t.Errorf("no default route from the lease: %v", routesOf(t, host))
	}
}
