package kernel_test

import (
	"fmt"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestMonitorFollowsLinksComingUpInLinearWork guards the monitor against
// the quadratic work a large change used to cost it afterwards: the
// kernel announces the carrier of devices that got it while down (every
// new VLAN) at most a hundred a second (linkwatch), and a monitor that
// dumps every address for each hundred reads n²/100 addresses. The test
// brings up n bridges with a port each, then 4n, fifty links at a time,
// has the monitor follow each fifty, and counts the addresses its dumps
// read: linear grows 4 times, quadratic 16.
func TestMonitorFollowsLinksComingUpInLinearWork(t *testing.T) {
	const n, limit = 100, 7.0
	small := linksUpWork(t, n)
	large := linksUpWork(t, 4*n)
	growth := float64(large) / float64(small)
	t.Logf("addresses read while links came up: %d at N=%d, %d at N=%d (×%.2f)", small, n, large, 4*n, growth)
	if growth > limit {
		t.Errorf("the monitor's address reads grow ×%.2f from N=%d to N=%d: superlinear", growth, n, 4*n)
	}
}

// linksUpWork creates n bridges, each with an address and a veth port
// whose peer is in the same fresh namespace, all down; then it sets them
// up, fifty links at a time, each fifty followed by a Sync, and returns
// the addresses the monitor read meanwhile.
func linksUpWork(t *testing.T, n int) uint64 {
	t.Helper()
	ns := nstest.New(t)
	var links []netlink.Link
	for i := range n {
		br := addBridge(t, ns, i)
		vattrs := netlink.NewLinkAttrs()
		vattrs.Name = fmt.Sprintf("port%04d", i)
		veth := &netlink.Veth{LinkAttrs: vattrs, PeerName: fmt.Sprintf("peer%04d", i)}
		if err := ns.Handle.LinkAdd(veth); err != nil {
			t.Fatalf("creating %s: %v", vattrs.Name, err)
		}
		if err := ns.Handle.LinkSetMaster(veth, br); err != nil {
			t.Fatalf("enslaving %s: %v", vattrs.Name, err)
		}
		peer, err := ns.Handle.LinkByName(veth.PeerName)
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, br, veth, peer)
	}
	m := startMonitor(t, ns)
	before := m.AddrsRead()
	for i, l := range links {
		if err := ns.Handle.LinkSetUp(l); err != nil {
			t.Fatalf("setting %s up: %v", l.Attrs().Name, err)
		}
		if (i+1)%linksPerBatch == 0 || i == len(links)-1 {
			if _, err := m.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := m.State()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if got, ok := st.Link(l.Attrs().Name); !ok || !got.AdminUp {
			t.Fatalf("the monitor's view shows %s not up: %+v", l.Attrs().Name, got)
		}
	}
	return m.AddrsRead() - before
}

// linksPerBatch is how many links come up between two looks of the
// monitor: the kernel's linkwatch announces a hundred devices a look.
const linksPerBatch = 50
