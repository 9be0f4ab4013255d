package kernel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// bridges creates n bridges br0..br(n-1), each with a veth port, and
// returns the plan that deletes them.
func bridges(t *testing.T, ns *kernel.Namespace, n int) netconf.Plan {
	t.Helper()
	var plan netconf.Plan
	for i := range n {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = fmt.Sprintf("br%d", i)
		if err := ns.Handle.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil {
			t.Fatal(err)
		}
		port := netlink.NewLinkAttrs()
		port.Name, port.MasterIndex = fmt.Sprintf("v%d", i), nstest.Link(t, ns, attrs.Name).Attrs().Index
		if err := ns.Handle.LinkAdd(&netlink.Veth{LinkAttrs: port, PeerName: fmt.Sprintf("w%d", i)}); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, netconf.Step{Op: netconf.OpLinkDel, Link: attrs.Name})
	}
	return plan
}

func groupOf(t *testing.T, ns *kernel.Namespace, name string) uint32 {
	t.Helper()
	return nstest.Link(t, ns, name).Attrs().Group
}

// A run of deletions is made as one group deletion: the devices go, and
// devices outside the run stay, whatever their group.
func TestApplyDeletesARunOfDevicesTogether(t *testing.T) {
	ns := nstest.New(t)
	plan := bridges(t, ns, 12)
	if err := ns.Handle.LinkSetGroup(nstest.Link(t, ns, "v0"), 7); err != nil {
		t.Fatal(err)
	}
	if n, err := kernel.Apply(context.Background(), ns, plan); err != nil || n != len(plan) {
		t.Fatalf("Apply = %d, %v; want %d, nil", n, err, len(plan))
	}
	for _, s := range plan {
		if _, err := ns.Handle.LinkByName(s.Link); err == nil {
			t.Errorf("%s is still there", s.Link)
		}
	}
	if g := groupOf(t, ns, "v0"); g != 7 {
		t.Errorf("group of v0 = %d; want 7, untouched", g)
	}
	if g := groupOf(t, ns, "v1"); g != 0 {
		t.Errorf("group of v1 = %d; want 0, untouched", g)
	}
}

// When the kernel refuses the group deletion (lo cannot be deleted), no
// device of the run is deleted, each keeps its group, and the error names
// the run's first step.
func TestApplyGroupDeletionFailureLeavesTheDevices(t *testing.T) {
	ns := nstest.New(t)
	plan := bridges(t, ns, 9)
	if err := ns.Handle.LinkSetGroup(nstest.Link(t, ns, "br3"), 5); err != nil {
		t.Fatal(err)
	}
	plan = append(plan, netconf.Step{Op: netconf.OpLinkDel, Link: "lo"})
	n, err := kernel.Apply(context.Background(), ns, plan)
	var ae *kernel.ApplyError
	if !errors.As(err, &ae) || n != 0 || ae.Step.Link != "br0" {
		t.Fatalf("Apply = %d, %v; want 0 and an ApplyError at br0", n, err)
	}
	for i := range 9 {
		name := fmt.Sprintf("br%d", i)
		want := uint32(0)
		if i == 3 {
			want = 5
		}
		if g := groupOf(t, ns, name); g != want {
			t.Errorf("group of %s = %d; want %d", name, g, want)
		}
	}
	if g := groupOf(t, ns, "lo"); g != 0 {
		t.Errorf("group of lo = %d; want 0", g)
	}
}
