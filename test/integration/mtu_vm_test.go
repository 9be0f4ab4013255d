//go:build vmtest

package integration

import (
	"net/http"
	"testing"
)

// MTU scenarios of the peers (kernel-testing.md §5, MTU; semantics §3).

// TestVMMTUOnNIC: a bridgeless and a bridged network of MTU 2000 set every
// layer; editing the network to 2100 then 1600 follows on every layer.
func TestVMMTUOnNIC(t *testing.T) {
	for name, usages := range map[string]string{"bridged": vmVM, "bridgeless": ""} {
		t.Run(name, func(t *testing.T) {
			e := vmStart(t, 1)
			e.network(vmNetA, "net_a", `<mtu>2000</mtu>`+usages)
			e.attach(vmNetA, "eth0", "")
			layers := []string{"eth0"}
			if usages != "" {
				layers = append(layers, "net_a")
			}
			e.wantMTU(2000, layers...)
			for _, mtu := range []string{"2100", "1600"} {
				e.changed(e.must(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, `<network><mtu>`+mtu+`</mtu></network>`, http.StatusOK))
				n := map[string]int{"2100": 2100, "1600": 1600}[mtu]
				e.wantMTU(n, layers...)
			}
		})
	}
}

// TestVMMTUEditEveryLayer: a bridged VLAN network on a bond, 2000 → 2100 →
// 1600: bond, slaves, VLAN and bridge all follow.
func TestVMMTUEditEveryLayer(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "net_a", `<vlan id="100"/><mtu>2000</mtu>`+vmVM)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetA, "bond1", "") + `</modified_network_attachments></action>`)
	all := []string{"eth0", "eth1", "bond1", "bond1.100", "net_a"}
	e.wantMTU(2000, all...)
	for _, mtu := range []int{2100, 1600} {
		body := `<network><mtu>` + map[int]string{2100: "2100", 1600: "1600"}[mtu] + `</mtu></network>`
		e.changed(e.must(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, body, http.StatusOK))
		e.wantMTU(mtu, all...)
		e.wantUp("bond1", "bond1.100", "net_a")
	}
}

// TestVMMTUTwoVLANs: VLAN networks of 1600 and 2000 on one base: the base
// takes the larger; removing the 2000 one drops it to 1600 without touching
// the other VLAN; adding it back raises the base again.
func TestVMMTUTwoVLANs(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", `<vlan id="100"/><mtu>1600</mtu>`)
	e.network(vmNetB, "net_b", `<vlan id="200"/><mtu>2000</mtu>`+vmVM)
	add := `<action><modified_network_attachments>` + vmAttachment(vmNetA, "eth0", "") + vmAttachment(vmNetB, "eth0", "") +
		`</modified_network_attachments></action>`
	e.changed(e.setup(add))
	e.wantMTU(2000, "eth0", "eth0.200", "net_b")
	e.wantMTU(1600, "eth0.100")
	vlan := e.index("eth0.100")

	stop := e.watch("eth0")
	e.changed(e.setup(`<action><removed_network_attachments><network_attachment id="` + e.attachmentID(vmNetB) +
		`"/></removed_network_attachments></action>`))
	e.noFlap("eth0", stop)
	e.wantMTU(1600, "eth0", "eth0.100")
	e.gone("eth0.200", "net_b")
	e.sameIndex("eth0.100", vlan)

	e.changed(e.setup(vmAttachAction(vmNetB, "eth0", "")))
	e.wantMTU(2000, "eth0", "eth0.200", "net_b")
	e.wantMTU(1600, "eth0.100")
}

// TestVMMTULoneSmallVLAN: a lone VLAN network of MTU 1000 sets its base to
// 1000, not 1500.
func TestVMMTULoneSmallVLAN(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", `<vlan id="100"/><mtu>1000</mtu>`)
	e.attach(vmNetA, "eth0", "")
	e.wantMTU(1000, "eth0", "eth0.100")
}

// TestVMMTURemovedBondFreesSlaves: removing a 2100 bond puts its slaves
// back to 1500.
func TestVMMTURemovedBondFreesSlaves(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "net_a", `<mtu>2100</mtu>`)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetA, "bond1", "") + `</modified_network_attachments></action>`)
	e.wantMTU(2100, "bond1", "eth0", "eth1")
	e.changed(e.setup(`<action><removed_bonds><host_nic><name>bond1</name></host_nic></removed_bonds>` +
		`<removed_network_attachments><network_attachment id="` + e.attachmentID(vmNetA) + `"/></removed_network_attachments></action>`))
	e.gone("bond1")
	e.wantMTU(1500, "eth0", "eth1")
}

// TestVMMTUAllNetworksRemoved: removing every network puts the NIC back to
// 1500.
func TestVMMTUAllNetworksRemoved(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", `<mtu>2000</mtu>`+vmVM)
	e.network(vmNetB, "net_b", `<vlan id="100"/><mtu>2000</mtu>`)
	e.attach(vmNetA, "eth0", "")
	e.attach(vmNetB, "eth0", "")
	e.wantMTU(2000, "eth0", "eth0.100", "net_a")
	e.changed(e.setup(`<action><removed_network_attachments><network_attachment id="` + e.attachmentID(vmNetA) +
		`"/><network_attachment id="` + e.attachmentID(vmNetB) + `"/></removed_network_attachments></action>`))
	e.wantMTU(1500, "eth0")
}

// TestVMMTUMovedNetwork: moving a 2000 network from eth0 to eth1 puts eth0
// back to 1500.
func TestVMMTUMovedNetwork(t *testing.T) {
	for name, usages := range map[string]string{"bridged": vmVM, "bridgeless": "", "vlan": `<vlan id="100"/>`} {
		t.Run(name, func(t *testing.T) {
			e := vmStart(t, 2)
			e.network(vmNetA, "net_a", `<mtu>2000</mtu>`+usages)
			e.attach(vmNetA, "eth0", "")
			e.wantMTU(2000, "eth0")
			e.changed(e.must(http.MethodPut, e.host("/networkattachments/"+e.attachmentID(vmNetA)),
				`<network_attachment><host_nic id="`+e.nicID("eth1")+`"/></network_attachment>`, http.StatusOK))
			e.wantMTU(1500, "eth0")
			e.wantMTU(2000, "eth1")
		})
	}
}
