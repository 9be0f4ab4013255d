//go:build vmtest

package integration

import (
	"net/http"
	"testing"

	"github.com/vishvananda/netlink"
)

// Bond scenarios of the peers (kernel-testing.md §5, Bonds).

// TestVMBondAddRemove: a new bond gets exactly the requested slaves and
// options (mode=3 miimon=150); removing it deletes it and frees the slaves.
func TestVMBondAddRemove(t *testing.T) {
	e := vmStart(t, 3)
	body := vmBondAction("bond1", "mode=3 miimon=150", "eth0", "eth1")
	e.changed(e.setup(body))
	b := e.wantBond("bond1", netlink.BOND_MODE_BROADCAST, "eth0", "eth1")
	if b.Miimon != 150 {
		t.Errorf("bond1 miimon = %d; want 150", b.Miimon)
	}
	e.wantMaster("eth2", "")
	e.wantUp("bond1")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)

	e.changed(e.setup(`<action><removed_bonds><host_nic><name>bond1</name></host_nic></removed_bonds></action>`))
	e.gone("bond1")
	e.wantMaster("eth0", "")
	e.wantMaster("eth1", "")
	e.wantUp("eth0", "eth1")
}

// TestVMBondDefaultOptions: a bond created without options gets the
// engine's defaults, mode=4 miimon=100 xmit_hash_policy=2.
func TestVMBondDefaultOptions(t *testing.T) {
	e := vmStart(t, 2)
	e.changed(e.setup(vmBondAction("bond1", "", "eth0", "eth1")))
	b := e.wantBond("bond1", netlink.BOND_MODE_802_3AD, "eth0", "eth1")
	if b.Miimon != 100 || b.XmitHashPolicy != netlink.BOND_XMIT_HASH_POLICY_LAYER2_3 {
		t.Errorf("bond1 miimon %d xmit_hash_policy %s; want 100 layer2+3", b.Miimon, b.XmitHashPolicy)
	}
	e.again(http.MethodPost, e.host("/setupnetworks"), vmBondAction("bond1", "", "eth0", "eth1"), http.StatusOK)
}

// TestVMBondSwapSlave: [eth0,eth1] → [eth0,eth2] keeps the bond (same
// ifindex) and its link never goes down.
func TestVMBondSwapSlave(t *testing.T) {
	e := vmStart(t, 3)
	e.setup(vmBondAction("bond1", "mode=1 miimon=100", "eth0", "eth1"))
	e.wantUp("bond1")
	idx := e.index("bond1")
	stop := e.watch("bond1")
	body := vmBondAction("bond1", "mode=1 miimon=100", "eth0", "eth2")
	e.changed(e.setup(body))
	e.wantBond("bond1", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth2")
	e.noFlap("bond1", stop)
	e.sameIndex("bond1", idx)
	e.wantMaster("eth1", "")
	e.wantUp("bond1", "eth0", "eth2")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
}

// TestVMBondResize: 2 → 4 → 3 slaves, given without options (unchanged),
// in place and without a flap.
func TestVMBondResize(t *testing.T) {
	e := vmStart(t, 4)
	e.setup(vmBondAction("bond1", "mode=2 miimon=100", "eth0", "eth1"))
	e.wantUp("bond1")
	idx := e.index("bond1")
	for _, slaves := range [][]string{{"eth0", "eth1", "eth2", "eth3"}, {"eth0", "eth2", "eth3"}} {
		stop := e.watch("bond1")
		body := vmBondAction("bond1", "", slaves...)
		e.changed(e.setup(body))
		e.wantBond("bond1", netlink.BOND_MODE_BALANCE_XOR, slaves...)
		e.noFlap("bond1", stop)
		e.sameIndex("bond1", idx)
		e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
	}
	e.wantMaster("eth1", "")
	e.wantUp("eth1")
}

// TestVMBondAddSlavePerResource adds a slave with the design page's PUT
// /nics/{bond}, options unchanged: no flap, same bond.
func TestVMBondAddSlavePerResource(t *testing.T) {
	e := vmStart(t, 3)
	e.must(http.MethodPost, e.design("/nics"), vmBond("bond0", "mode=1 miimon=100", "eth0", "eth1"), http.StatusCreated)
	e.wantUp("bond0")
	idx := e.index("bond0")
	stop := e.watch("bond0")
	body := `<host_nic><name>bond0</name><bonding><slaves><host_nic id="` + e.nicID("eth0") + `"/><host_nic id="` +
		e.nicID("eth1") + `"/><host_nic id="` + e.nicID("eth2") + `"/></slaves></bonding></host_nic>`
	path := e.design("/nics/" + e.nicID("bond0"))
	e.changed(e.must(http.MethodPut, path, body, http.StatusOK))
	b := e.wantBond("bond0", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1", "eth2")
	if b.Miimon != 100 {
		t.Errorf("miimon = %d; want 100 kept", b.Miimon)
	}
	e.noFlap("bond0", stop)
	e.sameIndex("bond0", idx)
	e.again(http.MethodPut, path, body, http.StatusOK)
}

// TestVMBondLiveOption changes miimon 100 → 150 on a bond with slaves: a
// live option, written in place without releasing the slaves.
func TestVMBondLiveOption(t *testing.T) {
	e := vmStart(t, 2)
	e.setup(vmBondAction("bond1", "mode=1 miimon=100", "eth0", "eth1"))
	e.wantUp("bond1")
	idx := e.index("bond1")
	stop := e.watch("bond1")
	body := vmBondAction("bond1", "mode=1 miimon=150", "eth0", "eth1")
	e.changed(e.setup(body))
	b := e.wantBond("bond1", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1")
	if b.Miimon != 150 {
		t.Errorf("miimon = %d; want 150", b.Miimon)
	}
	e.noFlap("bond1", stop)
	e.sameIndex("bond1", idx)
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
}

// TestVMBondOptionsAreComplete: the options of a request are the complete
// set (semantics §7): an option no longer named goes back to its default.
func TestVMBondOptionsAreComplete(t *testing.T) {
	e := vmStart(t, 2)
	e.setup(vmBondAction("bond1", "mode=1 miimon=100 updelay=200", "eth0", "eth1"))
	if b := e.wantBond("bond1", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1"); b.UpDelay != 200 {
		t.Fatalf("updelay = %d; want 200", b.UpDelay)
	}
	e.setup(vmBondAction("bond1", "mode=1 miimon=100", "eth0", "eth1"))
	if b := e.wantBond("bond1", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1"); b.UpDelay != 0 {
		t.Errorf("updelay = %d after a request without it; want 0 (the default)", b.UpDelay)
	}
}

// TestVMBondModeChangeKeepsVLAN: mode 1 → 4 on a bond that carries a VLAN
// network: the bond and the VLAN device survive (same ifindex), the VLAN
// network's address stays.
func TestVMBondModeChangeKeepsVLAN(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetB, "net_b", `<vlan id="200"/>`)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetB, "bond1", vmStatic4("192.0.2.10", "24", "")) +
		`</modified_network_attachments></action>`)
	bond, vlan := e.index("bond1"), e.index("bond1.200")
	body := vmBondAction("bond1", "mode=4 miimon=100", "eth0", "eth1")
	e.changed(e.setup(body))
	e.wantBond("bond1", netlink.BOND_MODE_802_3AD, "eth0", "eth1")
	e.sameIndex("bond1", bond)
	e.sameIndex("bond1.200", vlan)
	e.wantVLAN("bond1.200", "bond1", 200)
	e.wantAddrs("bond1.200", "192.0.2.10/24")
	e.wantAdminUp("bond1", "bond1.200", "eth0", "eth1")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
}

// TestVMBondModeChangeBackAndForth: 1 → 3 → 1, the bond comes back up each
// time and keeps its options.
func TestVMBondModeChangeBackAndForth(t *testing.T) {
	e := vmStart(t, 2)
	e.setup(vmBondAction("bond1", "mode=1 miimon=150", "eth0", "eth1"))
	idx := e.index("bond1")
	for _, c := range []struct {
		opts string
		mode netlink.BondMode
	}{{"mode=3 miimon=150", netlink.BOND_MODE_BROADCAST}, {"mode=active-backup miimon=150", netlink.BOND_MODE_ACTIVE_BACKUP}} {
		e.changed(e.setup(vmBondAction("bond1", c.opts, "eth0", "eth1")))
		if b := e.wantBond("bond1", c.mode, "eth0", "eth1"); b.Miimon != 150 {
			t.Errorf("%s: miimon = %d; want 150", c.opts, b.Miimon)
		}
		e.sameIndex("bond1", idx)
		e.wantUp("bond1", "eth0", "eth1")
	}
}

// TestVMBondMACByName: a new bond takes the MAC of its first slave by name,
// whatever order the request lists them in.
func TestVMBondMACByName(t *testing.T) {
	for name, slaves := range map[string][]string{"in-order": {"eth0", "eth1"}, "reversed": {"eth1", "eth0"}} {
		t.Run(name, func(t *testing.T) {
			e := vmStart(t, 2)
			e.setMAC("eth0", "02:00:00:00:00:0b")
			e.setMAC("eth1", "02:00:00:00:00:0a")
			e.setup(vmBondAction("bond1", "mode=1 miimon=100", slaves...))
			if got := e.link("bond1").Attrs().HardwareAddr.String(); got != "02:00:00:00:00:0b" {
				t.Errorf("bond1 MAC = %s; want eth0's 02:00:00:00:00:0b", got)
			}
		})
	}
}

// TestVMBondKeepsMACWhenSlavesChange: adding or removing a port keeps the
// bond MAC.
func TestVMBondKeepsMACWhenSlavesChange(t *testing.T) {
	e := vmStart(t, 3)
	e.setup(vmBondAction("bond1", "mode=1 miimon=100", "eth0", "eth1"))
	mac := e.link("bond1").Attrs().HardwareAddr.String()
	e.setup(vmBondAction("bond1", "", "eth0", "eth1", "eth2"))
	e.setup(vmBondAction("bond1", "", "eth1", "eth2"))
	if got := e.link("bond1").Attrs().HardwareAddr.String(); got != mac {
		t.Errorf("bond1 MAC %s → %s after its slaves changed", mac, got)
	}
}

// TestVMBondSwapSlavesBetweenBonds: bond1 [eth0,eth1] and bond2 [eth2,eth3]
// exchange eth1 and eth3 in one request.
func TestVMBondSwapSlavesBetweenBonds(t *testing.T) {
	e := vmStart(t, 4)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") +
		vmBond("bond2", "mode=1 miimon=100", "eth2", "eth3") + `</modified_bonds></action>`)
	i1, i2 := e.index("bond1"), e.index("bond2")
	body := `<action><modified_bonds>` + vmBond("bond1", "", "eth0", "eth3") + vmBond("bond2", "", "eth2", "eth1") + `</modified_bonds></action>`
	e.changed(e.setup(body))
	e.wantBond("bond1", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth3")
	e.wantBond("bond2", netlink.BOND_MODE_ACTIVE_BACKUP, "eth1", "eth2")
	e.sameIndex("bond1", i1)
	e.sameIndex("bond2", i2)
	e.wantUp("bond1", "bond2")
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
}

// TestVMBondReplaceWithFormerSlave: a network on bond1 moves to eth0, a
// former slave, while bond1 is removed, in one request.
func TestVMBondReplaceWithFormerSlave(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "net_a", vmVM)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetA, "bond1", vmStatic4("192.0.2.10", "24", "")) + `</modified_network_attachments></action>`)
	e.changed(e.setup(`<action><removed_bonds><host_nic><name>bond1</name></host_nic></removed_bonds><modified_network_attachments>` +
		vmAttachment(vmNetA, "eth0", "") + `</modified_network_attachments></action>`))
	e.gone("bond1")
	e.wantBridge("net_a", "eth0")
	e.wantAddrs("net_a", "192.0.2.10/24")
	e.wantUp("net_a", "eth0")
}

// TestVMBondReplaceNICWithBond: a bridged VLAN network on eth0 moves to a
// new bond that contains eth0.
func TestVMBondReplaceNICWithBond(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetC, "net_c", `<vlan id="100"/>`+vmVM)
	e.attach(vmNetC, "eth0", vmStatic4("192.0.2.10", "24", ""))
	br := e.index("net_c")
	e.changed(e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetC, "bond1", "") + `</modified_network_attachments></action>`))
	e.gone("eth0.100")
	e.wantBond("bond1", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1")
	e.wantVLAN("bond1.100", "bond1", 100)
	e.wantBridge("net_c", "bond1.100")
	e.sameIndex("net_c", br)
	e.wantAddrs("net_c", "192.0.2.10/24")
	e.wantUp("bond1", "bond1.100", "net_c")
}

// TestVMBondNewSlaveGetsBondMTU: a NIC joining a bond of MTU 2000 gets 2000.
func TestVMBondNewSlaveGetsBondMTU(t *testing.T) {
	e := vmStart(t, 3)
	e.network(vmNetD, "net_d", `<mtu>2000</mtu>`)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetD, "bond1", "") + `</modified_network_attachments></action>`)
	e.wantMTU(2000, "bond1", "eth0", "eth1")
	e.changed(e.setup(vmBondAction("bond1", "", "eth0", "eth1", "eth2")))
	e.wantMTU(2000, "bond1", "eth0", "eth1", "eth2")
}
