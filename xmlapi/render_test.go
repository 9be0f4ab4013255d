package xmlapi

import (
	"bytes"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

func testNetworks() []*netconf.Network {
	vlan := 100
	return []*netconf.Network{
		{ID: "n-mgmt", Name: "ovirtmgmt", Description: "Management Network", Usages: []string{"vm", "management", "default_route"},
			DNS: []string{"192.0.2.53", "2001:db8::53"}},
		{ID: "n-vm100", Name: "vmnet100", Comment: "tenant", VLAN: &vlan, MTU: 9000, STP: true, Usages: []string{"vm"}},
		{ID: "n-storage", Name: "storage"},
	}
}

func testAttachments() []AttachmentView {
	nets := testNetworks()
	p := netip.MustParsePrefix
	return []AttachmentView{
		{Network: nets[0], Attachment: &netconf.Attachment{ID: "a-mgmt", NetworkID: "n-mgmt", Nic: "bond0",
			IPv4: netconf.IPConfig{Method: netconf.BootStatic, Addrs: []netip.Prefix{p("192.0.2.10/24"), p("192.0.2.11/24")}, Gateway: netip.MustParseAddr("192.0.2.1")},
			IPv6: netconf.IPConfig{Method: netconf.BootStatic, Addrs: []netip.Prefix{p("2001:db8::10/64")}, Gateway: netip.MustParseAddr("2001:db8::1")},
			DNS:  []string{"192.0.2.53"}}},
		{Network: nets[1], Attachment: &netconf.Attachment{ID: "a-vm100", NetworkID: "n-vm100", Nic: "bond0",
			IPv4:       netconf.IPConfig{Method: netconf.BootDHCP},
			IPv6:       netconf.IPConfig{Method: netconf.BootNone},
			Properties: map[string]string{"bridge_opts": "forward_delay=1500", "another": "x"}}},
		{Network: nets[2], Attachment: &netconf.Attachment{ID: "a-storage", NetworkID: "n-storage", Nic: "eth2"}},
	}
}

func TestNetworksGolden(t *testing.T) {
	doc := Networks(testNetworks())
	golden(t, "networks.xml", MarshalXML(doc))
	golden(t, "networks.json", MarshalJSON(doc))
}

func TestNetworkAttachmentsGolden(t *testing.T) {
	doc := NetworkAttachments(testContext(), testAttachments())
	golden(t, "network_attachments.xml", MarshalXML(doc))
	golden(t, "network_attachments.json", MarshalJSON(doc))
}

func TestActionsGolden(t *testing.T) {
	req, err := ParseXML([]byte(`<action><check_connectivity>true</check_connectivity>
		<modified_bonds><host_nic><name>bond0</name><bonding><options><option><name>mode</name><value>1</value></option></options>
		<slaves><host_nic><name>eth0</name></host_nic><host_nic><name>eth1</name></host_nic></slaves></bonding></host_nic></modified_bonds>
		<status>pending</status></action>`))
	if err != nil {
		t.Fatal(err)
	}
	// The async answers copy the echo, which they render again and again;
	// ActionComplete turns the request itself into the answer. Both say
	// the same.
	before := req.Canonical()
	copied := actionEcho(req, "complete")
	if req.Canonical() != before || req.Child("status") == nil {
		t.Error("actionEcho modified its input")
	}
	doc := ActionComplete(req)
	if !bytes.Equal(MarshalXML(doc), MarshalXML(copied)) || !bytes.Equal(MarshalJSON(doc), MarshalJSON(copied)) {
		t.Errorf("ActionComplete answers\n%s\nand a copy of its request\n%s", MarshalXML(doc), MarshalXML(copied))
	}
	golden(t, "action_complete.xml", MarshalXML(doc))
	golden(t, "action_complete.json", MarshalJSON(doc))

	doc = ActionStatus(testContext(), "complete")
	golden(t, "action_status.xml", MarshalXML(doc))
	golden(t, "action_status.json", MarshalJSON(doc))

	doc = ActionFault(Fault{Reason: "Operation Failed", Detail: "Cannot setup Networks. The following bonds consist of less than two Network Interfaces: bond0.", Code: "NETWORK_BONDS_INVALID_SLAVE_COUNT"})
	golden(t, "action_fault.xml", MarshalXML(doc))
	golden(t, "action_fault.json", MarshalJSON(doc))
}

func TestActionCompleteWithoutEcho(t *testing.T) {
	got := ActionComplete(nil).Canonical()
	if want := "action\n  status = complete\n"; got != want {
		t.Errorf("ActionComplete(nil) = %q; want %q", got, want)
	}
}

// TestRenderedDocumentsDecode sends back what GET returns: a client may PUT
// an entity it read, edited or not.
func TestRenderedDocumentsDecode(t *testing.T) {
	for _, net := range testNetworks() {
		n, err := ParseXML(MarshalXML(NetworkNode(net)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeNetwork(n)
		if err != nil {
			t.Fatalf("%s: %v", net.Name, err)
		}
		var usages []string
		if got.Usages != nil {
			usages = *got.Usages
		}
		if got.ID != net.ID || *got.Name != net.Name || !slices.Equal(usages, net.Usages) {
			t.Errorf("%s decodes to %s", net.Name, show(got))
		}
	}
	for _, v := range testAttachments() {
		n, err := ParseJSON(MarshalJSON(NetworkAttachmentNode(testContext(), v.Attachment, v.Network)), "network_attachment")
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeNetworkAttachment(n)
		if err != nil {
			t.Fatalf("%s: %v", v.Attachment.ID, err)
		}
		if got.ID != v.Attachment.ID || got.Network.ID != v.Attachment.NetworkID || got.Nic.ID != "id-"+v.Attachment.Nic {
			t.Errorf("%s decodes to %s", v.Attachment.ID, show(got))
		}
	}
	mgmt := testAttachments()[0].Attachment
	n, _ := ParseXML(MarshalXML(NetworkAttachmentNode(testContext(), mgmt, nil)))
	got, err := DecodeNetworkAttachment(n)
	if err != nil {
		t.Fatal(err)
	}
	want := []netconf.RawIPAssignment{
		{Method: "static", Version: "v4", Address: "192.0.2.10", Netmask: "255.255.255.0", Gateway: "192.0.2.1"},
		{Method: "static", Version: "v4", Address: "192.0.2.11", Netmask: "255.255.255.0"},
		{Method: "static", Version: "v6", Address: "2001:db8::10", Netmask: "64", Gateway: "2001:db8::1"},
	}
	if !reflect.DeepEqual(*got.IP, want) || !reflect.DeepEqual(*got.DNS, mgmt.DNS) {
		t.Errorf("a-mgmt decodes to %s", show(got))
	}
}
