//go:build vmtest

package integration

import (
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestVMLLDPOverBondSlaves: with eth0 and eth1 enslaved to a bond,
// hostnetd still reports the neighbour of each slave, active and backup
// (the bond passes link-local frames to its slaves' sockets), and keeps
// listening across a change of mode, which releases and re-enslaves them.
func TestVMLLDPOverBondSlaves(t *testing.T) {
	e := vmStart(t, 2)
	e.setup(vmBondAction("bond1", "mode=1 miimon=100", "eth0", "eth1"))
	e.wantBond("bond1", netlink.BOND_MODE_ACTIVE_BACKUP, "eth0", "eth1")
	sw := startLLDPD(t, e.peer, "switch-vm", "VM switch", "192.0.2.9", "p0", "p1")
	for i, nic := range []string{"eth0", "eth1"} {
		peer := nstest.Link(t, e.peer, []string{"p0", "p1"}[i]).Attrs().HardwareAddr.String()
		waitLLDP(t, e.ag, nic, 60*time.Second, "the neighbour of slave "+nic, func(els map[string][]string) bool {
			return hasProp(els, "System Name type=5", "system name=switch-vm") && hasProp(els, "Port ID type=2", peer)
		})
	}
	if els := lldpElements(t, e.ag, "bond1"); len(els) != 0 {
		t.Errorf("the bond itself has LLDP elements: %v", els)
	}

	e.setup(vmBondAction("bond1", "mode=4 miimon=100", "eth0", "eth1"))
	e.wantBond("bond1", netlink.BOND_MODE_802_3AD, "eth0", "eth1")
	sw.cli(t, "configure", "system", "hostname", "switch-vm2")
	for _, nic := range []string{"eth0", "eth1"} {
		waitLLDP(t, e.ag, nic, 60*time.Second, "the renamed neighbour of "+nic+" in 802.3ad", func(els map[string][]string) bool {
			return hasProp(els, "System Name type=5", "system name=switch-vm2")
		})
	}
	waitEventWithin(t, e.ag, "LLDP_NEIGHBOR_CHANGED", "on eth1 changed: system name", 10*time.Second)
}
