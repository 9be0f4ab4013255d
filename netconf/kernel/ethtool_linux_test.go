package kernel_test

import (
	"context"
	"os"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// ethtool_opts steps, applied in a namespace, are read back as written:
// offload groups resolve to the features veth lets change.
func TestEthtoolOffloadsOnVeth(t *testing.T) {
	ns, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, ns, "eth0", peer, "p0")
	read := func() *netconf.EthtoolState {
		t.Helper()
		m, err := kernel.ReadEthtool(ns, []string{"eth0", "nonexistent"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m["nonexistent"]; ok {
			t.Fatal("a missing device was read")
		}
		return m["eth0"]
	}
	es := read()
	t.Logf("tso %s gro %s tx %s ring %v max %v coalesce %v pause %v", es.FeatureValue("tso"), es.FeatureValue("gro"), es.FeatureValue("tx"), es.Ring, es.RingMax, es.Coalesce != nil, es.Pause)
	for _, k := range []string{"tso", "gro", "tx"} {
		if len(es.FeatureMembers(k)) == 0 {
			t.Fatalf("veth cannot change %s", k)
		}
	}
	want := &netconf.EthtoolSettings{Features: map[string]bool{"tso": es.FeatureValue("tso") != "on", "gro": es.FeatureValue("gro") != "on"}}
	plan := netconf.Plan{{Op: netconf.OpEthtoolFeatures, Link: "eth0", Ethtool: want}}
	if n, err := kernel.Apply(context.Background(), ns, plan); err != nil || n != 1 {
		t.Fatalf("Apply = %d, %v", n, err)
	}
	if ch := netconf.EthtoolChanges(want, read()); ch != nil {
		t.Errorf("after apply, still to change: %+v", ch)
	}
}

// Coalescing goes through the same read-modify-write as rings and pause;
// tun devices have one coalescing parameter (rx-frames, their batching).
func TestEthtoolCoalescingOnTap(t *testing.T) {
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("this kernel has no tun device (the VM loads no tun module)")
	}
	ns := nstest.New(t)
	err := ns.Do(func() error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "tap0"
		tap := &netlink.Tuntap{LinkAttrs: attrs, Mode: netlink.TUNTAP_MODE_TAP}
		if err := netlink.LinkAdd(tap); err != nil {
			return err
		}
		for _, f := range tap.Fds {
			f.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func() *netconf.EthtoolState {
		t.Helper()
		m, err := kernel.ReadEthtool(ns, []string{"tap0"})
		if err != nil || m["tap0"] == nil {
			t.Fatalf("reading tap0: %v", err)
		}
		return m["tap0"]
	}
	es := read()
	if es.Coalesce == nil {
		t.Fatal("tap0 reports no coalescing")
	}
	want := &netconf.EthtoolSettings{Coalesce: map[string]uint32{"rx-frames": 16}}
	if err := netconf.CheckEthtoolSupport("tap0", want, es); err != nil {
		t.Fatal(err)
	}
	step := netconf.Step{Op: netconf.OpEthtoolCoalesce, Link: "tap0", Ethtool: want}
	if step.String() != "ethtool -C tap0 rx-frames 16" {
		t.Errorf("step %q", step)
	}
	if n, err := kernel.Apply(context.Background(), ns, netconf.Plan{step}); err != nil || n != 1 {
		t.Fatalf("Apply = %d, %v", n, err)
	}
	if got := read().Coalesce["rx-frames"]; got != 16 {
		t.Errorf("rx-frames = %d after ethtool -C; want 16", got)
	}
	if ch := netconf.EthtoolChanges(want, read()); ch != nil {
		t.Errorf("still to change: %+v", ch)
	}
}
