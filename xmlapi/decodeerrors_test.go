package xmlapi

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     string // XML, or JSON when root is set
		root     string // decode as this root (for JSON bodies and wrong roots)
		wantPath string
		wantMsg  string
	}{
		{
			name:     "unknown-element",
			body:     `<action><modified_bonds><host_nic><name>bond0</name><frobnicate/></host_nic></modified_bonds></action>`,
			wantPath: "action/modified_bonds/host_nic/frobnicate", wantMsg: "unknown element",
		},
		{
			name:     "unknown-element-in-json",
			body:     `{"modified_bonds":{"host_nic":[{"name":"bond0","frobnicate":1}]}}`,
			root:     "action",
			wantPath: "action/modified_bonds/host_nic/frobnicate", wantMsg: "unknown element",
		},
		{
			name:     "unknown-action-child",
			body:     `<action><host_nics/></action>`,
			wantPath: "action/host_nics", wantMsg: "unknown element",
		},
		{
			name:     "unknown-element-in-ip",
			body:     `<network_attachment><ip_address_assignments><ip_address_assignment><ip><prefix>24</prefix></ip></ip_address_assignment></ip_address_assignments></network_attachment>`,
			wantPath: "network_attachment/ip_address_assignments/ip_address_assignment/ip/prefix", wantMsg: "unknown element",
		},
		{
			name:     "type-only-ignored-on-options",
			body:     `<host_nic><name>bond0</name><type>bond</type></host_nic>`,
			wantPath: "host_nic/type", wantMsg: "unknown element",
		},
		{
			name:     "child-of-a-leaf",
			body:     `<network><name><first>x</first></name></network>`,
			wantPath: "network/name/first", wantMsg: "unknown element",
		},
		{
			name:     "text-in-a-container",
			body:     `<action><modified_bonds>bond0</modified_bonds></action>`,
			wantPath: "action/modified_bonds", wantMsg: "unexpected text",
		},
		{
			name:     "text-in-vlan",
			body:     `<network><vlan>100</vlan></network>`,
			wantPath: "network/vlan", wantMsg: "unexpected text",
		},
		{
			name:     "duplicated-name",
			body:     `<action><modified_bonds><host_nic><name>bond0</name><name>bond1</name></host_nic></modified_bonds></action>`,
			wantPath: "action/modified_bonds/host_nic/name", wantMsg: "duplicated element",
		},
		{
			name:     "duplicated-mtu",
			body:     `<network><name>n</name><mtu>1500</mtu><mtu>9000</mtu></network>`,
			wantPath: "network/mtu", wantMsg: "duplicated element",
		},
		{
			name:     "duplicated-wrapper",
			body:     `<action><removed_bonds/><removed_bonds/></action>`,
			wantPath: "action/removed_bonds", wantMsg: "duplicated element",
		},
		{
			name:     "bonds-and-modified-bonds",
			body:     `<action><modified_bonds/><bonds/></action>`,
			wantPath: "action/bonds", wantMsg: "alias of modified_bonds",
		},
		{
			name:     "two-attachment-lists",
			body:     `<action><modified_network_attachments/><network_attachments/></action>`,
			wantPath: "action/network_attachments", wantMsg: "alias of modified_network_attachments",
		},
		{
			name:     "bonding-and-link-aggregation",
			body:     `<host_nic><name>bond0</name><bonding/><link_aggregation/></host_nic>`,
			wantPath: "host_nic/link_aggregation", wantMsg: "alias of bonding",
		},
		{
			name:     "ip-assignments-and-ip-configuration",
			body:     `<network_attachment><ip_address_assignments/><ip_configuration/></network_attachment>`,
			wantPath: "network_attachment/ip_configuration", wantMsg: "alias of ip_address_assignments",
		},
		{
			name: "two-primaries",
			body: `<network_attachment><ip_configuration><ipv4s>
				<ipv4><primary>true</primary><address>10.0.0.1</address></ipv4>
				<ipv4><primary>true</primary><address>10.0.0.2</address></ipv4>
				</ipv4s></ip_configuration></network_attachment>`,
			wantPath: "network_attachment/ip_configuration/ipv4s/ipv4", wantMsg: "more than one",
		},
		{
			name: "several-ipv4-none-primary",
			body: `<network_attachment><ip_configuration><ipv4s>
				<ipv4><address>10.0.0.1</address></ipv4><ipv4><address>10.0.0.2</address></ipv4>
				</ipv4s></ip_configuration></network_attachment>`,
			wantPath: "network_attachment/ip_configuration/ipv4s/ipv4", wantMsg: "none is primary",
		},
		{
			name:     "contradicting-boot-protocols",
			body:     `<network_attachment><ip_configuration><ipv4s><boot_protocol>dhcp</boot_protocol><ipv4><boot_protocol>static</boot_protocol></ipv4></ipv4s></ip_configuration></network_attachment>`,
			wantPath: "network_attachment/ip_configuration/ipv4s/ipv4/boot_protocol", wantMsg: "contradicts",
		},
		{
			name:     "bad-boolean",
			body:     `<action><check_connectivity>yes</check_connectivity></action>`,
			wantPath: "action/check_connectivity", wantMsg: `invalid boolean "yes"`,
		},
		{
			name:     "empty-boolean",
			body:     `<action><async/></action>`,
			wantPath: "action/async", wantMsg: "invalid boolean",
		},
		{
			name:     "bad-primary",
			body:     `<network_attachment><ip_configuration><ipv4s><ipv4><primary>1</primary></ipv4></ipv4s></ip_configuration></network_attachment>`,
			wantPath: "network_attachment/ip_configuration/ipv4s/ipv4/primary", wantMsg: "invalid boolean",
		},
		{
			name:     "bad-override-in-action",
			body:     `<action><network_attachments><network_attachment id="a"><override_configuration>on</override_configuration></network_attachment></network_attachments></action>`,
			wantPath: "action/network_attachments/network_attachment/override_configuration", wantMsg: "invalid boolean",
		},
		{
			name:     "wrong-root",
			body:     `<network><name>n</name></network>`,
			root:     "action",
			wantPath: "network", wantMsg: "want action",
		},
		{
			name:     "modified-labels",
			body:     `<action><modified_labels><network_label id="l"/></modified_labels></action>`,
			wantPath: "action/modified_labels/network_label", wantMsg: "names no host_nic",
		},
		{
			name:     "label-without-id",
			body:     `<action><removed_labels><network_label/></removed_labels></action>`,
			wantPath: "action/removed_labels/network_label", wantMsg: "needs an id",
		},
		{
			name:     "duplicated-property",
			body:     `<network_attachment><properties><property><name>bridge_opts</name><value>a=1</value></property><property><name>bridge_opts</name><value>b=2</value></property></properties></network_attachment>`,
			wantPath: "network_attachment/properties/property", wantMsg: `duplicated property "bridge_opts"`,
		},
		{
			name:     "move-form-without-id",
			body:     `<action><network_attachments><host_nic id="n"/></network_attachments></action>`,
			wantPath: "action/network_attachments/host_nic", wantMsg: "unknown element",
		},
		{
			name:     "unknown-in-removed-bond",
			body:     `<action><removed_bonds><host_nic><name>bond0</name><bonding/></host_nic></removed_bonds></action>`,
			wantPath: "action/removed_bonds/host_nic/bonding", wantMsg: "unknown element",
		},
		{
			name:     "bad-name-server-element",
			body:     `<network><dns_resolver_configuration><name_servers><server>1.1.1.1</server></name_servers></dns_resolver_configuration></network>`,
			wantPath: "network/dns_resolver_configuration/name_servers/server", wantMsg: "unknown element",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n *Node
			var err error
			if strings.HasPrefix(tt.body, "{") {
				n, err = ParseJSON([]byte(tt.body), tt.root)
			} else {
				n, err = ParseXML([]byte(tt.body))
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.root != "" && n.Name != tt.root {
				_, err = DecodeSetupNetworks(n)
			} else {
				_, err = decodeRequest(n)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v; want a *DecodeError", err)
			}
			if de.Path != tt.wantPath || !strings.Contains(de.Msg, tt.wantMsg) {
				t.Errorf("err = %v; want path %s and a message containing %q", err, tt.wantPath, tt.wantMsg)
			}
		})
	}
}

func TestDecodeWrongRoots(t *testing.T) {
	n := Elem("action")
	if _, err := DecodeNetworkAttachment(n); err == nil {
		t.Error("DecodeNetworkAttachment(<action>) succeeded")
	}
	if _, err := DecodeBond(n); err == nil {
		t.Error("DecodeBond(<action>) succeeded")
	}
	if _, err := DecodeNetwork(n); err == nil {
		t.Error("DecodeNetwork(<action>) succeeded")
	}
	if _, err := DecodeSetupNetworks(nil); err == nil {
		t.Error("DecodeSetupNetworks(nil) succeeded")
	}
}

func TestDecodeErrorText(t *testing.T) {
	err := error(&DecodeError{Path: "action/modified_bonds/host_nic/frobnicate", Msg: "unknown element"})
	if got, want := err.Error(), "invalid value at action/modified_bonds/host_nic/frobnicate: unknown element"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}
