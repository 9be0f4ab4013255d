package kernel_test

import (
	"maps"
	"os"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// ReadState takes the IPv6 settings and the bridge options from its link
// dump; they must be what /proc/sys and a per-bridge RTM_GETLINK say.
func TestReadStateCarriesIPv6SettingsAndBridgeOptions(t *testing.T) {
	ns, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, ns, "eth0", peer, "p0")
	nstest.Veth(t, ns, "eth1", peer, "p1")
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "br0"
	hello, mask := uint32(300), uint16(8)
	if err := ns.Handle.LinkAdd(&netlink.Bridge{LinkAttrs: attrs, HelloTime: &hello, GroupFwdMask: &mask}); err != nil {
		t.Fatal(err)
	}
	small := nstest.Link(t, ns, "eth1")
	if err := ns.Handle.LinkSetMTU(small, 1200); err != nil { // below 1280: no IPv6 at all
		t.Fatal(err)
	}
	err := ns.Do(func() error {
		for path, v := range map[string]string{
			"/proc/sys/net/ipv6/conf/eth0/accept_ra":   "2",
			"/proc/sys/net/ipv6/conf/eth0/autoconf":    "0",
			"/proc/sys/net/ipv6/conf/br0/disable_ipv6": "1",
		} {
			if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := kernel.ReadState(ns)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"lo", "eth0", "eth1", "br0"}
	want, err := kernel.ReadIPv6Sysctls(ns, names)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !maps.Equal(st.IPv6Sysctls[name], want[name]) {
			t.Errorf("IPv6 settings of %s: ReadState %v, /proc/sys %v", name, st.IPv6Sysctls[name], want[name])
		}
	}
	if got := st.IPv6Sysctls["eth0"]; got["accept_ra"] != "2" || got["autoconf"] != "0" || got["disable_ipv6"] != "0" {
		t.Errorf("IPv6 settings of eth0 = %v; want accept_ra 2, autoconf 0, disable_ipv6 0", got)
	}
	if got := st.IPv6Sysctls["eth1"]["disable_ipv6"]; got != "1" {
		t.Errorf("disable_ipv6 of eth1 (MTU 1200) = %q; want 1", got)
	}
	opts, err := kernel.ReadBridgeOptions(ns, []string{"br0"})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(st.BridgeOpts["br0"], opts["br0"]) {
		t.Errorf("options of br0: ReadState %v, RTM_GETLINK %v", st.BridgeOpts["br0"], opts["br0"])
	}
	if got := st.BridgeOpts["br0"]; got["hello_time"] != "300" || got["group_fwd_mask"] != "8" {
		t.Errorf("options of br0 = %v; want hello_time 300, group_fwd_mask 8", got)
	}
	if _, ok := st.BridgeOpts["eth0"]; ok {
		t.Error("eth0 has bridge options")
	}
}
