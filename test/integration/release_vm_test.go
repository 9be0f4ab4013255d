//go:build vmtest

package integration

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// A device that leaves a network is released: the four scenarios of VDSM's
// functional tests that hostnetd got wrong (issue 19), on Debian's kernel.

// TestVMBondLeavesBridgeWhenNetworkBecomesTagged: network n1, untagged and
// bridged on bond1, gets VLAN 10 by a network edit. bond1.10 replaces bond1
// in the bridge: bond1 keeps no master, so its untagged traffic is not
// bridged into the VM network. Back to untagged, the VLAN device goes and
// bond1 is the port again.
func TestVMBondLeavesBridgeWhenNetworkBecomesTagged(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "n1", vmVM)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetA, "bond1", "") + `</modified_network_attachments></action>`)
	e.wantBridge("n1", "bond1")

	e.changed(e.must(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, `<network><vlan id="10"/></network>`, http.StatusOK))
	e.wantBridge("n1", "bond1.10")
	e.wantMaster("bond1", "")
	e.wantVLAN("bond1.10", "bond1", 10)
	checkAllInSync(t, e.ag)
	resend := vmAttachAction(vmNetA, "bond1", "")
	if p := dryRun(t, e.ag, resend); len(p.commands) != 0 {
		t.Errorf("re-sending the attachment plans %v; want nothing", p.commands)
	}

	e.changed(e.must(http.MethodPut, "/ovirt-engine/api/networks/"+vmNetA, `<network><vlan/></network>`, http.StatusOK))
	e.wantBridge("n1", "bond1")
	e.gone("bond1.10")
	checkAllInSync(t, e.ag)
	if p := dryRun(t, e.ag, resend); len(p.commands) != 0 {
		t.Errorf("re-sending the attachment plans %v; want nothing", p.commands)
	}
}

// TestVMMoveBridgedNetworkBetweenBonds: a bridged network with MTU 2000
// moves from bond1 to bond2, then to a NIC and back to bond1. Each time the
// old device leaves the bridge and falls back to 1500, and the bridge keeps
// the network's MTU.
func TestVMMoveBridgedNetworkBetweenBonds(t *testing.T) {
	e := vmStart(t, 5)
	e.network(vmNetA, "test-network", vmVM+`<mtu>2000</mtu>`)
	e.setup(`<action><modified_bonds>` + vmBond("bond1", "mode=1 miimon=100", "eth0", "eth1") +
		vmBond("bond2", "mode=1 miimon=100", "eth2", "eth3") + `</modified_bonds>` +
		`<modified_network_attachments>` + vmAttachment(vmNetA, "bond1", "") + `</modified_network_attachments></action>`)
	e.wantBridge("test-network", "bond1")
	e.wantMTU(2000, "test-network", "bond1", "eth0", "eth1")

	id := e.attachmentID(vmNetA)
	move := func(nic string) string {
		return `<action><modified_network_attachments><network_attachment id="` + id + `"><network id="` + vmNetA +
			`"/><host_nic><name>` + nic + `</name></host_nic></network_attachment></modified_network_attachments></action>`
	}
	for _, step := range []struct{ to, from string }{{"bond2", "bond1"}, {"eth4", "bond2"}, {"bond1", "eth4"}} {
		plan := dryRun(t, e.ag, move(step.to))
		if !strings.Contains(strings.Join(plan.commands, "\n"), "ip link set "+step.from+" nomaster") {
			t.Errorf("moving to %s: the plan does not release %s:\n%s", step.to, step.from, strings.Join(plan.commands, "\n"))
		}
		e.changed(e.setup(move(step.to)))
		e.wantBridge("test-network", step.to)
		e.wantMaster(step.from, "")
		e.wantMTU(2000, "test-network", step.to)
		e.wantMTU(1500, step.from)
		e.again(http.MethodPost, e.host("/setupnetworks"), move(step.to), http.StatusOK)
	}
}

// TestVMVLANNetworkOnBondWhoseSlaveCarriesUnmanagedVLAN: an existing bond
// hostnetd never made, one of whose slaves carries a VLAN device hostnetd
// does not manage, cannot take a network: the engine's used-NIC rule runs
// on every bond a change touches, named in the request or not.
func TestVMVLANNetworkOnBondWhoseSlaveCarriesUnmanagedVLAN(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "vlan17", vmVM+`<vlan id="17"/>`)
	e.outOfBandBond("bond_ext01", "eth0", "eth1")
	if err := e.ns.Handle.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "eth0.16", ParentIndex: e.index("eth0")}, VlanId: 16}); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	r := e.must(http.MethodPost, e.host("/setupnetworks"), vmAttachAction(vmNetA, "bond_ext01", ""), http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "NETWORK_INTERFACE_WITH_UNMANAGED_NETWORK_CANNOT_BE_SLAVE") {
		t.Errorf("the fault does not name the used-NIC rule:\n%s", r.Body)
	}
	if after := e.snapshot(); after != before {
		t.Errorf("a refused request changed the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

// TestVMAdoptedBondIsManaged: a network on an existing bond makes the bond
// hostnetd's, as the engine and VDSM treat it: its slaves lose the stray
// addresses they had (in the plan, undone by a rollback), its options can
// be edited, and once the network is gone it can be removed.
func TestVMAdoptedBondIsManaged(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "n1", `<vlan id="100"/>`)
	e.outOfBandBond("bond_ext", "eth0", "eth1")
	mustNL(t, e.ns.Handle.AddrAdd(e.link("eth0"), mustAddr(t, "198.51.100.7/24")))

	attach := vmAttachAction(vmNetA, "bond_ext", vmStatic4("192.0.2.10", "24", ""))
	plan := dryRun(t, e.ag, attach)
	if !strings.Contains(strings.Join(plan.commands, "\n"), "ip addr del 198.51.100.7/24 dev eth0") {
		t.Errorf("the plan does not clear the slave's address:\n%s", strings.Join(plan.commands, "\n"))
	}
	e.changed(e.setup(attach))
	e.wantAddrs("eth0")
	e.wantVLAN("bond_ext.100", "bond_ext", 100)
	e.wantAddrs("bond_ext.100", "192.0.2.10/24")

	e.changed(e.setup(vmBondAction("bond_ext", "mode=1 miimon=250", "eth0", "eth1")))
	if b := e.wantBond("bond_ext", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1"); b.Miimon != 250 {
		t.Errorf("bond_ext miimon = %d; want 250", b.Miimon)
	}

	e.changed(e.setup(`<action><removed_network_attachments><network_attachment id="` + e.attachmentID(vmNetA) +
		`"/></removed_network_attachments><removed_bonds><host_nic><name>bond_ext</name></host_nic></removed_bonds></action>`))
	e.gone("bond_ext", "bond_ext.100")
	e.wantMaster("eth0", "")
	e.wantMaster("eth1", "")
}

// TestVMAdoptionRollsBack: a failure while adopting a bond gives its slave
// back the address the adoption took away.
func TestVMAdoptionRollsBack(t *testing.T) {
	var steps atomic.Int64
	e := vmStartWith(t, 2, func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, s netconf.Step) bool {
			return s.Op == netconf.OpSetUp && s.Link == "bond_ext.100" && steps.Add(1) == 1
		})
	})
	e.network(vmNetA, "n1", `<vlan id="100"/>`)
	e.outOfBandBond("bond_ext", "eth0", "eth1")
	mustNL(t, e.ns.Handle.AddrAdd(e.link("eth0"), mustAddr(t, "198.51.100.7/24")))
	before := e.snapshot()
	r := e.must(http.MethodPost, e.host("/setupnetworks"), vmAttachAction(vmNetA, "bond_ext", vmStatic4("192.0.2.10", "24", "")), http.StatusBadRequest)
	if !strings.Contains(string(r.Body), "FAILED_IFUP") {
		t.Errorf("the fault is not FAILED_IFUP:\n%s", r.Body)
	}
	if after := e.snapshot(); after != before {
		t.Errorf("the rollback did not restore the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
	e.wantAddrs("eth0", "198.51.100.7/24")
}

// TestVMBondRollbackKeepsItsMAC: a bond keeps the MAC of a first slave
// that left it. A mode change releases its slaves,
// and a bond that loses its last slave takes a random MAC, then its next
// first slave's. A failure after that rolls back the MAC too, the bond's
// and, in 802.3ad, its slaves' (found by the model test, seed
// 1796597912365579580).
func TestVMBondRollbackKeepsItsMAC(t *testing.T) {
	var failing atomic.Bool
	e := vmStartWith(t, 3, func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, s netconf.Step) bool {
			return failing.Load() && s.Op == netconf.OpSetUp && s.Link == "bond0"
		})
	})
	e.setup(vmBondAction("bond0", "mode=4 miimon=100", "eth0", "eth1"))
	// eth0 leaves; the bond keeps its MAC.
	e.setup(vmBondAction("bond0", "mode=4 miimon=100", "eth1", "eth2"))
	before := e.snapshot()
	failing.Store(true)
	e.must(http.MethodPost, e.host("/setupnetworks"), vmBondAction("bond0", "mode=2 miimon=100", "eth1", "eth2"), http.StatusBadRequest)
	if after := e.snapshot(); after != before {
		t.Errorf("the rollback did not restore the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

// vmStartWith is vmStart with the agent's options set by opts (test hooks).
func vmStartWith(t *testing.T, n int, opts func(*agent.Options)) *vmEnv {
	t.Helper()
	e := &vmEnv{t: t, ns: nstest.New(t), peer: nstest.New(t)}
	for i := range n {
		nstest.Veth(t, e.ns, "eth"+strconv.Itoa(i), e.peer, "p"+strconv.Itoa(i))
	}
	e.ag = agenttest.StartWith(t, e.ns, t.TempDir(), opts)
	return e
}

// outOfBandBond makes an active-backup bond of the NICs behind hostnetd's
// back, as an installer or an administrator would have.
func (e *vmEnv) outOfBandBond(name string, slaves ...string) {
	e.t.Helper()
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	b := netlink.NewLinkBond(attrs)
	b.Mode = netlink.BOND_MODE_ACTIVE_BACKUP
	b.Miimon = 100
	mustNL(e.t, e.ns.Handle.LinkAdd(b))
	for _, s := range slaves {
		mustNL(e.t, e.ns.Handle.LinkSetDown(e.link(s)))
		mustNL(e.t, e.ns.Handle.LinkSetMaster(e.link(s), e.link(name)))
	}
	mustNL(e.t, e.ns.Handle.LinkSetUp(e.link(name)))
}
