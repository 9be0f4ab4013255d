//go:build vmtest

package integration

import (
	"net/http"
	"testing"
)

// Network and VLAN scenarios of the peers (kernel-testing.md §5, Networks
// and VLANs).

// TestVMVLANRetag changes a network's VLAN 101 → 102 with PUT /networks: the
// device becomes eth0.102 (bridged: the bridge stays and takes the new port).
func TestVMVLANRetag(t *testing.T) {
	for name, usages := range map[string]string{"bridged": vmVM, "bridgeless": ""} {
		t.Run(name, func(t *testing.T) {
			e := vmStart(t, 1)
			e.network(vmNetA, "net_a", `<vlan id="101"/>`+usages)
			e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
			top := "eth0.101"
			if usages != "" {
				e.wantBridge("net_a", "eth0.101")
				top = "net_a"
			}
			idx := e.index(top)
			r := e.must(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, `<network><vlan id="102"/></network>`, http.StatusOK)
			e.changed(r)
			e.gone("eth0.101")
			e.wantVLAN("eth0.102", "eth0", 102)
			if usages != "" {
				e.wantBridge("net_a", "eth0.102")
				e.sameIndex("net_a", idx)
				e.wantAddrs("net_a", "192.0.2.10/24")
				e.wantUp("net_a")
			} else {
				e.wantAddrs("eth0.102", "192.0.2.10/24")
			}
			e.wantUp("eth0.102")
			e.again(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, `<network><vlan id="102"/></network>`, http.StatusOK)
		})
	}
}

// TestVMVLANZeroOneTwo: three networks with VLAN 0, 1 and 2 on one NIC
// (VLAN 0 is valid).
func TestVMVLANZeroOneTwo(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", `<vlan id="0"/>`)
	e.network(vmNetB, "net_b", `<vlan id="1"/>`+vmVM)
	e.network(vmNetC, "net_c", `<vlan id="2"/>`)
	body := `<action><modified_network_attachments>` + vmAttachment(vmNetA, "eth0", "") + vmAttachment(vmNetB, "eth0", "") +
		vmAttachment(vmNetC, "eth0", "") + `</modified_network_attachments></action>`
	e.changed(e.setup(body))
	e.wantVLAN("eth0.0", "eth0", 0)
	e.wantVLAN("eth0.1", "eth0", 1)
	e.wantVLAN("eth0.2", "eth0", 2)
	e.wantBridge("net_b", "eth0.1")
	e.wantUp("eth0.0", "eth0.1", "eth0.2", "net_b")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
}

// TestVMVLANWithUntagged: one untagged (bridged, with an address) and one
// VLAN network on one NIC; removing the untagged one leaves the VLAN one and
// no address on the base.
func TestVMVLANWithUntagged(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", vmVM)
	e.network(vmNetB, "net_b", `<vlan id="200"/>`)
	body := `<action><modified_network_attachments>` + vmAttachment(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", "")) +
		vmAttachment(vmNetB, "eth0", vmStatic4("198.51.100.10", "24", "")) + `</modified_network_attachments></action>`
	e.changed(e.setup(body))
	e.wantBridge("net_a", "eth0")
	e.wantVLAN("eth0.200", "eth0", 200)
	e.wantAddrs("net_a", "192.0.2.10/24")
	e.wantAddrs("eth0.200", "198.51.100.10/24")
	e.wantAddrs("eth0")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
	vlan := e.index("eth0.200")

	e.changed(e.must(http.MethodDelete, e.host("/networkattachments/"+e.attachmentID(vmNetA)), "", http.StatusOK))
	e.gone("net_a")
	e.sameIndex("eth0.200", vlan)
	e.wantAddrs("eth0.200", "198.51.100.10/24")
	e.wantAddrs("eth0")
	e.wantMaster("eth0", "")
	e.wantUp("eth0", "eth0.200")
}

// TestVMVLANSameIDOnTwoNICs: the same VLAN id on two NICs is fine.
func TestVMVLANSameIDOnTwoNICs(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "net_a", `<vlan id="100"/>`)
	e.network(vmNetB, "net_b", `<vlan id="100"/>`+vmVM)
	body := `<action><modified_network_attachments>` + vmAttachment(vmNetA, "eth0", "") + vmAttachment(vmNetB, "eth1", "") +
		`</modified_network_attachments></action>`
	e.changed(e.setup(body))
	e.wantVLAN("eth0.100", "eth0", 100)
	e.wantVLAN("eth1.100", "eth1", 100)
	e.wantBridge("net_b", "eth1.100")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
}

// TestVMVLANBridgeToggle: a VLAN network with an address goes bridgeless →
// bridged → bridgeless through PUT /networks; the address follows the top
// device and the VLAN device is kept.
func TestVMVLANBridgeToggle(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", `<vlan id="100"/>`)
	e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
	vlan := e.index("eth0.100")
	put := func(usages string) {
		t.Helper()
		e.changed(e.must(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, `<network>`+usages+`</network>`, http.StatusOK))
	}
	put(vmVM)
	e.wantBridge("net_a", "eth0.100")
	e.wantAddrs("net_a", "192.0.2.10/24")
	e.wantAddrs("eth0.100")
	e.wantUp("net_a", "eth0.100")
	e.sameIndex("eth0.100", vlan)

	put(`<usages/>`)
	e.gone("net_a")
	e.wantAddrs("eth0.100", "192.0.2.10/24")
	e.wantMaster("eth0.100", "")
	e.wantUp("eth0.100")
	e.sameIndex("eth0.100", vlan)
}

// TestVMVLANRemoveOne: removing one of two VLAN networks deletes only its
// device.
func TestVMVLANRemoveOne(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", `<vlan id="100"/>`)
	e.network(vmNetB, "net_b", `<vlan id="101"/>`)
	e.attach(vmNetA, "eth0", "")
	e.attach(vmNetB, "eth0", "")
	keep := e.index("eth0.101")
	e.changed(e.setup(`<action><removed_network_attachments><network_attachment id="` + e.attachmentID(vmNetA) +
		`"/></removed_network_attachments></action>`))
	e.gone("eth0.100")
	e.sameIndex("eth0.101", keep)
}

// TestVMVLANThreeOnBond: three VLAN networks on one bond; retagging one
// leaves the bond untouched.
func TestVMVLANThreeOnBond(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "net_a", `<vlan id="10"/>`)
	e.network(vmNetB, "net_b", `<vlan id="20"/>`+vmVM)
	e.network(vmNetC, "net_c", `<vlan id="30"/>`)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetA, "bond1", "") + vmAttachment(vmNetB, "bond1", "") +
		vmAttachment(vmNetC, "bond1", "") + `</modified_network_attachments></action>`)
	e.wantVLAN("bond1.10", "bond1", 10)
	e.wantVLAN("bond1.20", "bond1", 20)
	e.wantVLAN("bond1.30", "bond1", 30)
	e.wantBridge("net_b", "bond1.20")
	bond := e.index("bond1")
	stop := e.watch("bond1")
	e.changed(e.must(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, `<network><vlan id="11"/></network>`, http.StatusOK))
	e.gone("bond1.10")
	e.wantVLAN("bond1.11", "bond1", 11)
	e.noFlap("bond1", stop)
	e.sameIndex("bond1", bond)
}

// TestVMVLANDeviceDeletedBehindOurBack: a VLAN device removed out of band is
// rebuilt by repeating the request.
func TestVMVLANDeviceDeletedBehindOurBack(t *testing.T) {
	e := vmStart(t, 1)
	e.network(vmNetA, "net_a", `<vlan id="100"/>`+vmVM)
	e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
	if err := e.ns.Handle.LinkDel(e.link("eth0.100")); err != nil {
		t.Fatal(err)
	}
	e.changed(e.setup(vmAttachAction(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))))
	e.wantVLAN("eth0.100", "eth0", 100)
	e.wantBridge("net_a", "eth0.100")
	e.wantUp("eth0.100", "net_a")
}

// TestVMRequestIsADelta: a request touches only what it names (semantics
// §1). eth1, carrying net_b, was changed out of band (MTU 1400); a request
// that edits net_a on eth0 leaves eth1 alone, so the drift stays for sync
// (override_configuration) to repair.
func TestVMRequestIsADelta(t *testing.T) {
	e := vmStart(t, 2)
	e.driftExpected = true
	e.network(vmNetA, "net_a", "")
	e.network(vmNetB, "net_b", `<vlan id="200"/>`)
	e.attach(vmNetA, "eth0", vmStatic4("192.0.2.10", "24", ""))
	e.attach(vmNetB, "eth1", "")
	if err := e.ns.Handle.LinkSetMTU(e.link("eth1"), 1400); err != nil {
		t.Fatal(err)
	}
	e.changed(e.setup(vmAttachAction(vmNetA, "eth0", vmStatic4("192.0.2.11", "24", ""))))
	e.wantAddrs("eth0", "192.0.2.11/24")
	e.wantMTU(1400, "eth1")
}
