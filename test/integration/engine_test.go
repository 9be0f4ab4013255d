package integration

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// engineHost is a host namespace with veth NICs eth0..eth3 (peers in a
// second namespace) and an agent managing it.
func engineHost(t *testing.T) (*kernel.Namespace, *agenttest.Agent) {
	t.Helper()
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 4 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	return host, agenttest.Start(t, host)
}

func addNetwork(t *testing.T, ag *agenttest.Agent, xml string) string {
	t.Helper()
	r := ag.Do(t, "POST", "/ovirt-engine/api/networks", []byte(xml), "Content-Type: application/xml")
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /networks: %d\n%s", r.Status, r.Body)
	}
	id, _ := parseXML(t, r).Attr("id")
	return id
}

// setup posts a setupnetworks action and returns the kernel writes it made.
func setup(t *testing.T, ag *agenttest.Agent, action string) int {
	t.Helper()
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(action), "Content-Type: application/xml")
	if r.Status != http.StatusOK {
		t.Fatalf("setupnetworks: %d\n%s", r.Status, r.Body)
	}
	if got := text(parseXML(t, r), "status"); got != "complete" {
		t.Fatalf("setupnetworks status = %q; want complete\n%s", got, r.Body)
	}
	n, err := strconv.Atoi(r.Header.Get("X-Hostnetd-Kernel-Writes"))
	if err != nil {
		t.Fatalf("no kernel write count: %v", err)
	}
	checkAllInSync(t, ag)
	return n
}

// checkAllInSync fails the test if any attachment is reported out of sync
// right after hostnetd applied it: a false positive.
func checkAllInSync(t *testing.T, ag *agenttest.Agent) {
	t.Helper()
	for _, att := range parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment") {
		if text(att, "in_sync") != "true" {
			t.Errorf("an attachment is out of sync right after apply:\n%s", att.Canonical())
		}
	}
}

func staticAttachment(network, nic, addr, mask string) string {
	return fmt.Sprintf(`<network_attachment><network><name>%s</name></network><host_nic><name>%s</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>
<ip><address>%s</address><netmask>%s</netmask></ip></ip_address_assignment></ip_address_assignments></network_attachment>`, network, nic, addr, mask)
}

func modified(attachments ...string) string {
	return "<action><modified_network_attachments>" + strings.Join(attachments, "") + "</modified_network_attachments></action>"
}

// linkState reads one link with netlink: MTU, master name, and addresses
// other than link-local.
func linkState(t *testing.T, ns *kernel.Namespace, name string) (mtu int, master string, addrs []string) {
	t.Helper()
	l := nstest.Link(t, ns, name)
	if idx := l.Attrs().MasterIndex; idx > 0 {
		m, err := ns.Handle.LinkByIndex(idx)
		if err != nil {
			t.Fatal(err)
		}
		master = m.Attrs().Name
	}
	list, err := ns.Handle.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if !a.IP.IsLinkLocalUnicast() {
			addrs = append(addrs, a.IPNet.String())
		}
	}
	return l.Attrs().MTU, master, addrs
}

func linkExists(ns *kernel.Namespace, name string) bool {
	_, err := ns.Handle.LinkByName(name)
	return err == nil
}

func TestSetupNetworksBridgedNetworkWithStaticIP(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>9000</mtu><usages><usage>vm</usage></usages></network>`)
	action := modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "255.255.255.0"))
	if writes := setup(t, ag, action); writes == 0 {
		t.Fatal("the first apply made no kernel write")
	}
	l := nstest.Link(t, host, "vmnet")
	if l.Type() != "bridge" || l.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("vmnet: type %s flags %v; want an up bridge", l.Type(), l.Attrs().Flags)
	}
	if got, want := l.Attrs().HardwareAddr.String(), nstest.Link(t, host, "eth0").Attrs().HardwareAddr.String(); got != want {
		t.Errorf("vmnet MAC = %s; want its port's, %s (a DHCP lease must survive bridging)", got, want)
	}
	mtu, master, addrs := linkState(t, host, "eth0")
	if mtu != 9000 || master != "vmnet" || len(addrs) != 0 {
		t.Errorf("eth0: mtu %d master %q addrs %v; want 9000, a port of vmnet, no address", mtu, master, addrs)
	}
	mtu, _, addrs = linkState(t, host, "vmnet")
	if mtu != 9000 || strings.Join(addrs, " ") != "192.0.2.10/24" {
		t.Errorf("vmnet: mtu %d addrs %v; want 9000 and 192.0.2.10/24", mtu, addrs)
	}
	if writes := setup(t, ag, action); writes != 0 {
		t.Errorf("re-applying the same request made %d kernel writes; want 0", writes)
	}
	eth0 := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0"))
	if text(eth0, "ip", "address") != "192.0.2.10" || text(eth0, "boot_protocol") != "static" || text(eth0, "bridged") != "true" || eth0.Child("network") == nil {
		t.Errorf("eth0 should report vmnet, its address and bridged=true, as oVirt does:\n%s", eth0.Canonical())
	}
	atts := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0/networkattachments")).All("network_attachment")
	if len(atts) != 1 || text(atts[0].Child("ip_address_assignments").Child("ip_address_assignment").Child("ip"), "address") != "192.0.2.10" {
		t.Errorf("GET eth0's attachments: %d attachments", len(atts))
	}
}

func TestSetupNetworksBridgelessDualStack(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>storage</name></network>`)
	action := `<action><modified_network_attachments><network_attachment><network><name>storage</name></network><host_nic><name>eth1</name></host_nic>
<ip_address_assignments>
<ip_address_assignment><assignment_method>static</assignment_method><ip><address>198.51.100.7</address><netmask>24</netmask><version>v4</version></ip></ip_address_assignment>
<ip_address_assignment><assignment_method>static</assignment_method><ip><address>2001:0db8:0000:0000:0000:0000:0000:0007</address><netmask>64</netmask><version>v6</version></ip></ip_address_assignment>
</ip_address_assignments></network_attachment></modified_network_attachments></action>`
	setup(t, ag, action)
	_, master, addrs := linkState(t, host, "eth1")
	if master != "" || strings.Join(addrs, " ") != "198.51.100.7/24 2001:db8::7/64" {
		t.Errorf("eth1: master %q addrs %v; want no master, 198.51.100.7/24 and 2001:db8::7/64", master, addrs)
	}
	if linkExists(host, "storage") {
		t.Error("a bridgeless network created a bridge")
	}
	if writes := setup(t, ag, action); writes != 0 {
		t.Errorf("re-apply made %d kernel writes; want 0", writes)
	}
}

func TestRemovingANetworkGivesTheNICBack(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>9000</mtu><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")))
	att, _ := parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).Child("network_attachment").Attr("id")
	setup(t, ag, `<action><removed_network_attachments><network_attachment id="`+att+`"/></removed_network_attachments></action>`)
	if linkExists(host, "vmnet") {
		t.Error("the bridge is still there")
	}
	mtu, master, addrs := linkState(t, host, "eth0")
	if mtu != 1500 || master != "" || len(addrs) != 0 {
		t.Errorf("eth0: mtu %d master %q addrs %v; want 1500, free, no address", mtu, master, addrs)
	}
	if n := len(parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment")); n != 0 {
		t.Errorf("%d attachments remain", n)
	}
}

func TestMoveNetworkToAnotherNIC(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")))
	bridgeIndex := nstest.Link(t, host, "vmnet").Attrs().Index
	att, _ := parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).Child("network_attachment").Attr("id")
	eth1 := nicsByName(t, parseXML(t, ag.Get(t, ag.HostPath()+"/nics")))["eth1"]
	eth1ID, _ := eth1.Attr("id")
	r := ag.Do(t, "PUT", ag.HostPath()+"/networkattachments/"+att, []byte(`<network_attachment><host_nic id="`+eth1ID+`"/></network_attachment>`))
	if r.Status != http.StatusOK {
		t.Fatalf("PUT: %d\n%s", r.Status, r.Body)
	}
	if _, master, _ := linkState(t, host, "eth1"); master != "vmnet" {
		t.Errorf("eth1 master = %q; want vmnet", master)
	}
	if mtu, master, _ := linkState(t, host, "eth0"); mtu != 1500 || master != "" {
		t.Errorf("eth0: mtu %d master %q; want 1500 and free", mtu, master)
	}
	if got := nstest.Link(t, host, "vmnet").Attrs().Index; got != bridgeIndex {
		t.Errorf("the bridge was re-created (index %d, was %d)", got, bridgeIndex)
	}
	if _, _, addrs := linkState(t, host, "vmnet"); strings.Join(addrs, " ") != "192.0.2.10/24" {
		t.Errorf("vmnet addrs = %v; want the address kept", addrs)
	}
}

func TestPerNicAttachmentLifecycle(t *testing.T) {
	host, ag := engineHost(t)
	id := addNetwork(t, ag, `<network><name>plain</name></network>`)
	base := ag.HostPath() + "/nics/eth2/networkattachments"
	r := ag.Do(t, "POST", base, []byte(`<network_attachment><network id="`+id+`"/><ip_configuration><ipv4s><ipv4><boot_protocol>static</boot_protocol><address>10.0.0.15</address><netmask>255.255.255.0</netmask></ipv4></ipv4s></ip_configuration></network_attachment>`))
	if r.Status != http.StatusCreated {
		t.Fatalf("POST attachment: %d\n%s", r.Status, r.Body)
	}
	att, _ := parseXML(t, r).Attr("id")
	if _, _, addrs := linkState(t, host, "eth2"); strings.Join(addrs, " ") != "10.0.0.15/24" {
		t.Errorf("eth2 addrs = %v", addrs)
	}
	// The design page's PUT: boot_protocol beside the primary ipv4.
	r = ag.Do(t, "PUT", base+"/"+att, []byte(`<network_attachment><ip_configuration><ipv4s><boot_protocol>static</boot_protocol>
<ipv4><primary>true</primary><address>
10.0.0.16
</address><netmask>255.255.255.0</netmask><gateway>10.0.0.254</gateway></ipv4></ipv4s></ip_configuration></network_attachment>`))
	if r.Status != http.StatusOK {
		t.Fatalf("PUT attachment: %d\n%s", r.Status, r.Body)
	}
	if _, _, addrs := linkState(t, host, "eth2"); strings.Join(addrs, " ") != "10.0.0.16/24" {
		t.Errorf("eth2 addrs after PUT = %v; want only 10.0.0.16/24", addrs)
	}
	again := ag.Do(t, "POST", base, []byte(`<network_attachment><network id="`+id+`"/></network_attachment>`))
	expectFault(t, again, http.StatusBadRequest, "ATTACHMENT_IS_NOT_REUSED")
	if r := ag.Do(t, "DELETE", base+"/"+att, nil); r.Status != http.StatusOK {
		t.Fatalf("DELETE attachment: %d\n%s", r.Status, r.Body)
	}
	if _, _, addrs := linkState(t, host, "eth2"); len(addrs) != 0 {
		t.Errorf("eth2 addrs after DELETE = %v; want none", addrs)
	}
	if r := ag.Get(t, base+"/"+att); r.Status != http.StatusNotFound {
		t.Errorf("GET a deleted attachment: %d; want 404", r.Status)
	}
}

// TestNICTakenIntoABridgeLosesItsAddresses: a bridge port carries no IP.
func TestNICTakenIntoABridgeLosesItsAddresses(t *testing.T) {
	host, ag := engineHost(t)
	addAddr(t, host.Handle, nstest.Link(t, host, "eth3"), "203.0.113.9/24", 0)
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>vmnet</name></network><host_nic><name>eth3</name></host_nic></network_attachment>`))
	if _, master, addrs := linkState(t, host, "eth3"); master != "vmnet" || len(addrs) != 0 {
		t.Errorf("eth3: master %q addrs %v; want a port of vmnet without addresses", master, addrs)
	}
}

// TestRefusedRequestsChangeNothing sends requests that break rules and
// checks each gets its code while the kernel and the stored attachments
// stay exactly as they were.
func TestRefusedRequestsChangeNothing(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>a</name></network>`)
	addNetwork(t, ag, `<network><name>b</name></network>`)
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(staticAttachment("a", "eth0", "192.0.2.1", "24")))
	beforeKernel, beforeAtts := dump(t, host), string(ag.Get(t, ag.HostPath()+"/networkattachments").Body)

	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"bad-address", modified(staticAttachment("b", "eth1", "300.300.300.300", "24")), 400, "BAD_ADDR_INVALID"},
		{"holey-netmask", modified(staticAttachment("b", "eth1", "192.0.2.2", "255.0.255.0")), 400, "BAD_ADDR_INVALID"},
		{"two-untagged", modified(staticAttachment("b", "eth0", "192.0.2.2", "24")), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK"},
		{"missing-nic", modified(staticAttachment("b", "missing_nic", "192.0.2.2", "24")), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST"},
		{"unknown-network", modified(staticAttachment("zzz", "eth1", "192.0.2.2", "24")), 400, "NETWORK_HAVING_NAME_NOT_EXISTS"},
		{"good-then-bad", modified(staticAttachment("vmnet", "eth2", "192.0.2.3", "24"), staticAttachment("b", "eth1", "1.2.3", "24")), 400, "BAD_ADDR_INVALID"},
		{"bond-name", `<action><modified_bonds><host_nic><name>jamesbond007</name><bonding><slaves><host_nic><name>eth1</name></host_nic><host_nic><name>eth2</name></host_nic></slaves></bonding></host_nic></modified_bonds></action>`, 400, "NETWORK_BOND_NAME_BAD_FORMAT"},
		{"unknown-element", `<action><frobnicate/></action>`, 400, "INVALID_VALUE"},
		{"wrong-root", `<network/>`, 400, "INVALID_VALUE"},
		{"not-xml", `<action>`, 400, "MALFORMED_REQUEST"},
		{"timeout", `<action><connectivity_timeout>0</connectivity_timeout></action>`, 400, "VALIDATION_CONNECTIVITY_TIMEOUT_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(tt.body), "Content-Type: application/xml")
			expectFault(t, r, tt.status, tt.code)
			if got := dump(t, host); got != beforeKernel {
				t.Errorf("the kernel changed:\n--- before\n%s\n--- after\n%s", beforeKernel, got)
			}
			if got := string(ag.Get(t, ag.HostPath()+"/networkattachments").Body); got != beforeAtts {
				t.Errorf("the stored attachments changed:\n%s", got)
			}
		})
	}
}

func TestNetworkCatalogue(t *testing.T) {
	host, ag := engineHost(t)
	id := addNetwork(t, ag, `<network><name>vmnet</name><description>tenant</description><vlan id="100"/><mtu>1600</mtu><usages><usage>vm</usage></usages></network>`)
	n := parseXML(t, ag.Get(t, "/ovirt-engine/api/networks/"+id))
	if text(n, "name") != "vmnet" || text(n, "mtu") != "1600" || text(n, "description") != "tenant" {
		t.Errorf("GET network: %s", n.Canonical())
	}
	if v, _ := n.Child("vlan").Attr("id"); v != "100" {
		t.Errorf("vlan id = %q; want 100", v)
	}
	for _, tt := range []struct{ body, code string }{
		{`<network><name>a b</name></network>`, "BAD_BRIDGE_NAME"},
		{`<network><name>aaaaaaaaaaaaaaaa</name></network>`, "BAD_BRIDGE_NAME"},
		{`<network><name>a.b</name></network>`, "BAD_BRIDGE_NAME"},
		{`<network><name>x</name><vlan id="4095"/></network>`, "NETWORK_VLAN_OUT_OF_RANGE"},
		{`<network><name>x</name><mtu>67</mtu></network>`, "MTU_VALUE_INVALID"},
		{`<network><name>x</name><stp>maybe</stp></network>`, "BAD_PARAMS_STP"},
	} {
		r := ag.Do(t, "POST", "/ovirt-engine/api/networks", []byte(tt.body))
		expectFault(t, r, http.StatusBadRequest, tt.code)
	}
	r := ag.Do(t, "POST", "/ovirt-engine/api/networks", []byte(`<network><name>vmnet</name></network>`))
	expectFault(t, r, http.StatusConflict, "NETWORK_NAME_IN_USE")

	// An attached network cannot be deleted; changing it re-applies its
	// attachment (VLANs need the VM, so this one is untagged).
	plain := addNetwork(t, ag, `<network><name>plain</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>plain</name></network><host_nic><name>eth0</name></host_nic></network_attachment>`))
	expectFault(t, ag.Do(t, "DELETE", "/ovirt-engine/api/networks/"+plain, nil), http.StatusConflict, "NETWORK_IS_ATTACHED")
	r = ag.Do(t, "PUT", "/ovirt-engine/api/networks/"+plain, []byte(`<network><mtu>2000</mtu></network>`))
	if r.Status != http.StatusOK {
		t.Fatalf("PUT network: %d\n%s", r.Status, r.Body)
	}
	for _, dev := range []string{"plain", "eth0"} {
		if mtu, _, _ := linkState(t, host, dev); mtu != 2000 {
			t.Errorf("%s mtu = %d after the network's MTU changed to 2000", dev, mtu)
		}
	}
	if r := ag.Do(t, "DELETE", "/ovirt-engine/api/networks/"+id, nil); r.Status != http.StatusOK {
		t.Errorf("DELETE a detached network: %d", r.Status)
	}
	if r := ag.Get(t, "/ovirt-engine/api/networks/"+id); r.Status != http.StatusNotFound {
		t.Errorf("GET a deleted network: %d; want 404", r.Status)
	}
}
