package xmlapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

// decodeRequest decodes n with the decoder for its root element.
func decodeRequest(n *Node) (any, error) {
	switch n.Name {
	case "action":
		return DecodeSetupNetworks(n)
	case "network_attachment":
		return DecodeNetworkAttachment(n)
	case "host_nic":
		return DecodeBond(n)
	case "network":
		return DecodeNetwork(n)
	}
	return nil, &DecodeError{Path: n.Name, Msg: "no decoder in this test"}
}

// parseRequest parses testdata/requests/file; a .json file is parsed as a
// document whose root is root.
func parseRequest(t *testing.T, file, root string) *Node {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "requests", file))
	if err != nil {
		t.Fatal(err)
	}
	var n *Node
	if strings.HasSuffix(file, ".json") {
		n, err = ParseJSON(body, root)
	} else {
		n, err = ParseXML(body)
	}
	if err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
	if n.Name != root {
		t.Fatalf("%s has root %s; want %s", file, n.Name, root)
	}
	return n
}

// show prints a decoded value readably, following pointers.
func show(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func checkDecoded(t *testing.T, what string, n *Node, want any) {
	t.Helper()
	got, err := decodeRequest(n)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s decodes to\n%s\nwant\n%s", what, show(got), show(want))
	}
}

func ptr[T any](v T) *T { return &v }

var (
	netA = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
	netB = "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
	att1 = "11111111-1111-1111-1111-111111111111"
	att2 = "22222222-2222-2222-2222-222222222222"
	att3 = "33333333-3333-3333-3333-333333333333"
)

// requestCases pairs every design-page sample (seed 003, made well-formed)
// with its v4, SDK and JSON equivalents: all files of a case decode to want.
var requestCases = []struct {
	name  string
	root  string
	files []string
	want  any
}{
	{
		name: "attach-dhcp", root: "network_attachment",
		files: []string{"design-attach-dhcp.xml", "v4-attach-dhcp.xml"},
		want: netconf.AttachmentChange{
			Network: &netconf.Ref{ID: netA},
			IP:      &[]netconf.RawIPAssignment{{Method: "dhcp", Version: "v4"}},
		},
	},
	{
		name: "change-boot-protocol", root: "network_attachment",
		files: []string{"design-change-boot-protocol.xml", "v4-change-boot-protocol.xml"},
		want: netconf.AttachmentChange{
			IP: &[]netconf.RawIPAssignment{{Method: "static", Version: "v4", Address: "10.0.0.15", Netmask: "255.255.255.0", Gateway: "10.0.0.254"}},
		},
	},
	{
		name: "attach-vlan", root: "network_attachment",
		files: []string{"design-attach-vlan.xml"},
		want:  netconf.AttachmentChange{Network: &netconf.Ref{ID: "cccccccc-cccc-cccc-cccc-cccccccccccc"}},
	},
	{
		name: "sync-attachment", root: "network_attachment",
		files: []string{"design-sync.xml"},
		want:  netconf.AttachmentChange{Override: true},
	},
	{
		name: "sync-in-setupnetworks", root: "action",
		files: []string{"design-sync-setupnetworks.xml"},
		want:  netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{{ID: att1, Override: true}}},
	},
	{
		name: "synchronized-network-attachments", root: "action",
		files: []string{"v4-sync-setupnetworks.xml"},
		want:  netconf.ChangeSet{SyncedAttachments: []string{att1}},
	},
	{
		// What the SDK writes for setup_networks(modified_labels=…,
		// removed_labels=…), as Ansible's ovirt_host_network sends it.
		name: "labels", root: "action",
		files: []string{"sdk-labels.xml", "json-labels.json"},
		want: netconf.ChangeSet{
			ModifiedLabels:    []netconf.LabelChange{{Label: "red", Nic: netconf.Ref{Name: "bond0"}}},
			RemovedLabels:     []string{"blue"},
			CheckConnectivity: true, CommitOnSuccess: true,
		},
	},
	{
		name: "create-bond", root: "host_nic",
		files: []string{"design-create-bond.xml", "v4-create-bond.xml"},
		want: netconf.BondChange{
			Ref:     netconf.Ref{Name: "bond0"},
			Options: &[]netconf.RawOption{{Name: "mode", Value: "1"}, {Name: "miimon", Value: "100"}},
			Slaves:  &[]netconf.Ref{{ID: "833ebaeb-0988-4bd5-b860-e00bcc3f576a"}, {ID: "782e8199-984e-407f-b242-3d6c7dc2f7b7"}},
		},
	},
	{
		name: "update-bond", root: "host_nic",
		files: []string{"design-update-bond.xml"},
		want:  updateBond,
	},
	{
		name: "update-bond-setupnetworks", root: "action",
		files: []string{"v4-update-bond-setupnetworks.xml"},
		want:  netconf.ChangeSet{ModifiedBonds: []netconf.BondChange{updateBond}},
	},
	{
		name: "move-attachment", root: "network_attachment",
		files: []string{"design-move-attachment.xml"},
		want:  netconf.AttachmentChange{Nic: &netconf.Ref{ID: "target-nic-id"}},
	},
	{
		name: "move-setupnetworks", root: "action",
		files: []string{"design-move-setupnetworks.xml", "v4-move-setupnetworks.xml"},
		want: netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{
			{ID: att1, Nic: &netconf.Ref{ID: "target-nic-id"}},
		}},
	},
	{
		name: "create-bond-and-networks", root: "action",
		files: []string{"design-create-bond-setupnetworks.xml", "v4-create-bond-setupnetworks.xml"},
		want: netconf.ChangeSet{
			ModifiedBonds: []netconf.BondChange{{
				Ref:     netconf.Ref{Name: "bond0"},
				Options: &[]netconf.RawOption{{Name: "mode", Value: "1"}, {Name: "miimon", Value: "100"}},
				Slaves:  &[]netconf.Ref{{Name: "eth0"}, {Name: "eth1"}},
			}},
			ModifiedAttachments: []netconf.AttachmentChange{
				{Network: &netconf.Ref{ID: netA}, Nic: &netconf.Ref{Name: "bond0"}},
				{Network: &netconf.Ref{ID: netB}, Nic: &netconf.Ref{Name: "bond0"}},
			},
		},
	},
	{
		name: "break-bond", root: "action",
		files: []string{"design-break-bond.xml", "v4-break-bond.xml"},
		want: netconf.ChangeSet{
			ModifiedAttachments: []netconf.AttachmentChange{
				{Network: &netconf.Ref{ID: netA}, Nic: &netconf.Ref{Name: "eth0"}},
				{Network: &netconf.Ref{ID: netB}, Nic: &netconf.Ref{Name: "eth1"}},
			},
			RemovedBonds: []netconf.Ref{{Name: "bond0"}},
		},
	},
	{
		name: "break-bond-by-attachment-id", root: "action",
		files: []string{"design-break-bond-by-id.xml", "v4-break-bond-by-id.xml"},
		want: netconf.ChangeSet{
			ModifiedAttachments: []netconf.AttachmentChange{
				{ID: att1, Nic: &netconf.Ref{Name: "eth0"}},
				{ID: att2, Nic: &netconf.Ref{Name: "eth1"}},
			},
			RemovedBonds: []netconf.Ref{{Name: "bond0"}},
		},
	},
	{
		name: "remove-networks", root: "action",
		files: []string{"design-remove-networks.xml", "v4-remove-networks-listed.xml"},
		want:  netconf.ChangeSet{RemovedAttachments: []netconf.AttachmentRef{{ID: att1}, {ID: att2}, {ID: att3}}},
	},
	{
		name: "setupnetworks-full", root: "action",
		files: []string{"v4-setupnetworks-full.xml", "json-setupnetworks-full.json"},
		want: netconf.ChangeSet{
			ModifiedBonds: []netconf.BondChange{{
				Ref:     netconf.Ref{Name: "bond0"},
				Options: &[]netconf.RawOption{{Name: "mode", Value: "1"}, {Name: "miimon", Value: "100"}},
				Slaves:  &[]netconf.Ref{{Name: "eth1"}, {Name: "eth2"}},
			}},
			ModifiedAttachments: []netconf.AttachmentChange{{
				Network: &netconf.Ref{Name: "ovirtmgmt"},
				Nic:     &netconf.Ref{Name: "bond0"},
				IP:      &[]netconf.RawIPAssignment{{Method: "dhcp"}},
			}},
			RemovedAttachments:  []netconf.AttachmentRef{{ID: "790"}},
			SyncedAttachments:   []string{"791"},
			CheckConnectivity:   true,
			ConnectivityTimeout: "60",
			CommitOnSuccess:     true,
		},
	},
	{
		name: "attachment-full", root: "network_attachment",
		files: []string{"v4-attachment-full.xml", "sdk-attachment-full.xml", "json-attachment-full.json"},
		want: netconf.AttachmentChange{
			ID:      "789",
			Network: &netconf.Ref{ID: "234"},
			Nic:     &netconf.Ref{ID: "456"},
			IP: &[]netconf.RawIPAssignment{
				{Method: "static", Version: "v4", Address: "192.168.122.10", Netmask: "255.255.255.0", Gateway: "192.168.122.1"},
				{Method: "autoconf", Version: "v6"},
			},
			Properties: &map[string]string{"bridge_opts": "forward_delay=1500"},
			DNS:        &[]string{"192.0.2.53", "192.0.2.54"},
		},
	},
	{
		name: "network", root: "network",
		files: []string{"v4-network.xml", "json-network.json"},
		want: netconf.NetworkChange{
			ID:          "234",
			Name:        ptr("vmnet100"),
			Description: ptr("tenant VLAN"),
			VLAN:        ptr("100"),
			MTU:         ptr("9000"),
			STP:         ptr("false"),
			Usages:      &[]string{"vm"},
		},
	},
	{
		name: "network-sdk-create", root: "network",
		files: []string{"sdk-network-create.xml"},
		want: netconf.NetworkChange{
			Name:    ptr("storage"),
			Comment: ptr("created by the SDK"),
			VLAN:    ptr(""),
			MTU:     ptr("0"),
			Usages:  &[]string{},
			DNS:     &[]string{"192.0.2.53"},
		},
	},
}

var updateBond = netconf.BondChange{
	Ref:     netconf.Ref{Name: "bond0"},
	Options: &[]netconf.RawOption{{Name: "mode", Value: "2"}},
	Slaves: &[]netconf.Ref{
		{ID: "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"},
		{ID: "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"},
		{ID: "cccccccc-cccc-cccc-cccc-cccccccccccc"},
	},
}

// TestDecodeRequests decodes every request of testdata/requests, and the
// JSON rendering of each XML one, which must decode the same.
func TestDecodeRequests(t *testing.T) {
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, file := range tc.files {
				n := parseRequest(t, file, tc.root)
				checkDecoded(t, file, n, tc.want)
				if strings.HasSuffix(file, ".xml") {
					echo := copyNode(n)
					typeEcho(echo)
					asJSON, err := ParseJSON(MarshalJSON(echo), tc.root)
					if err != nil {
						t.Fatalf("%s as JSON: %v", file, err)
					}
					checkDecoded(t, file+" as JSON", asJSON, tc.want)
				}
			}
		})
	}
}

// TestEveryRequestFileIsUsed keeps the table and the directory in step, so
// that the fuzz seeds are all checked for their meaning too.
func TestEveryRequestFileIsUsed(t *testing.T) {
	used := map[string]bool{}
	for _, tc := range requestCases {
		for _, f := range tc.files {
			used[f] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "requests"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !used[e.Name()] {
			t.Errorf("testdata/requests/%s is in no test case", e.Name())
		}
	}
}

func TestDecodeSetupNetworksForms(t *testing.T) {
	tests := []struct {
		name string
		body string
		want netconf.ChangeSet
	}{
		{
			name: "empty-action",
			body: `<action></action>`,
			want: netconf.ChangeSet{},
		},
		{
			name: "empty-attachment-stays-visible",
			body: `<action><modified_network_attachments><network_attachment/></modified_network_attachments></action>`,
			want: netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{{}}},
		},
		{
			name: "informational-elements-ignored",
			body: `<action><status>pending</status><link href="/x" rel="y"/><host id="H"/>
				<modified_bonds><host_nic href="/ovirt-engine/api/hosts/H/nics/456" id="456"><link rel="statistics" href="/s"/><status>up</status>
				<bonding><options><option><name>mode</name><value>4</value><type>Dynamic link aggregation (802.3ad)</type></option></options></bonding>
				</host_nic></modified_bonds></action>`,
			want: netconf.ChangeSet{ModifiedBonds: []netconf.BondChange{{
				Ref: netconf.Ref{ID: "456"}, Options: &[]netconf.RawOption{{Name: "mode", Value: "4"}},
			}}},
		},
		{
			name: "options-without-slaves",
			body: `<action><modified_bonds><host_nic><name>bond0</name><bonding><options/></bonding></host_nic></modified_bonds></action>`,
			want: netconf.ChangeSet{ModifiedBonds: []netconf.BondChange{{Ref: netconf.Ref{Name: "bond0"}, Options: &[]netconf.RawOption{}}}},
		},
		{
			name: "only-module-option",
			body: `<action><modified_bonds><host_nic><name>bond0</name><link_aggregation><options><option><name>module</name><value>bonding</value></option></options></link_aggregation></host_nic></modified_bonds></action>`,
			want: netconf.ChangeSet{ModifiedBonds: []netconf.BondChange{{Ref: netconf.Ref{Name: "bond0"}, Options: &[]netconf.RawOption{}}}},
		},
		{
			name: "removed-bonds-by-id-and-name",
			body: `<action><removed_bonds><host_nic id="456"/><host_nic><name>bond1</name></host_nic></removed_bonds></action>`,
			want: netconf.ChangeSet{RemovedBonds: []netconf.Ref{{ID: "456"}, {Name: "bond1"}}},
		},
		{
			name: "removed-attachment-by-network",
			body: `<action><removed_network_attachments><network_attachment><network><name>vmnet</name></network></network_attachment><network_attachment id="a1"><network id="n1"/></network_attachment></removed_network_attachments></action>`,
			want: netconf.ChangeSet{RemovedAttachments: []netconf.AttachmentRef{{Network: netconf.Ref{Name: "vmnet"}}, {ID: "a1"}}},
		},
		{
			name: "booleans-any-case",
			body: `<action><check_connectivity>TRUE</check_connectivity><commit_on_success>False</commit_on_success><async>true</async></action>`,
			want: netconf.ChangeSet{CheckConnectivity: true, Async: true},
		},
		{
			name: "move-forms-repeat-and-keep-order",
			body: `<action>
				<network_attachments id="a1"><host_nic id="n1"/></network_attachments>
				<modified_network_attachments><network_attachment id="a2"><host_nic><name>eth2</name></host_nic></network_attachment></modified_network_attachments>
				<network_attachments id="a3"><host_nic id="n3"/></network_attachments></action>`,
			want: netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{
				{ID: "a1", Nic: &netconf.Ref{ID: "n1"}},
				{ID: "a2", Nic: &netconf.Ref{Name: "eth2"}},
				{ID: "a3", Nic: &netconf.Ref{ID: "n3"}},
			}},
		},
		{
			name: "empty-values-left-to-the-engine",
			body: `<action><connectivity_timeout/><modified_network_attachments><network_attachment><network><name/></network>
				<ip_address_assignments><ip_address_assignment><assignment_method/><ip><address/></ip></ip_address_assignment></ip_address_assignments>
				</network_attachment></modified_network_attachments></action>`,
			want: netconf.ChangeSet{ModifiedAttachments: []netconf.AttachmentChange{{
				Network: &netconf.Ref{}, IP: &[]netconf.RawIPAssignment{{}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseXML([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			checkDecoded(t, "body", n, tt.want)
		})
	}
}

func TestDecodeNetworkAttachmentForms(t *testing.T) {
	tests := []struct {
		name string
		body string
		want netconf.AttachmentChange
	}{
		{
			name: "boot-protocol-under-ipv4s-only",
			body: `<network_attachment><ip_configuration><ipv4s><boot_protocol>DHCP</boot_protocol></ipv4s></ip_configuration></network_attachment>`,
			want: netconf.AttachmentChange{IP: &[]netconf.RawIPAssignment{{Method: "dhcp", Version: "v4"}}},
		},
		{
			name: "primary-of-several",
			body: `<network_attachment><ip_configuration><ipv4s>
				<ipv4><boot_protocol>static</boot_protocol><address>10.0.0.1</address><netmask>24</netmask><primary>false</primary></ipv4>
				<ipv4><boot_protocol>static</boot_protocol><address>10.0.0.2</address><netmask>24</netmask><primary>true</primary></ipv4>
				</ipv4s></ip_configuration></network_attachment>`,
			want: netconf.AttachmentChange{IP: &[]netconf.RawIPAssignment{{Method: "static", Version: "v4", Address: "10.0.0.2", Netmask: "24"}}},
		},
		{
			name: "only-entry-not-marked-primary",
			body: `<network_attachment><ip_configuration><ipv4s><ipv4><boot_protocol>none</boot_protocol><primary>false</primary></ipv4></ipv4s></ip_configuration></network_attachment>`,
			want: netconf.AttachmentChange{IP: &[]netconf.RawIPAssignment{{Method: "none", Version: "v4"}}},
		},
		{
			name: "same-boot-protocol-both-places",
			body: `<network_attachment><ip_configuration><ipv4s><boot_protocol>DHCP</boot_protocol><ipv4><boot_protocol>dhcp</boot_protocol></ipv4></ipv4s></ip_configuration></network_attachment>`,
			want: netconf.AttachmentChange{IP: &[]netconf.RawIPAssignment{{Method: "dhcp", Version: "v4"}}},
		},
		{
			name: "empty-ip-configuration-clears",
			body: `<network_attachment><ip_configuration/></network_attachment>`,
			want: netconf.AttachmentChange{IP: &[]netconf.RawIPAssignment{}},
		},
		{
			name: "empty-lists-clear",
			body: `<network_attachment><ip_address_assignments/><properties/><dns_resolver_configuration/></network_attachment>`,
			want: netconf.AttachmentChange{IP: &[]netconf.RawIPAssignment{}, Properties: &map[string]string{}, DNS: &[]string{}},
		},
		{
			name: "empty-name-servers",
			body: `<network_attachment><dns_resolver_configuration><name_servers/></dns_resolver_configuration></network_attachment>`,
			want: netconf.AttachmentChange{DNS: &[]string{}},
		},
		{
			name: "network-by-id-and-name",
			body: `<network_attachment><network id="n1"><name>vmnet</name></network><host_nic id="h1"><name>eth0</name></host_nic></network_attachment>`,
			want: netconf.AttachmentChange{Network: &netconf.Ref{ID: "n1", Name: "vmnet"}, Nic: &netconf.Ref{ID: "h1", Name: "eth0"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseXML([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			checkDecoded(t, "body", n, tt.want)
		})
	}
}
