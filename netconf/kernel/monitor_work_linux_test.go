package kernel_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestMonitorWorkIsLinear guards the monitor against quadratic work by
// counting it, never by timing it: it follows the creation of n bridges
// with an address each, then of 4n, and the work of bringing its view up
// to date (reading the notifications, re-dumping what they made stale,
// converting the view) may grow at most 5 times; linear is 4, quadratic
// 16. The number of dumps may not grow at all: notifications are patched
// in, not answered with a dump each.
func TestMonitorWorkIsLinear(t *testing.T) {
	const n, limit = 100, 5.0
	small, smallDumps := monitorWork(t, n)
	large, largeDumps := monitorWork(t, 4*n)
	growth := float64(large) / float64(small)
	t.Logf("monitor allocations: %d at N=%d, %d at N=%d (×%.2f); dumps %d and %d", small, n, large, 4*n, growth, smallDumps, largeDumps)
	if growth > limit {
		t.Errorf("the monitor's allocations grow ×%.2f from N=%d to N=%d: superlinear", growth, n, 4*n)
	}
	if largeDumps > smallDumps {
		t.Errorf("the monitor dumped %d times after %d bridges, %d times after %d", largeDumps, 4*n, smallDumps, n)
	}
}

// monitorWork creates n bridges with an address each in a fresh namespace
// whose monitor is paused (as during a transaction), then counts the heap
// allocations and dumps of one Sync and one State.
func monitorWork(t *testing.T, n int) (allocs, dumps uint64) {
	t.Helper()
	ns := nstest.New(t)
	m := startMonitor(t, ns)
	m.Pause()
	addBridges(t, ns, n)
	var before, after runtime.MemStats
	dumps0 := m.Dumps()
	runtime.ReadMemStats(&before)
	if _, err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	st, err := m.State()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(st.Links); got != n+1 {
		t.Fatalf("the monitor's view has %d links after %d bridges; want %d", got, n, n+1)
	}
	return after.Mallocs - before.Mallocs, m.Dumps() - dumps0
}

// startMonitor follows ns until the test ends.
func startMonitor(t *testing.T, ns *kernel.Namespace) *kernel.Monitor {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := kernel.StartMonitor(ctx, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-m.Done() })
	return m
}

// addBridges creates n bridges, up, with an address each.
func addBridges(t *testing.T, ns *kernel.Namespace, n int) {
	t.Helper()
	for i := range n {
		br := addBridge(t, ns, i)
		if err := ns.Handle.LinkSetUp(br); err != nil {
			t.Fatalf("setting %s up: %v", br.Name, err)
		}
	}
}

// addBridge creates the i-th bridge, down, with its address.
func addBridge(t *testing.T, ns *kernel.Namespace, i int) *netlink.Bridge {
	t.Helper()
	attrs := netlink.NewLinkAttrs()
	attrs.Name = fmt.Sprintf("net%04d", i)
	br := &netlink.Bridge{LinkAttrs: attrs}
	if err := ns.Handle.LinkAdd(br); err != nil {
		t.Fatalf("creating %s: %v", attrs.Name, err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, byte(100+i/256), byte(i%256), 1), Mask: net.CIDRMask(24, 32)}}
	if err := ns.Handle.AddrAdd(br, addr); err != nil {
		t.Fatalf("addressing %s: %v", attrs.Name, err)
	}
	return br
}
