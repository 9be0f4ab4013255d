package kernel_test

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// find returns p among the addresses of device, as LinkAddrs reads them.
func find(t *testing.T, ns *kernel.Namespace, device string, p netip.Prefix) (kernel.IfAddr, bool) {
	t.Helper()
	idx, addrs, err := ns.LinkAddrs(device, kernel.FamilyOf(p.Addr()))
	if err != nil {
		t.Fatalf("LinkAddrs(%s): %v", device, err)
	}
	if want, err := ns.LinkIndex(device); err != nil || idx != want {
		t.Fatalf("LinkAddrs(%s) gave ifindex %d; LinkIndex says %d, %v", device, idx, want, err)
	}
	for _, a := range addrs {
		if a.Prefix.Addr().Is4() != p.Addr().Is4() {
			t.Errorf("LinkAddrs(%s, %v) listed %s, of the other family", device, kernel.FamilyOf(p.Addr()), a.Prefix)
		}
		if a.Prefix == p {
			return a, true
		}
	}
	return kernel.IfAddr{}, false
}

// The DHCP clients' door to the kernel: an address goes on with its flags
// and lifetimes, a replacement refreshes them, and a removal is idempotent.
func TestReplaceAddrKeepsFlagsAndLifetimes(t *testing.T) {
	ns, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, ns, "eth0", peer, "p0")
	want, err := ns.LinkIndex("eth0")
	if err != nil {
		t.Fatal(err)
	}
	v4 := netip.MustParsePrefix("192.0.2.5/24")
	idx, err := ns.ReplaceAddr("eth0", kernel.IfAddr{Prefix: v4, Flags: unix.IFA_F_NOPREFIXROUTE, ValidLft: 100, PreferredLft: 50})
	if err != nil || idx != want {
		t.Fatalf("ReplaceAddr: ifindex %d, %v; want %d", idx, err, want)
	}
	a, ok := find(t, ns, "eth0", v4)
	if !ok {
		t.Fatalf("%s is not on eth0", v4)
	}
	if a.Flags&unix.IFA_F_NOPREFIXROUTE == 0 || a.Flags&unix.IFA_F_PERMANENT != 0 {
		t.Errorf("flags %#x; want IFA_F_NOPREFIXROUTE and not permanent", a.Flags)
	}
	if a.ValidLft == 0 || a.ValidLft > 100 || a.PreferredLft == 0 || a.PreferredLft > 50 {
		t.Errorf("lifetimes %d/%d; want at most 100/50", a.ValidLft, a.PreferredLft)
	}

	// A replacement refreshes the lifetimes of the address in place.
	if _, err := ns.ReplaceAddr("eth0", kernel.IfAddr{Prefix: v4, ValidLft: 1000, PreferredLft: 0}); err != nil {
		t.Fatalf("ReplaceAddr again: %v", err)
	}
	if a, _ := find(t, ns, "eth0", v4); a.ValidLft <= 100 || a.PreferredLft != 0 {
		t.Errorf("after the replacement: lifetimes %d/%d; want a valid one above 100, deprecated", a.ValidLft, a.PreferredLft)
	}
	if has, err := ns.HasAddr("eth0", v4); err != nil || !has {
		t.Errorf("HasAddr(%s) = %v, %v; want true", v4, has, err)
	}
	if has, err := ns.HasAddr("eth0", netip.MustParsePrefix("192.0.2.5/25")); err != nil || has {
		t.Errorf("HasAddr of another prefix length = %v, %v; want false", has, err)
	}

	// Without lifetimes, an address is permanent.
	v6 := netip.MustParsePrefix("2001:db8::5/64")
	if _, err := ns.ReplaceAddr("eth0", kernel.IfAddr{Prefix: v6, Flags: unix.IFA_F_NODAD}); err != nil {
		t.Fatalf("ReplaceAddr(%s): %v", v6, err)
	}
	a, ok = find(t, ns, "eth0", v6)
	if !ok || a.Flags&unix.IFA_F_PERMANENT == 0 || a.Flags&unix.IFA_F_TENTATIVE != 0 || a.ValidLft != kernel.InfiniteLifetime {
		t.Errorf("%s: %+v, %v; want permanent, not tentative (NODAD), valid forever", v6, a, ok)
	}

	for range 2 { // the second time, the address is gone already
		if err := ns.RemoveAddr("eth0", v4); err != nil {
			t.Fatalf("RemoveAddr: %v", err)
		}
	}
	if has, err := ns.HasAddr("eth0", v4); err != nil || has {
		t.Errorf("HasAddr after RemoveAddr = %v, %v; want false", has, err)
	}
	if _, ok := find(t, ns, "eth0", v6); !ok {
		t.Errorf("RemoveAddr(%s) took %s too", v4, v6)
	}
}

// A missing device is ErrNoDevice, which a client tells from other
// failures (it waits for the device); removing from it is no error.
func TestAddrOpsOnAMissingDevice(t *testing.T) {
	ns := nstest.New(t)
	p := netip.MustParsePrefix("192.0.2.5/24")
	if _, err := ns.LinkIndex("nosuch"); !errors.Is(err, kernel.ErrNoDevice) {
		t.Errorf("LinkIndex: %v; want ErrNoDevice", err)
	}
	if _, err := ns.ReplaceAddr("nosuch", kernel.IfAddr{Prefix: p}); !errors.Is(err, kernel.ErrNoDevice) {
		t.Errorf("ReplaceAddr: %v; want ErrNoDevice", err)
	}
	if _, _, err := ns.LinkAddrs("nosuch", kernel.IPv4); !errors.Is(err, kernel.ErrNoDevice) {
		t.Errorf("LinkAddrs: %v; want ErrNoDevice", err)
	}
	if _, err := ns.HasAddr("nosuch", p); !errors.Is(err, kernel.ErrNoDevice) {
		t.Errorf("HasAddr: %v; want ErrNoDevice", err)
	}
	if err := ns.RemoveAddr("nosuch", p); err != nil {
		t.Errorf("RemoveAddr: %v; want nil", err)
	}
	if err := ns.Ping(); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// A zero or closed Namespace refuses everything: the library would take
// its nil handle for one in the process's own namespace.
func TestAddrOpsRefuseAClosedNamespace(t *testing.T) {
	ns := nstest.New(t)
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix("192.0.2.5/24")
	for name, ns := range map[string]*kernel.Namespace{"closed": ns, "zero": {}} {
		if _, err := ns.LinkIndex("lo"); err == nil {
			t.Errorf("%s: LinkIndex succeeded", name)
		}
		if _, err := ns.ReplaceAddr("lo", kernel.IfAddr{Prefix: p}); err == nil || errors.Is(err, kernel.ErrNoDevice) {
			t.Errorf("%s: ReplaceAddr: %v; want a refusal", name, err)
		}
		if err := ns.RemoveAddr("lo", p); err == nil {
			t.Errorf("%s: RemoveAddr succeeded", name)
		}
		if _, _, err := ns.LinkAddrs("lo", kernel.IPv4); err == nil {
			t.Errorf("%s: LinkAddrs succeeded", name)
		}
		if err := ns.Ping(); err == nil {
			t.Errorf("%s: Ping succeeded", name)
		}
	}
}
