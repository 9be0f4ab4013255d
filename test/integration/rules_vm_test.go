//go:build vmtest

package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

// One refused request per validation rule reachable through the API
// (semantics §8, netconf/rules.go): each must answer its status and code and
// leave the kernel, the attachments and the catalogue exactly as they were.

// The networks of the rules host; the attached ones are net_a, net_b and
// mgmt.
const (
	vmRuleMgmt     = "rule-mgmt"     // VLAN 300 on eth0, management + default_route, static
	vmRuleFree     = "rule-free"     // untagged, bridgeless, not attached
	vmRuleVLAN200  = "rule-vlan200"  // VLAN 200 (as net_b), not attached
	vmRuleJumbo    = "rule-jumbo"    // untagged, MTU 2000, not attached
	vmRuleDefault  = "rule-default"  // untagged, default_route, not attached
	vmRuleDefault3 = "rule-default3" // untagged, default_route, not attached
	vmRuleSmall    = "rule-small"    // untagged, MTU 1000, not attached
	vmRuleVM       = "rule-vm"       // untagged VM network, not attached
	vmRuleVLAN400  = "rule-vlan400"  // VLAN 400, not attached
	vmRuleV2000    = "rule-v2000"    // VLAN 500, MTU 2000, not attached
	vmRuleBondNet  = "rule-bondnet"  // a VM network named bond0, like the bond; not attached
)

// vmRulesHost builds the host the refused requests run against:
//
//	eth0: net_a (untagged VM network, 192.0.2.10/24) + mgmt (VLAN 300)
//	bond0 [eth2, eth3] mode 1: net_b (VLAN 200)
//	eth5: an unmanaged VLAN device eth5.300
//	bondbr: an unmanaged bridge with a bond-like name
//	eth1, eth4: free
func vmRulesHost(t *testing.T) *vmEnv {
	e := vmStart(t, 6)
	e.network(vmNetA, "net_a", vmVM)
	e.network(vmNetB, "net_b", `<vlan id="200"/>`)
	e.network(vmRuleMgmt, "mgmt", `<vlan id="300"/><usages><usage>management</usage><usage>default_route</usage></usages>`)
	e.network(vmRuleFree, "free", "")
	e.network(vmRuleVLAN200, "vlan200", `<vlan id="200"/>`)
	e.network(vmRuleJumbo, "jumbo", `<mtu>2000</mtu>`)
	e.network(vmRuleDefault, "default2", `<usages><usage>default_route</usage></usages>`)
	e.network(vmRuleDefault3, "default3", `<usages><usage>default_route</usage></usages>`)
	e.network(vmRuleSmall, "small", `<mtu>1000</mtu>`)
	e.network(vmRuleVM, "vm2", vmVM)
	e.network(vmRuleVLAN400, "vlan400", `<vlan id="400"/>`)
	e.network(vmRuleV2000, "v2000", `<vlan id="500"/><mtu>2000</mtu>`)
	e.network(vmRuleBondNet, "bond0", vmVM)
	e.setup(`<action><modified_bonds>` + vmBond("bond0", "mode=1 miimon=100", "eth2", "eth3") + `</modified_bonds>` +
		`<modified_network_attachments>` +
		vmAttachment(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", "")) +
		vmAttachment(vmRuleMgmt, "eth0", vmStatic4("198.51.100.10", "24", "198.51.100.1")) +
		vmAttachment(vmNetB, "bond0", "") +
		`</modified_network_attachments></action>`)
	h := e.ns.Handle
	if err := h.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "eth5.300", ParentIndex: e.index("eth5")}, VlanId: 300}); err != nil {
		t.Fatal(err)
	}
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "bondbr"}}); err != nil {
		t.Fatal(err)
	}
	e.wantUp("bond0", "net_a", "eth0.300", "bond0.200")
	return e
}

// with is the same environment reporting to another test.
func (e *vmEnv) with(t *testing.T) *vmEnv {
	c := *e
	c.t = t
	return &c
}

type vmRuleCase struct {
	name         string
	method, path string // method "" means POST setupnetworks; path "" means …/setupnetworks
	body         string
	status       int
	code         string
}

func vmRuleCases(e *vmEnv) []vmRuleCase {
	attA, attB, attMgmt := e.attachmentID(vmNetA), e.attachmentID(vmNetB), e.attachmentID(vmRuleMgmt)
	eth0, eth1, bond0 := e.nicID("eth0"), e.nicID("eth1"), e.nicID("bond0")
	action := func(inner string) string { return `<action>` + inner + `</action>` }
	mod := func(atts ...string) string {
		return action(`<modified_network_attachments>` + strings.Join(atts, "") + `</modified_network_attachments>`)
	}
	att := func(inner string) string { return `<network_attachment>` + inner + `</network_attachment>` }
	nic := func(name string) string { return `<host_nic><name>` + name + `</name></host_nic>` }
	net := func(id string) string { return `<network id="` + id + `"/>` }
	ips := func(a ...string) string {
		return `<ip_address_assignments>` + strings.Join(a, "") + `</ip_address_assignments>`
	}
	ip := ipAssignmentXML
	bonds := func(b ...string) string { return `<modified_bonds>` + strings.Join(b, "") + `</modified_bonds>` }
	removedBond := func(inner string) string {
		return action(`<removed_bonds><host_nic>` + inner + `</host_nic></removed_bonds>`)
	}
	props := func(name, value string) string {
		return `<properties><property><name>` + name + `</name><value>` + value + `</value></property></properties>`
	}
	dns := func(s string) string {
		return `<dns_resolver_configuration><name_servers><name_server>` + s + `</name_server></name_servers></dns_resolver_configuration>`
	}
	network := func(inner string) string { return `<network>` + inner + `</network>` }
	const networks = "/ovirt-engine/api/networks"

	return []vmRuleCase{
		{"connectivity-timeout-0", "", "", action(`<connectivity_timeout>0</connectivity_timeout>`), 400, "VALIDATION_CONNECTIVITY_TIMEOUT_INVALID"},
		{"connectivity-timeout-121", "", "", action(`<connectivity_timeout>121</connectivity_timeout>`), 400, "VALIDATION_CONNECTIVITY_TIMEOUT_INVALID"},
		{"connectivity-timeout-text", "", "", action(`<connectivity_timeout>soon</connectivity_timeout>`), 400, "VALIDATION_CONNECTIVITY_TIMEOUT_INVALID"},
		{"null-attachment", "", "", mod(`<network_attachment/>`), 400, "NULL_PASSED_AS_NETWORK_ATTACHMENT"},
		{"unknown-attachment-id", "", "", mod(`<network_attachment id="nope">` + nic("eth1") + `</network_attachment>`), 400, "MODIFIED_NETWORK_ATTACHMENT_DOES_NOT_EXISTS"},
		{"attachment-without-network", "", "", mod(att(nic("eth1"))), 400, "NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET"},
		{"post-attachment-without-network", http.MethodPost, e.host("/networkattachments"), att(nic("eth1")), 400, "NETWORK_ATTACHMENT_NETWORK_ID_OR_NAME_IS_NOT_SET"},
		{"unknown-network-id", "", "", mod(att(net("nope") + nic("eth1"))), 400, "NETWORK_HAVING_ID_NOT_EXISTS"},
		{"unknown-network-name", "", "", mod(att(`<network><name>nope</name></network>` + nic("eth1"))), 400, "NETWORK_HAVING_NAME_NOT_EXISTS"},
		{"nic-id-and-name-disagree", "", "", mod(att(net(vmRuleFree) + `<host_nic id="` + eth1 + `"><name>eth4</name></host_nic>`)), 400, "NETWORK_ATTACHMENT_REFERENCES_NICS_INCOHERENTLY"},
		{"network-id-and-name-disagree", "", "", mod(att(`<network id="` + vmRuleFree + `"><name>jumbo</name></network>` + nic("eth1"))), 400, "NETWORK_ATTACHMENT_REFERENCES_NETWORK_INCOHERENTLY"},
		{"modified-and-removed", "", "", action(`<modified_network_attachments><network_attachment id="` + attA + `">` + nic("eth0") +
			`</network_attachment></modified_network_attachments><removed_network_attachments><network_attachment id="` + attA +
			`"/></removed_network_attachments>`), 400, "NETWORK_ATTACHMENT_IN_BOTH_LISTS"},
		{"attach-to-managed-vlan-device", "", "", mod(att(net(vmRuleFree) + nic("bond0.200"))), 400, "ATTACHMENT_REFERENCE_VLAN_DEVICE"},
		{"attach-to-unmanaged-vlan-device", "", "", mod(att(net(vmRuleFree) + nic("eth5.300"))), 400, "ATTACHMENT_REFERENCE_VLAN_DEVICE"},
		{"post-attached-network", http.MethodPost, e.host("/networkattachments"), att(net(vmNetA) + nic("eth1")), 400, "ATTACHMENT_IS_NOT_REUSED"},
		{"default-route-without-boot-protocol", "", "", mod(`<network_attachment id="` + attMgmt + `">` + ips(ip("none", "v4", "", "", "")) + `</network_attachment>`), 409, "ACTION_TYPE_FAILED_ROLE_NETWORK_HAS_NO_BOOT_PROTOCOL"},
		{"attachment-without-nic", "", "", mod(att(net(vmRuleFree))), 400, "HOST_NETWORK_INTERFACE_DOES_NOT_HAVE_NAME_SET"},
		{"missing-nic", "", "", mod(att(net(vmRuleFree) + nic("missing_nic"))), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST"},
		{"missing-nic-id", "", "", mod(att(net(vmRuleFree) + `<host_nic id="nope"/>`)), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST"},
		{"missing-bond", "", "", mod(att(net(vmRuleFree) + nic("bond9"))), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST"},
		{"attach-to-bridge", "", "", mod(att(net(vmRuleFree) + nic("net_a"))), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_OR_NAME_DOES_NOT_EXIST"},
		{"change-attached-network", "", "", mod(`<network_attachment id="` + attA + `">` + net(vmRuleFree) + `</network_attachment>`), 400, "CANNOT_CHANGE_ATTACHED_NETWORK"},
		{"no-boot-protocol", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("", "v4", "192.0.2.1", "24", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_MISSING_BOOT_PROTOCOL"},
		{"static-without-netmask", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "192.0.2.1", "", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS"},
		{"static-without-address", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "", "24", "192.0.2.254")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS"},
		{"static-v6-without-prefix", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v6", "2001:db8::1", "", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_MISSING_IP_ADDRESS_DETAILS"},
		{"dhcp-with-address", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("dhcp", "v4", "192.0.2.1", "24", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS"},
		{"none-with-gateway", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("none", "v4", "", "", "192.0.2.254")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS"},
		{"autoconf-v4", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("autoconf", "v4", "", "", "")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_INCOMPATIBLE_BOOT_PROTOCOL_AND_IP_ADDRESS_DETAILS"},
		{"v6-gateway-not-default-route", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v6", "2001:db8::1", "64", "2001:db8::fe")))), 400, "NETWORK_ATTACHMENT_IP_CONFIGURATION_STATIC_BOOT_PROTOCOL_IPV6_GATEWAY_ON_NON_DEFAULT_ROUTE_ROLE"},
		{"address-1.2.3.256", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "1.2.3.256", "24", "")))), 400, "BAD_ADDR_INVALID"},
		{"address-300.300.300.300", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "300.300.300.300", "24", "")))), 400, "BAD_ADDR_INVALID"},
		{"address-1.2.3.4.5", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "1.2.3.4.5", "24", "")))), 400, "BAD_ADDR_INVALID"},
		{"address-1.2.3", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "1.2.3", "24", "")))), 400, "BAD_ADDR_INVALID"},
		{"netmask-256.255.0.0", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "192.0.2.1", "256.255.0.0", "")))), 400, "BAD_ADDR_INVALID"},
		{"netmask-non-contiguous", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "192.0.2.1", "255.0.255.0", "")))), 400, "BAD_ADDR_INVALID"},
		{"bad-gateway", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "192.0.2.1", "24", "192.0.2")))), 400, "BAD_ADDR_INVALID"},
		{"two-default-routes", "", "", mod(att(net(vmRuleDefault)+nic("eth1")+ips(ip("static", "v4", "192.0.2.1", "24", ""))),
			att(net(vmRuleDefault3)+nic("eth4")+ips(ip("static", "v4", "192.0.2.2", "24", "")))), 400, "BAD_PARAMS_MULTIPLE_DEFAULT_ROUTE"},
		{"nameservers-not-default-route", "", "", mod(att(net(vmRuleFree) + nic("eth1") + ips(ip("static", "v4", "192.0.2.1", "24", "")) + dns("192.0.2.53"))), 400, "BAD_PARAMS_NAMESERVERS_NOT_DEFAULT_ROUTE"},
		{"bad-nameserver", "", "", mod(`<network_attachment id="` + attMgmt + `">` + dns("not-an-ip") + `</network_attachment>`), 400, "BAD_ADDR_NAMESERVER"},
		{"remove-unknown-attachment", "", "", action(`<removed_network_attachments><network_attachment id="nope"/></removed_network_attachments>`), 400, "NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS"},
		{"remove-unattached-network", "", "", action(`<removed_network_attachments><network_attachment>` + net(vmRuleFree) + `</network_attachment></removed_network_attachments>`), 400, "NETWORK_ATTACHMENTS_TO_BE_REMOVED_DOES_NOT_EXISTS"},
		{"remove-management", "", "", action(`<removed_network_attachments><network_attachment id="` + attMgmt + `"/></removed_network_attachments>`), 400, "NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK"},
		{"delete-management", http.MethodDelete, e.host("/networkattachments/" + attMgmt), "", 400, "NETWORK_CANNOT_REMOVE_MANAGEMENT_NETWORK"},
		{"vlan-without-nic", "", "", mod(att(net(vmRuleVLAN400))), 400, "BAD_VLAN_NO_SOUTHBOUND"},
		{"two-untagged", "", "", mod(att(net(vmRuleFree) + nic("eth0"))), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK"},
		{"two-untagged-per-resource", http.MethodPost, e.host("/nics/" + eth0 + "/networkattachments"), att(net(vmRuleFree)), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK"},
		{"two-untagged-in-request", "", "", mod(att(net(vmRuleFree)+nic("eth1")), att(net(vmRuleVM)+nic("eth1"))), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK"},
		{"vlan-in-use", "", "", mod(att(net(vmRuleVLAN200) + nic("bond0"))), 409, "NETWORK_VLAN_IN_USE"},
		{"same-network-twice", "", "", mod(att(net(vmRuleFree)+nic("eth1")), att(net(vmRuleFree)+nic("eth4"))), 400, "ACTION_TYPE_FAILED_NETWORK_ATTACHMENTS_REFERENCES_SAME_NETWORK_DUPLICATELY"},
		{"mtu-differences-new-vlan", "", "", mod(att(net(vmRuleV2000) + nic("eth0"))), 409, "NETWORK_MTU_DIFFERENCES"},
		{"mtu-differences-in-request", "", "", mod(att(net(vmRuleJumbo)+nic("eth1")), att(net(vmRuleVLAN400)+nic("eth1"))), 409, "NETWORK_MTU_DIFFERENCES"},
		{"mtu-differences-network-edit", http.MethodPut, networks + "/" + vmNetA, network(`<mtu>2000</mtu>`), 409, "NETWORK_MTU_DIFFERENCES"},
		{"two-untagged-network-edit", http.MethodPut, networks + "/" + vmRuleMgmt, network(`<vlan/>`), 409, "NETWORK_INTERFACES_NOT_EXCLUSIVELY_USED_BY_UNTAGGED_NETWORK"},
		{"mtu-too-small-for-ipv6", "", "", mod(att(net(vmRuleSmall) + nic("eth1") + ips(ip("static", "v6", "2001:db8::1", "64", "")))), 400, "MTU_VALUE_INVALID"},
		{"bridge-opts-unknown-option", "", "", mod(att(net(vmRuleVM) + nic("eth1") + props("bridge_opts", "foo=0"))), 400, "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT"},
		{"bridge-opts-non-vm", "", "", mod(att(net(vmRuleFree) + nic("eth1") + props("bridge_opts", "forward_delay=1500"))), 400, "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT"},
		{"unknown-property", "", "", mod(att(net(vmRuleVM) + nic("eth1") + props("frobnicate", "1"))), 400, "ACTION_TYPE_FAILED_NETWORK_CUSTOM_PROPERTIES_BAD_INPUT"},
		{"bond-without-id-or-name", "", "", action(bonds(`<host_nic><bonding><slaves>` + nic("eth1") + nic("eth4") + `</slaves></bonding></host_nic>`)), 400, "BOND_DOES_NOT_HAVE_NEITHER_ID_NOR_NAME_SPECIFIED"},
		{"removed-bond-without-id-or-name", "", "", action(`<removed_bonds><host_nic/></removed_bonds>`), 400, "BOND_DOES_NOT_HAVE_NEITHER_ID_NOR_NAME_SPECIFIED"},
		{"bond-unknown-id", "", "", action(bonds(`<host_nic id="nope"><bonding><slaves>` + nic("eth1") + nic("eth4") + `</slaves></bonding></host_nic>`)), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_DOES_NOT_EXIST"},
		{"slave-unknown-id", "", "", action(bonds(`<host_nic><name>bond1</name><bonding><slaves>` + nic("eth1") + `<host_nic id="nope"/></slaves></bonding></host_nic>`)), 400, "HOST_NETWORK_INTERFACE_HAVING_ID_DOES_NOT_EXIST"},
		{"bond-id-and-name-disagree", "", "", action(bonds(`<host_nic id="` + bond0 + `"><name>bond7</name></host_nic>`)), 400, "BOND_REFERENCES_NICS_INCOHERENTLY"},
		{"bond-name-bond", "", "", vmBondAction("bond", "mode=1", "eth1", "eth4"), 400, "NETWORK_BOND_NAME_BAD_FORMAT"},
		{"bond-name-with-space", "", "", vmBondAction("bond bad", "mode=1", "eth1", "eth4"), 400, "NETWORK_BOND_NAME_BAD_FORMAT"},
		{"bond-name-jamesbond007", "", "", vmBondAction("jamesbond007", "mode=1", "eth1", "eth4"), 400, "NETWORK_BOND_NAME_BAD_FORMAT"},
		{"bond-name-too-long", "", "", vmBondAction("bond012345678901", "mode=1", "eth1", "eth4"), 400, "NETWORK_BOND_NAME_BAD_FORMAT"},
		{"bond-name-not-a-bond", "", "", vmBondAction("bondbr", "mode=1", "eth1", "eth4"), 409, "NETWORK_INTERFACE_IS_NOT_BOND"},
		{"put-nic-not-a-bond", http.MethodPut, e.host("/nics/" + eth1), vmBond("eth1", "mode=1", "eth4", "eth1"), 409, "NETWORK_INTERFACE_IS_NOT_BOND"},
		{"delete-nic-not-a-bond", http.MethodDelete, e.host("/nics/" + eth1), "", 409, "NETWORK_INTERFACE_IS_NOT_BOND"},
		{"bond-one-slave", "", "", vmBondAction("bond1", "mode=1", "eth1"), 400, "NETWORK_BONDS_INVALID_SLAVE_COUNT"},
		{"bond-no-slaves", "", "", action(bonds(`<host_nic><name>bond1</name><bonding><slaves/></bonding></host_nic>`)), 400, "NETWORK_BONDS_INVALID_SLAVE_COUNT"},
		{"bond-shrunk-to-one", "", "", vmBondAction("bond0", "", "eth2"), 400, "NETWORK_BONDS_INVALID_SLAVE_COUNT"},
		{"bond-shrunk-to-one-per-resource", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond0", "", "eth2"), 400, "NETWORK_BONDS_INVALID_SLAVE_COUNT"},
		{"bond-missing-slave", "", "", vmBondAction("bond1", "mode=1", "eth1", "missing_nic"), 400, "HOST_NETWORK_INTERFACE_HAVING_NAME_DOES_NOT_EXIST"},
		{"bond-slave-is-vlan", "", "", vmBondAction("bond1", "mode=1", "eth1", "bond0.200"), 409, "NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE"},
		{"bond-slave-is-bond", "", "", vmBondAction("bond1", "mode=1", "eth1", "bond0"), 409, "NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE"},
		{"bond-slave-in-other-bond", "", "", vmBondAction("bond1", "mode=1", "eth1", "eth3"), 409, "NETWORK_INTERFACE_ALREADY_IN_BOND"},
		{"bond-slave-carries-network", "", "", vmBondAction("bond1", "mode=1", "eth0", "eth1"), 409, "NETWORK_INTERFACE_ATTACHED_TO_NETWORK_CANNOT_BE_SLAVE"},
		{"bond-slave-gets-network", "", "", action(bonds(vmBond("bond1", "mode=1", "eth1", "eth4")) +
			`<modified_network_attachments>` + att(net(vmRuleFree)+nic("eth1")) + `</modified_network_attachments>`), 409,
			"NETWORK_INTERFACE_ADDED_TO_BOND_AND_NETWORK_IS_ATTACHED_TO_IT_AT_THE_SAME_TIME"},
		{"bond-slave-with-unmanaged-vlan", "", "", vmBondAction("bond1", "mode=1", "eth1", "eth5"), 400, "NETWORK_INTERFACE_WITH_UNMANAGED_NETWORK_CANNOT_BE_SLAVE"},
		{"bond-slave-twice", "", "", vmBondAction("bond1", "mode=1", "eth1", "eth1", "eth4"), 409, "NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES"},
		{"slave-in-two-new-bonds", "", "", action(bonds(vmBond("bond1", "mode=1", "eth1", "eth4"), vmBond("bond2", "mode=1", "eth4", "eth1"))), 409, "NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES"},
		{"remove-unknown-bond", "", "", removedBond(`<name>bond9</name>`), 400, "NETWORK_BOND_RECORDS_DOES_NOT_EXISTS"},
		{"remove-nic-as-bond", "", "", removedBond(`<name>eth1</name>`), 400, "NETWORK_BOND_RECORDS_DOES_NOT_EXISTS"},
		{"remove-unknown-bond-id", "", "", action(`<removed_bonds><host_nic id="nope"/></removed_bonds>`), 400, "NETWORK_BOND_RECORDS_DOES_NOT_EXISTS"},
		{"remove-bond-in-use", "", "", removedBond(`<name>bond0</name>`), 409, "BOND_USED_BY_NETWORK_ATTACHMENTS"},
		{"bond-modified-and-removed", "", "", action(bonds(vmBond("bond0", "mode=1 miimon=100", "eth2", "eth3", "eth4")) +
			`<removed_bonds>` + nic("bond0") + `</removed_bonds>`), 400, "BONDS_UPDATED_AND_REMOVED_SIMULTANEOUSLY"},
		{"vm-network-on-balance-rr", "", "", action(bonds(vmBond("bond1", "mode=0 miimon=100", "eth1", "eth4")) +
			`<modified_network_attachments>` + att(net(vmRuleVM)+nic("bond1")) + `</modified_network_attachments>`), 400, "INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK"},
		{"vm-network-on-balance-alb", "", "", action(bonds(vmBond("bond1", "mode=balance-alb miimon=100", "eth1", "eth4")) +
			`<modified_network_attachments>` + att(net(vmRuleVM)+nic("bond1")) + `</modified_network_attachments>`), 400, "INVALID_BOND_MODE_FOR_BOND_WITH_VM_NETWORK"},
		{"bond-option-unknown", "", "", vmBondAction("bond1", "mode=1 frobnicate=1", "eth1", "eth4"), 400, "BAD_BONDING_OPTION"},
		{"bond-mode-9", "", "", vmBondAction("bond1", "mode=9", "eth1", "eth4"), 400, "BAD_BONDING_OPTION"},
		{"bond-miimon-text", "", "", vmBondAction("bond1", "mode=1 miimon=often", "eth1", "eth4"), 400, "BAD_BONDING_OPTION"},
		{"bond-lacp-rate-in-mode-1", "", "", vmBondAction("bond1", "mode=1 lacp_rate=1", "eth1", "eth4"), 400, "BAD_BONDING_OPTION_FOR_MODE"},
		{"bond-arp-in-802.3ad", "", "", vmBondAction("bond1", "mode=4 arp_interval=100 arp_ip_target=192.0.2.1", "eth1", "eth4"), 400, "BAD_BONDING_OPTION_FOR_MODE"},
		{"bond-miimon-and-arp", "", "", vmBondAction("bond1", "mode=1 miimon=100 arp_interval=100", "eth1", "eth4"), 400, "BAD_BONDING_OPTION_FOR_MODE"},
		{"bond-primary-not-a-slave", "", "", vmBondAction("bond1", "mode=1 primary=eth0", "eth1", "eth4"), 400, "BAD_BONDING_OPTION_FOR_MODE"},
		{"label-without-nic", "", "", action(`<modified_labels><network_label id="l"/></modified_labels>`), 400, "INVALID_VALUE"},
		{"network-name-with-dot", http.MethodPost, networks, network(`<name>a.b</name>`), 400, "BAD_BRIDGE_NAME"},
		{"network-name-with-space", http.MethodPost, networks, network(`<name>a b</name>`), 400, "BAD_BRIDGE_NAME"},
		{"network-name-with-colon", http.MethodPost, networks, network(`<name>a:b</name>`), 400, "BAD_BRIDGE_NAME"},
		{"network-name-16-bytes", http.MethodPost, networks, network(`<name>aaaaaaaaaaaaaaaa</name>`), 400, "BAD_BRIDGE_NAME"},
		{"network-name-leading-dash", http.MethodPost, networks, network(`<name>-ab</name>`), 400, "BAD_BRIDGE_NAME"},
		{"network-rename-bad", http.MethodPut, networks + "/" + vmNetA, network(`<name>a.b</name>`), 400, "BAD_BRIDGE_NAME"},
		{"vlan-4095", http.MethodPost, networks, network(`<name>v4095</name><vlan id="4095"/>`), 400, "NETWORK_VLAN_OUT_OF_RANGE"},
		{"vlan-negative", http.MethodPost, networks, network(`<name>vneg</name><vlan id="-1"/>`), 400, "NETWORK_VLAN_OUT_OF_RANGE"},
		{"mtu-50", http.MethodPost, networks, network(`<name>tiny</name><mtu>50</mtu>`), 400, "MTU_VALUE_INVALID"},
		{"stp-maybe", http.MethodPost, networks, network(`<name>stpnet</name><stp>maybe</stp>`), 400, "BAD_PARAMS_STP"},
		{"network-name-in-use", http.MethodPost, networks, network(`<name>net_a</name>`), 409, "NETWORK_NAME_IN_USE"},
		{"network-rename-to-used-name", http.MethodPut, networks + "/" + vmRuleFree, network(`<name>net_a</name>`), 409, "NETWORK_NAME_IN_USE"},
		{"delete-attached-network", http.MethodDelete, networks + "/" + vmNetA, "", 409, "NETWORK_IS_ATTACHED"},
		{"unknown-usage", http.MethodPost, networks, network(`<name>usage</name><usages><usage>frobnicate</usage></usages>`), 400, "BAD_PARAMS_NETWORK_USAGE"},
		{"vlan-in-use-by-move", "", "", mod(att(net(vmRuleVLAN200)+nic("eth1")), `<network_attachment id="`+attB+`">`+nic("eth1")+`</network_attachment>`), 409, "NETWORK_VLAN_IN_USE"},
		// Hostile input that needs a bond in the kernel (the rest of the
		// bad-input catalogue is in catalogue_test.go).
		{"attach-to-a-bond-slave", "", "", mod(att(net(vmRuleFree) + nic("eth2"))), 409, "NETWORK_INTERFACE_ATTACHED_TO_NETWORK_CANNOT_BE_SLAVE"},
		{"vm-network-named-like-a-bond", "", "", mod(att(net(vmRuleBondNet) + nic("eth1"))), 400, "BAD_BRIDGE_NAME"},
		{"put-bond-not-well-formed", http.MethodPut, e.host("/nics/" + bond0), `<host_nic><name>bond0</name>`, 400, "MALFORMED_REQUEST"},
		{"put-bond-doctype", http.MethodPut, e.host("/nics/" + bond0), `<!DOCTYPE h [<!ENTITY a "b">]><host_nic><name>&a;</name></host_nic>`, 400, "MALFORMED_REQUEST"},
		{"put-bond-json-as-xml", http.MethodPut, e.host("/nics/" + bond0), `{"name":"bond0"}`, 400, "MALFORMED_REQUEST"},
		{"put-bond-wrong-root", http.MethodPut, e.host("/nics/" + bond0), `<network/>`, 400, "INVALID_VALUE"},
		{"put-bond-other-name", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond7", "mode=1", "eth2", "eth3"), 400, "INVALID_VALUE"},
		{"put-bond-duplicated-bonding", http.MethodPut, e.host("/nics/" + bond0), `<host_nic><bonding/><bonding/></host_nic>`, 400, "INVALID_VALUE"},
		{"put-bond-mode-text", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond0", "mode=frobnicate", "eth2", "eth3"), 400, "BAD_BONDING_OPTION"},
		{"put-bond-miimon-negative", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond0", "mode=1 miimon=-1", "eth2", "eth3"), 400, "BAD_BONDING_OPTION"},
		{"put-bond-slave-loopback", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond0", "", "eth2", "lo"), 400, "HOST_NETWORK_INTERFACE_HAVING_NAME_DOES_NOT_EXIST"},
		{"put-bond-slave-bridge", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond0", "", "eth2", "net_a"), 409, "NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE"},
		{"put-bond-slave-vlan", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond0", "", "eth2", "eth5.300"), 409, "NETWORK_INTERFACE_BOND_OR_VLAN_CANNOT_BE_SLAVE"},
		{"put-bond-slave-twice", http.MethodPut, e.host("/nics/" + bond0), vmBond("bond0", "", "eth2", "eth2", "eth3"), 409, "NETWORK_INTERFACE_REFERENCED_AS_A_SLAVE_MULTIPLE_TIMES"},
	}
}

func TestVMRulesRefuseAndChangeNothing(t *testing.T) {
	host := vmRulesHost(t)
	snapshot := func(e *vmEnv) string {
		return e.snapshot() + "\n--- networks\n" + parseXML(e.t, e.must(http.MethodGet, "/ovirt-engine/api/networks", "", http.StatusOK)).Canonical()
	}
	for i := 0; i < len(vmRuleCases(host)); i++ {
		c := vmRuleCases(host)[i]
		dirty := false
		t.Run(c.name, func(t *testing.T) {
			e := host.with(t)
			before := snapshot(e)
			method, path := c.method, c.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = e.host("/setupnetworks")
			}
			r := e.do(method, path, c.body)
			after := snapshot(e)
			dirty = after != before || r.Status < 400
			if after != before {
				t.Errorf("the refused request changed the host\n--- before\n%s\n--- after\n%s", before, after)
			}
			if r.Status != c.status || (r.Status >= 400 && text(parseXML(t, r), "code") != c.code) {
				t.Errorf("%s %s: %d; want %d %s\n%s\nrequest:\n%s", method, path, r.Status, c.status, c.code, r.Body, c.body)
				return
			}
			expectFault(t, r, c.status, c.code)
		})
		if dirty {
			// Start the next case from a known host again.
			host = vmRulesHost(t)
		}
	}
}
