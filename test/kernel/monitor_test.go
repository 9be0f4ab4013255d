package kernel_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf"
	hkernel "github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// monitorView is what the monitor's view must agree on with a fresh dump:
// the canonical dump plus what the API reports beyond it (operational state,
// connected routes, link-local addresses, speeds).
func monitorView(st *netconf.State) string {
	var b strings.Builder
	b.WriteString(st.Dump())
	for _, l := range st.Links {
		b.WriteString(l.Name + " oper " + string(l.OperState) + " speed " + itoa(l.Speed))
		for _, a := range l.Addrs {
			b.WriteString(" " + a.Prefix.String())
			if a.Dynamic {
				b.WriteString(" dynamic")
			}
		}
		b.WriteByte('\n')
	}
	for _, r := range st.Routes {
		b.WriteString("route " + r.Dst.String() + " via " + r.Gateway.String() + " dev " + r.Link + " table " + itoa(uint64(r.Table)) + "\n")
	}
	return b.String()
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// startMonitor starts a monitor of ns that signals every change on the
// returned channel.
func startMonitor(t *testing.T, ns *hkernel.Namespace) (*hkernel.Monitor, <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	changed := make(chan struct{}, 1)
	m, err := hkernel.StartMonitor(ctx, ns, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	if err != nil {
		cancel()
		t.Fatalf("starting the monitor: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-m.Done():
		case <-time.After(2 * time.Minute):
			t.Error("the monitor did not stop")
		}
	})
	return m, changed
}

// requireSameAsDump checks that after a Sync the monitor's view equals a
// fresh dump of the kernel.
func requireSameAsDump(t *testing.T, step string, ns *hkernel.Namespace, m *hkernel.Monitor) {
	t.Helper()
	// The kernel defers some notifications (an operational state goes
	// through linkwatch), so a dump can be ahead of every notification
	// sent so far: compare until both agree, a notification later, or a
	// hang bound passes.
	deadline := time.Now().Add(sameAsDumpBound)
	for {
		if _, err := m.Sync(); err != nil {
			t.Fatalf("%s: sync: %v", step, err)
		}
		got, err := m.State()
		if err != nil {
			t.Fatalf("%s: monitor state: %v", step, err)
		}
		want, err := hkernel.ReadState(ns)
		if err != nil {
			t.Fatalf("%s: reading the kernel: %v", step, err)
		}
		g, w := monitorView(got), monitorView(want)
		if g == w {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the monitor's view differs from a dump:\n%s", step, lineDiff(g, w))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameAsDumpBound bounds requireSameAsDump's wait: only a monitor that
// missed a change reaches it, never a slow machine.
const sameAsDumpBound = 2 * time.Minute

// lineDiff lists the lines only one side has, at most 20 of each.
func lineDiff(got, want string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	g, w := in(got), in(want)
	var b strings.Builder
	n := 0
	for _, l := range strings.Split(got, "\n") {
		if !w[l] && n < 20 {
			b.WriteString("monitor only: " + truncate(l) + "\n")
			n++
		}
	}
	n = 0
	for _, l := range strings.Split(want, "\n") {
		if !g[l] && n < 20 {
			b.WriteString("dump only:    " + truncate(l) + "\n")
			n++
		}
	}
	return b.String()
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func mustDo(t *testing.T, step string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// TestMonitorFollowsTheKernel changes a namespace step by step (links,
// bridge ports, addresses with and without lifetimes, routes in several
// tables, rules, a link going down, renames and deletions) and checks after
// each that the monitor's view, patched from notifications, equals a dump.
func TestMonitorFollowsTheKernel(t *testing.T) {
	ns := nstest.New(t)
	sw := nstest.New(t)
	m, _ := startMonitor(t, ns)
	h := ns.Handle
	requireSameAsDump(t, "start", ns, m)

	nstest.Veth(t, ns, "eth0", sw, "sw0")
	nstest.Veth(t, ns, "eth1", sw, "sw1")
	requireSameAsDump(t, "veths added", ns, m)

	eth0 := nstest.Link(t, ns, "eth0")
	mustDo(t, "mtu", h.LinkSetMTU(eth0, 9000))
	requireSameAsDump(t, "mtu", ns, m)

	addr := func(s string) *netlink.Addr {
		a, err := netlink.ParseAddr(s)
		mustDo(t, "parse "+s, err)
		return a
	}
	mustDo(t, "static address", h.AddrAdd(eth0, addr("192.0.2.10/24")))
	dyn := addr("198.51.100.7/24")
	dyn.ValidLft, dyn.PreferedLft = 300, 200
	mustDo(t, "dynamic address", h.AddrAdd(eth0, dyn))
	mustDo(t, "ipv6 address", h.AddrAdd(eth0, addr("2001:db8::10/64")))
	requireSameAsDump(t, "addresses", ns, m)

	_, dst, _ := net.ParseCIDR("203.0.113.0/24")
	mustDo(t, "route", h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: dst, Gw: net.ParseIP("192.0.2.1")}))
	mustDo(t, "default route", h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("192.0.2.1")}))
	mustDo(t, "table route", h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("192.0.2.1"), Table: 1234}))
	rule := netlink.NewRule()
	rule.Src, rule.Table, rule.Priority = &net.IPNet{IP: net.ParseIP("192.0.2.0").To4(), Mask: net.CIDRMask(24, 32)}, 1234, 3200
	mustDo(t, "rule", h.RuleAdd(rule))
	requireSameAsDump(t, "routes and rule", ns, m)

	// The kernel drops the routes through a link that goes down, and
	// those through a removed address, without a notification.
	mustDo(t, "link down", h.LinkSetDown(eth0))
	requireSameAsDump(t, "link down", ns, m)
	mustDo(t, "link up", h.LinkSetUp(eth0))
	mustDo(t, "route again", h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("192.0.2.1")}))
	mustDo(t, "address removed", h.AddrDel(eth0, addr("192.0.2.10/24")))
	requireSameAsDump(t, "address removed", ns, m)
	mustDo(t, "rule removed", h.RuleDel(rule))
	requireSameAsDump(t, "rule removed", ns, m)

	attrs := netlink.NewLinkAttrs()
	attrs.Name = "br0"
	mustDo(t, "bridge", h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}))
	br := nstest.SetUp(t, ns, "br0")
	eth1 := nstest.Link(t, ns, "eth1")
	mustDo(t, "enslave", h.LinkSetMaster(eth1, br))
	requireSameAsDump(t, "bridge port", ns, m)
	// A port leaving its bridge sends an AF_BRIDGE RTM_DELLINK: the link
	// stays.
	mustDo(t, "release", h.LinkSetNoMaster(eth1))
	requireSameAsDump(t, "port released", ns, m)

	mustDo(t, "down for rename", h.LinkSetDown(eth1))
	mustDo(t, "rename", h.LinkSetName(eth1, "nic1"))
	requireSameAsDump(t, "renamed", ns, m)
	mustDo(t, "delete bridge", h.LinkDel(br))
	mustDo(t, "delete veth", h.LinkDel(nstest.Link(t, ns, "nic1")))
	requireSameAsDump(t, "deleted", ns, m)
}

// TestMonitorReportsChangesWithoutSync checks that the monitor follows the
// kernel on its own: a change made behind its back shows in its view, and
// is signalled, within a second and without a Sync.
func TestMonitorReportsChangesWithoutSync(t *testing.T) {
	ns := nstest.New(t)
	sw := nstest.New(t)
	nstest.Veth(t, ns, "eth0", sw, "sw0")
	m, changed := startMonitor(t, ns)
	mustDo(t, "mtu", ns.Handle.LinkSetMTU(nstest.Link(t, ns, "eth0"), 1400))
	deadline := time.After(2 * time.Minute)
	for {
		st, err := m.State()
		mustDo(t, "state", err)
		if l, ok := st.Link("eth0"); ok && l.MTU == 1400 {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("the MTU change did not reach the monitor's view")
		}
	}
}

// TestMonitorAfterAFlood makes thousands of changes faster than anything
// reads them: whether the socket keeps up or overflows (and the monitor
// re-dumps), the view must be right afterwards.
func TestMonitorAfterAFlood(t *testing.T) {
	ns := nstest.New(t)
	sw := nstest.New(t)
	nstest.Veth(t, ns, "eth0", sw, "sw0")
	m, _ := startMonitor(t, ns)
	eth0 := nstest.Link(t, ns, "eth0")
	for i := range 2000 {
		a := &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(10, byte(i>>8), byte(i), 1), Mask: net.CIDRMask(32, 32)}}
		mustDo(t, "address", ns.Handle.AddrAdd(eth0, a))
	}
	requireSameAsDump(t, "after a flood", ns, m)
}

// TestMonitorReadsOfAnUnchangedHostCostNoDump: once the view is current,
// reading it again and again (each read syncing first, as the API does)
// makes no dump.
func TestMonitorReadsOfAnUnchangedHostCostNoDump(t *testing.T) {
	ns := nstest.New(t)
	sw := nstest.New(t)
	nstest.Veth(t, ns, "eth0", sw, "sw0")
	m, _ := startMonitor(t, ns)
	requireSameAsDump(t, "start", ns, m)
	before := m.Dumps()
	for range 100 {
		if _, err := m.Sync(); err != nil {
			t.Fatal(err)
		}
		if _, err := m.State(); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Dumps() - before; n != 0 {
		t.Fatalf("100 reads of an unchanged host made %d dumps; want 0", n)
	}
	// A change costs at most the re-dump of the tables it made stale. An
	// MTU change moves no address and no route of the view (on Debian's
	// kernel it costs none; a kernel that announces IPv6 routes' new MTU
	// costs a route dump).
	mustDo(t, "mtu", ns.Handle.LinkSetMTU(nstest.Link(t, ns, "eth0"), 1400))
	requireSameAsDump(t, "mtu", ns, m)
	if n := m.Dumps() - before; n > 3 {
		t.Fatalf("an MTU change cost %d dumps; want at most 3 (addresses, routes)", n)
	}
	// A link going down drops its routes without telling: its re-dumps
	// cannot be skipped.
	before = m.Dumps()
	mustDo(t, "down", ns.Handle.LinkSetDown(nstest.Link(t, ns, "eth0")))
	requireSameAsDump(t, "down", ns, m)
	if n := m.Dumps() - before; n == 0 || n > 3 {
		t.Fatalf("a link going down cost %d dumps; want 1 to 3 (addresses, routes)", n)
	}
}

// TestMonitorPatchesItsViewLinkByLink changes one link at a time on a host
// of twenty links (a change of an address, of the MTU, of admin state, of
// bridge port) and checks after each that the monitor's view equals a
// dump, and that making it converted the changed links only: before, one
// change had every reader convert every link of the host again.
func TestMonitorPatchesItsViewLinkByLink(t *testing.T) {
	ns := nstest.New(t)
	sw := nstest.New(t)
	h := ns.Handle
	for i := range 18 {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "br" + strconv.Itoa(i)
		mustDo(t, "bridge", h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}))
		nstest.SetUp(t, ns, attrs.Name)
	}
	nstest.Veth(t, ns, "eth0", sw, "sw0")
	m, _ := startMonitor(t, ns)
	requireSameAsDump(t, "start", ns, m)

	eth0 := nstest.Link(t, ns, "eth0")
	addr := func(s string) *netlink.Addr {
		a, err := netlink.ParseAddr(s)
		mustDo(t, "parse "+s, err)
		return a
	}
	dyn := addr("198.51.100.7/24")
	dyn.ValidLft, dyn.PreferedLft = 300, 200
	steps := []struct {
		name   string
		change func() error
	}{
		{"mtu", func() error { return h.LinkSetMTU(eth0, 9000) }},
		{"address", func() error { return h.AddrAdd(eth0, addr("192.0.2.10/24")) }},
		{"dynamic address", func() error { return h.AddrAdd(eth0, dyn) }},
		{"ipv6 address", func() error { return h.AddrAdd(eth0, addr("2001:db8::10/64")) }},
		{"route", func() error {
			_, dst, _ := net.ParseCIDR("203.0.113.0/24")
			return h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: dst, Gw: net.ParseIP("192.0.2.1")})
		}},
		{"link down", func() error { return h.LinkSetDown(eth0) }},
		{"link up", func() error { return h.LinkSetUp(eth0) }},
		{"address removed", func() error { return h.AddrDel(eth0, addr("192.0.2.10/24")) }},
		{"bridge port", func() error { return h.LinkSetMaster(eth0, nstest.Link(t, ns, "br3")) }},
		{"port released", func() error { return h.LinkSetNoMaster(eth0) }},
	}
	for _, s := range steps {
		before := m.LinksConverted()
		mustDo(t, s.name, s.change())
		requireSameAsDump(t, s.name, ns, m)
		// The port's bridge may change with it, and requireSameAsDump
		// may look again when the kernel's deferred notifications come;
		// a rebuild converts all 20 links.
		if n := m.LinksConverted() - before; n > 6 {
			t.Errorf("%s: the view converted %d links again", s.name, n)
		}
	}
}
