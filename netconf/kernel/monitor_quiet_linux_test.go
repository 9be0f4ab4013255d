package kernel_test

import (
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestQuietMonitorHearsNothingUntilResync: a quiet monitor gets no
// notification of a change (its view stays as it was, and a Sync reads
// nothing), Resync sees the change by its dump, and from then on the
// monitor follows changes by their notifications again.
func TestQuietMonitorHearsNothingUntilResync(t *testing.T) {
	ns := nstest.New(t)
	m := startMonitor(t, ns)
	addBridge := func(name string) {
		t.Helper()
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		if err := ns.Handle.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
	}
	m.Pause()
	m.Quiet()
	addBridge("br-quiet")
	if changed, err := m.Sync(); err != nil || changed {
		t.Fatalf("Sync while quiet: changed %v, %v; want nothing heard", changed, err)
	}
	st, err := m.State()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Link("br-quiet"); ok {
		t.Fatal("a quiet monitor heard of br-quiet")
	}
	st, err = m.Resync()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Link("br-quiet"); !ok {
		t.Fatal("Resync's dump has no br-quiet")
	}
	if err := m.Resume(false); err != nil {
		t.Fatal(err)
	}
	// Joined again: the next change is notified, so Sync sees it without
	// a full dump (a link notification has only the addresses and routes
	// dumped again: 2 of the 4 tables).
	dumps := m.Dumps()
	addBridge("br-heard")
	// The monitor's own loop runs again and may have applied the
	// notification before this Sync: either way it is in the view after.
	if _, err := m.Sync(); err != nil {
		t.Fatalf("Sync after Resync: %v", err)
	}
	if st, err = m.State(); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Link("br-heard"); !ok {
		t.Fatal("after Resync the monitor did not hear of br-heard")
	}
	if d := m.Dumps() - dumps; d >= 4 {
		t.Errorf("the monitor dumped %d tables to see br-heard; want its notification, not a full dump", d)
	}
}
