package kernel_test

import (
	"runtime"
	"testing"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestMonitorHoldsNoDumpBuffers guards the memory the monitor holds per
// device: its view of bridges with an address each, and the model built
// from it, measured as the growth from n to 4n bridges so that the fixed
// part (the receive buffers) cancels out. The netlink library decodes MACs
// and addresses as slices of the message they came in; kept as decoded,
// every link held its whole message and every address its dump's receive
// buffer: 4.1 KB per bridge, 2.5 KB once detached (detach_linux.go).
func TestMonitorHoldsNoDumpBuffers(t *testing.T) {
	const n, limit = 100, 3200
	small, large := monitorHeld(t, n), monitorHeld(t, 4*n)
	perDevice := (large - small) / (3 * n)
	t.Logf("the monitor holds %d bytes more per bridge with an address (%d B at N=%d, %d B at N=%d)", perDevice, small, n, large, 4*n)
	if perDevice > limit {
		t.Errorf("the monitor holds %d bytes per bridge with an address; want at most %d", perDevice, limit)
	}
}

// monitorHeld is the heap a monitor of n bridges holds once its view is
// built.
func monitorHeld(t *testing.T, n int) int64 {
	ns := nstest.New(t)
	addBridges(t, ns, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := startMonitor(t, ns)
	st, err := m.State()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := len(st.Links); got != n+1 {
		t.Fatalf("the monitor's view has %d links; want %d", got, n+1)
	}
	runtime.KeepAlive(m)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
