//go:build vmtest

package kernel_test

import (
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	hkernel "github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// Pitfalls this suite works around (test/vm/README.md, kernel-testing.md §3):
//   - Bonds are built with netlink.NewLinkBond, whose options are all -1 ("not
//     sent"). A zero netlink.Bond sends mode 0 and every option.
//   - Enslaving an up NIC fails with EPERM: set it down in one request, then
//     LinkSetMaster alone. The bond brings the slave up itself.
//   - A bond's mode cannot change while it has slaves (ENOTEMPTY) or is up
//     (EBUSY), so these tests delete a bond and create the next one instead.
//   - Everything goes through the namespace's own handle: package-level
//     netlink functions act on the calling thread's namespace.

const vmHint = "run this suite in the VM (make test-vm)"

// nicMaker creates two up NICs, nic0 and nic1, in ns and returns their names.
type nicMaker func(t *testing.T, ns *hkernel.Namespace) []string

// vethNICs makes the NICs veth pairs whose peers sit in a second namespace,
// which stands in for the switch and gives the NICs carrier.
func vethNICs(t *testing.T, ns *hkernel.Namespace) []string {
	t.Helper()
	sw := nstest.New(t)
	nstest.Veth(t, ns, "nic0", sw, "sw0")
	nstest.Veth(t, ns, "nic1", sw, "sw1")
	return []string{"nic0", "nic1"}
}

// dummyNICs makes the NICs dummy devices, which always have carrier.
func dummyNICs(t *testing.T, ns *hkernel.Namespace) []string {
	t.Helper()
	names := []string{"nic0", "nic1"}
	for _, name := range names {
		addLink(t, ns, &netlink.Dummy{LinkAttrs: linkAttrs(name)}, "dummy")
		nstest.SetUp(t, ns, name)
	}
	return names
}

func linkAttrs(name string) netlink.LinkAttrs {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	return attrs
}

// addLink creates link in ns. A kernel without support for the link kind
// answers EOPNOTSUPP; that fails the test with a hint, never skips it.
func addLink(t *testing.T, ns *hkernel.Namespace, link netlink.Link, feature string) {
	t.Helper()
	if err := ns.Handle.LinkAdd(link); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) {
			t.Fatalf("%s support missing: %s (adding %s %q: %v)", feature, vmHint, link.Type(), link.Attrs().Name, err)
		}
		t.Fatalf("adding %s %q: %v", link.Type(), link.Attrs().Name, err)
	}
}

// bondSpec is a bond configuration: want holds the options to set and, read
// back, to expect; options left at -1 are neither sent nor checked.
type bondSpec struct {
	name string
	want func() *netlink.Bond
}

var (
	activeBackup = bondSpec{"active-backup", func() *netlink.Bond {
		b := netlink.NewLinkBond(linkAttrs("bond0"))
		b.Mode = netlink.BOND_MODE_ACTIVE_BACKUP
		b.Miimon = 100
		return b
	}}
	lacp = bondSpec{"802.3ad", func() *netlink.Bond {
		b := netlink.NewLinkBond(linkAttrs("bond0"))
		b.Mode = netlink.BOND_MODE_802_3AD
		b.Miimon = 100
		b.LacpRate = netlink.BOND_LACP_RATE_FAST
		b.XmitHashPolicy = netlink.BOND_XMIT_HASH_POLICY_LAYER3_4
		return b
	}}
)

// createBond creates the bond of spec over nics, enslaves them and sets the
// bond up. It returns the options it asked for.
func createBond(t *testing.T, ns *hkernel.Namespace, spec bondSpec, nics []string) *netlink.Bond {
	t.Helper()
	want := spec.want()
	addLink(t, ns, want, "bond")
	bond := nstest.Link(t, ns, want.Name)
	for _, name := range nics {
		nic := nstest.Link(t, ns, name)
		// An up NIC cannot be enslaved (EPERM); and a down flag in the same
		// request as IFLA_MASTER would leave the slave down.
		if err := ns.Handle.LinkSetDown(nic); err != nil {
			t.Fatalf("setting %s down: %v", name, err)
		}
		if err := ns.Handle.LinkSetMaster(nic, bond); err != nil {
			t.Fatalf("enslaving %s to %s: %v", name, want.Name, err)
		}
	}
	nstest.SetUp(t, ns, want.Name)
	return want
}

func readBond(t *testing.T, ns *hkernel.Namespace, name string) *netlink.Bond {
	t.Helper()
	link := nstest.Link(t, ns, name)
	bond, ok := link.(*netlink.Bond)
	if !ok {
		t.Fatalf("%s is a %q (%T); want a bond", name, link.Type(), link)
	}
	return bond
}

// checkBondOptions compares the options of want that are not -1.
func checkBondOptions(t *testing.T, got, want *netlink.Bond) {
	t.Helper()
	if got.Mode != want.Mode {
		t.Errorf("%s mode = %v; want %v", got.Name, got.Mode, want.Mode)
	}
	if want.Miimon >= 0 && got.Miimon != want.Miimon {
		t.Errorf("%s miimon = %d; want %d", got.Name, got.Miimon, want.Miimon)
	}
	if want.LacpRate >= 0 && got.LacpRate != want.LacpRate {
		t.Errorf("%s lacp_rate = %v; want %v", got.Name, got.LacpRate, want.LacpRate)
	}
	if want.XmitHashPolicy >= 0 && got.XmitHashPolicy != want.XmitHashPolicy {
		t.Errorf("%s xmit_hash_policy = %v; want %v", got.Name, got.XmitHashPolicy, want.XmitHashPolicy)
	}
}

// portsOf returns the sorted names of the links whose master is index.
func portsOf(t *testing.T, ns *hkernel.Namespace, index int) []string {
	t.Helper()
	links, err := ns.Handle.LinkList()
	if err != nil {
		t.Fatalf("listing links in %s: %v", ns.Name, err)
	}
	var names []string
	for _, l := range links {
		if l.Attrs().MasterIndex == index {
			names = append(names, l.Attrs().Name)
		}
	}
	slices.Sort(names)
	return names
}

// checkBond reads the bond back: options, slaves and the slaves' state.
func checkBond(t *testing.T, ns *hkernel.Namespace, want *netlink.Bond, nics []string) {
	t.Helper()
	got := readBond(t, ns, want.Name)
	checkBondOptions(t, got, want)
	if ports := portsOf(t, ns, got.Index); !slices.Equal(ports, nics) {
		t.Errorf("%s slaves = %v; want %v", want.Name, ports, nics)
	}
	for _, name := range nics {
		nic := nstest.Link(t, ns, name)
		if _, ok := nic.Attrs().Slave.(*netlink.BondSlave); !ok {
			t.Errorf("%s has no bond slave info (%T)", name, nic.Attrs().Slave)
		}
		if nic.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("%s is down; the bond should have set it up", name)
		}
	}
}

// deleteBond deletes the bond and checks that its slaves were released.
func deleteBond(t *testing.T, ns *hkernel.Namespace, name string, nics []string) {
	t.Helper()
	if err := ns.Handle.LinkDel(nstest.Link(t, ns, name)); err != nil {
		t.Fatalf("deleting %s: %v", name, err)
	}
	if _, err := ns.Handle.LinkByName(name); err == nil {
		t.Errorf("%s still exists after deletion", name)
	}
	for _, nicName := range nics {
		nic := nstest.Link(t, ns, nicName)
		if nic.Attrs().MasterIndex != 0 || nic.Attrs().Slave != nil {
			t.Errorf("%s still enslaved (master %d) after %s was deleted", nicName, nic.Attrs().MasterIndex, name)
		}
	}
}

// eventually polls cond every 100 ms until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkActiveSlave waits for an active-backup bond to pick one of nics.
func checkActiveSlave(t *testing.T, ns *hkernel.Namespace, name string, nics []string) {
	t.Helper()
	var active int
	ok := eventually(2*time.Minute, func() bool {
		active = readBond(t, ns, name).ActiveSlave
		return active > 0
	})
	if !ok {
		t.Fatalf("%s selected no active slave within 10 s", name)
	}
	var activeName string
	for _, nicName := range nics {
		if nstest.Link(t, ns, nicName).Attrs().Index == active {
			activeName = nicName
		}
	}
	if activeName == "" {
		t.Errorf("%s active slave index %d is none of %v", name, active, nics)
	}
}

func testBond(t *testing.T, makeNICs nicMaker, spec bondSpec) {
	ns := nstest.New(t)
	nics := makeNICs(t, ns)
	want := createBond(t, ns, spec, nics)
	checkBond(t, ns, want, nics)
	if want.Mode == netlink.BOND_MODE_ACTIVE_BACKUP {
		checkActiveSlave(t, ns, want.Name, nics)
	}
	deleteBond(t, ns, want.Name, nics)
}

func TestBondActiveBackupOverVeth(t *testing.T)  { testBond(t, vethNICs, activeBackup) }
func TestBondActiveBackupOverDummy(t *testing.T) { testBond(t, dummyNICs, activeBackup) }
func TestBond8023adOverVeth(t *testing.T)        { testBond(t, vethNICs, lacp) }
func TestBond8023adOverDummy(t *testing.T)       { testBond(t, dummyNICs, lacp) }

// testBondRecreate builds an active-backup bond, tears it down and builds an
// 802.3ad bond over the same NICs, as a mode change must do in practice.
func testBondRecreate(t *testing.T, makeNICs nicMaker) {
	ns := nstest.New(t)
	nics := makeNICs(t, ns)
	for _, spec := range []bondSpec{activeBackup, lacp} {
		t.Run(spec.name, func(t *testing.T) {
			want := createBond(t, ns, spec, nics)
			checkBond(t, ns, want, nics)
			deleteBond(t, ns, want.Name, nics)
		})
	}
}

func TestBondRecreateOverVeth(t *testing.T)  { testBondRecreate(t, vethNICs) }
func TestBondRecreateOverDummy(t *testing.T) { testBondRecreate(t, dummyNICs) }

// testVlanBridgeOnBond builds nic0+nic1 -> bond0 (802.3ad) -> bond0.100 ->
// br100, with the VLAN as a bridge port, and reads every layer back.
func testVlanBridgeOnBond(t *testing.T, makeNICs nicMaker) {
	ns := nstest.New(t)
	nics := makeNICs(t, ns)
	wantBond := createBond(t, ns, lacp, nics)
	bond := nstest.Link(t, ns, wantBond.Name)

	vattrs := linkAttrs("bond0.100")
	vattrs.ParentIndex = bond.Attrs().Index
	addLink(t, ns, &netlink.Vlan{LinkAttrs: vattrs, VlanId: 100, VlanProtocol: netlink.VLAN_PROTOCOL_8021Q}, "vlan (802.1q)")
	addLink(t, ns, &netlink.Bridge{LinkAttrs: linkAttrs("br100")}, "bridge")
	br := nstest.Link(t, ns, "br100")
	vlan := nstest.Link(t, ns, "bond0.100")
	if err := ns.Handle.LinkSetMaster(vlan, br); err != nil {
		t.Fatalf("adding bond0.100 to br100: %v", err)
	}
	nstest.SetUp(t, ns, "bond0.100")
	nstest.SetUp(t, ns, "br100")

	gotVlan, ok := nstest.Link(t, ns, "bond0.100").(*netlink.Vlan)
	if !ok {
		t.Fatalf("bond0.100 is a %q; want a vlan", nstest.Link(t, ns, "bond0.100").Type())
	}
	if gotVlan.VlanId != 100 {
		t.Errorf("bond0.100 vlan id = %d; want 100", gotVlan.VlanId)
	}
	if gotVlan.VlanProtocol != netlink.VLAN_PROTOCOL_8021Q {
		t.Errorf("bond0.100 protocol = %v; want 802.1Q", gotVlan.VlanProtocol)
	}
	if gotVlan.ParentIndex != bond.Attrs().Index {
		t.Errorf("bond0.100 parent index = %d; want bond0's %d", gotVlan.ParentIndex, bond.Attrs().Index)
	}
	if gotVlan.MasterIndex != br.Attrs().Index {
		t.Errorf("bond0.100 master index = %d; want br100's %d", gotVlan.MasterIndex, br.Attrs().Index)
	}
	if gotVlan.HardwareAddr.String() != bond.Attrs().HardwareAddr.String() {
		t.Errorf("bond0.100 MAC = %s; want bond0's %s", gotVlan.HardwareAddr, bond.Attrs().HardwareAddr)
	}
	if gotBr := nstest.Link(t, ns, "br100"); gotBr.Type() != "bridge" {
		t.Errorf("br100 type = %q; want bridge", gotBr.Type())
	}
	if ports := portsOf(t, ns, br.Attrs().Index); !slices.Equal(ports, []string{"bond0.100"}) {
		t.Errorf("br100 ports = %v; want [bond0.100]", ports)
	}
	if m := nstest.Link(t, ns, "bond0").Attrs().MasterIndex; m != 0 {
		t.Errorf("bond0 has master %d; only its VLAN should be bridged", m)
	}
	// The bond keeps its options and slaves under the VLAN.
	checkBond(t, ns, wantBond, nics)

	// Deleting the bond takes its VLAN with it and leaves an empty bridge.
	deleteBond(t, ns, wantBond.Name, nics)
	if _, err := ns.Handle.LinkByName("bond0.100"); err == nil {
		t.Errorf("bond0.100 survived the deletion of bond0")
	}
	if ports := portsOf(t, ns, br.Attrs().Index); len(ports) != 0 {
		t.Errorf("br100 ports after deleting bond0 = %v; want none", ports)
	}
}

func TestVlanBridgeOnBondOverVeth(t *testing.T)  { testVlanBridgeOnBond(t, vethNICs) }
func TestVlanBridgeOnBondOverDummy(t *testing.T) { testVlanBridgeOnBond(t, dummyNICs) }

// LACP actor/partner port state bits (IEEE 802.1AX).
const lacpInSync = 0x08 | 0x10 | 0x20 // synchronization, collecting, distributing

// TestBond8023adNegotiatesOverVeth puts an 802.3ad bond on both ends of the
// veth pairs and waits for LACP to aggregate both ports with the peer.
// netlink v1.3.1 does not parse IFLA_BOND_AD_INFO (Bond.AdInfo stays nil), so
// the aggregation is read from the slaves' LACP state and the partner MAC from
// /proc/net/bonding, read on a thread inside the namespace.
func TestBond8023adNegotiatesOverVeth(t *testing.T) {
	ns := nstest.New(t)
	sw := nstest.New(t)
	nstest.Veth(t, ns, "nic0", sw, "sw0")
	nstest.Veth(t, ns, "nic1", sw, "sw1")
	nics := []string{"nic0", "nic1"}
	createBond(t, ns, lacp, nics)
	peer := createBond(t, sw, lacp, []string{"sw0", "sw1"})
	peerMAC := nstest.Link(t, sw, peer.Name).Attrs().HardwareAddr

	var states []netlink.BondSlave
	aggregated := func() bool {
		states = states[:0]
		for _, name := range nics {
			slave, _ := nstest.Link(t, ns, name).Attrs().Slave.(*netlink.BondSlave)
			if slave == nil {
				return false
			}
			states = append(states, *slave)
		}
		for _, s := range states {
			if s.AggregatorId == 0 || s.AggregatorId != states[0].AggregatorId ||
				s.AdActorOperPortState&lacpInSync != lacpInSync ||
				s.AdPartnerOperPortState&lacpInSync != lacpInSync {
				return false
			}
		}
		return true
	}
	if !eventually(30*time.Second, aggregated) {
		t.Fatalf("bond0 did not aggregate nic0 and nic1 with the peer within 30 s; slave states %+v", states)
	}

	var status []byte
	if err := ns.Do(func() (err error) {
		status, err = os.ReadFile("/proc/thread-self/net/bonding/bond0")
		return err
	}); err != nil {
		t.Fatalf("reading bond0 status: %v", err)
	}
	if want := "Partner Mac Address: " + peerMAC.String(); !strings.Contains(string(status), want) {
		t.Errorf("/proc/net/bonding/bond0 lacks %q:\n%s", want, status)
	}
}

// TestBondKernelRules pins the kernel behaviour hostnetd's planner relies on.
func TestBondKernelRules(t *testing.T) {
	tests := []struct {
		name string
		// run does the forbidden operation on bond0 (active-backup, up,
		// enslaving nic0 unless noSlave) and returns its error.
		run     func(t *testing.T, ns *hkernel.Namespace) error
		noSlave bool
		want    unix.Errno
	}{
		{
			name:    "enslaving an up NIC",
			noSlave: true,
			run: func(t *testing.T, ns *hkernel.Namespace) error {
				nic := nstest.SetUp(t, ns, "nic1")
				return ns.Handle.LinkSetMaster(nic, nstest.Link(t, ns, "bond0"))
			},
			want: unix.EPERM,
		},
		{
			name: "changing the mode with slaves",
			run: func(t *testing.T, ns *hkernel.Namespace) error {
				if err := ns.Handle.LinkSetDown(nstest.Link(t, ns, "bond0")); err != nil {
					t.Fatalf("setting bond0 down: %v", err)
				}
				return ns.Handle.LinkModify(modeChange(t, ns))
			},
			want: unix.ENOTEMPTY,
		},
		{
			name:    "changing the mode while up",
			noSlave: true,
			run: func(t *testing.T, ns *hkernel.Namespace) error {
				return ns.Handle.LinkModify(modeChange(t, ns))
			},
			want: unix.EBUSY,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := nstest.New(t)
			nics := vethNICs(t, ns)
			slaves := nics[:1]
			if tt.noSlave {
				slaves = nil
			}
			createBond(t, ns, activeBackup, slaves)
			err := tt.run(t, ns)
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v; want %v (%s)", err, tt.want, tt.want.Error())
			}
		})
	}
}

// modeChange is a request that changes only bond0's mode, to balance-xor.
func modeChange(t *testing.T, ns *hkernel.Namespace) *netlink.Bond {
	attrs := linkAttrs("bond0")
	attrs.Index = nstest.Link(t, ns, "bond0").Attrs().Index
	b := netlink.NewLinkBond(attrs)
	b.Mode = netlink.BOND_MODE_BALANCE_XOR
	return b
}
