package kernel

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// ReadState reads the links (with their IPv6 settings and bridge
// options), addresses, routes and rules of the namespace in one pass: one
// dump of each.
func ReadState(ns *Namespace) (*netconf.State, error) {
	raw, err := dumpTables(ns)
	if err != nil {
		return nil, err
	}
	return raw.convert(ns.speed, time.Time{}), nil
}

// tables is the kernel's state as the dumps return it, before conversion;
// the Monitor keeps one current from notifications.
type tables struct {
	links  []netlink.Link
	addrs  []seenAddr
	routes []netlink.Route
	rules  []netlink.Rule
	// ipv6Sysctls and bridgeOpts come with a link dump (see linkDump);
	// the Monitor's view has none, since changing a setting sends no
	// notification.
	ipv6Sysctls, bridgeOpts map[string]map[string]string
}

// seenAddr is an address with the time it was read: the lifetimes of a
// dynamic address count down from then.
type seenAddr struct {
	netlink.Addr
	seen time.Time
}

func dumpTables(ns *Namespace) (tables, error) {
	var t tables
	h := ns.Handle
	ld, err := retryDump("links", func() (linkDump, error) { return dumpLinks(ns) })
	if err != nil {
		return t, err
	}
	links := ld.links
	t.ipv6Sysctls, t.bridgeOpts = ld.ipv6Sysctls, ld.bridgeOpts
	addrs, err := dumpAddrs(h)
	if err != nil {
		return t, err
	}
	if t.routes, err = dumpRoutes(h); err != nil {
		return t, err
	}
	if t.rules, err = dumpRules(h); err != nil {
		return t, err
	}
	t.links = links
	now := time.Now()
	t.addrs = make([]seenAddr, len(addrs))
	for i, a := range addrs {
		t.addrs[i] = seenAddr{Addr: a, seen: now}
	}
	return t, nil
}

func dumpAddrs(h *netlink.Handle) ([]netlink.Addr, error) {
	return retryDump("addresses", func() ([]netlink.Addr, error) {
		addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
		for i := range addrs {
			addrs[i] = detachAddr(addrs[i])
		}
		return addrs, err
	})
}

// dumpRoutes reads the routes of every table that the model has (see
// modelRoute), detached from the dump's buffers.
func dumpRoutes(h *netlink.Handle) ([]netlink.Route, error) {
	return retryDump("routes", func() ([]netlink.Route, error) {
		var routes []netlink.Route
		err := h.RouteListFilteredIter(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE,
			func(r netlink.Route) bool {
				if modelRoute(&r) {
					routes = append(routes, detachRoute(&r))
				}
				return true
			})
		return routes, err
	})
}

func dumpRules(h *netlink.Handle) ([]netlink.Rule, error) {
	return retryDump("rules", func() ([]netlink.Rule, error) { return h.RuleList(netlink.FAMILY_ALL) })
}

// convert builds the model of the tables. speed gives a link's speed; now,
// when set, is the time at which the lifetimes of dynamic addresses are
// reported (the zero time reports them as read).
func (t tables) convert(speed func(netlink.Link) uint64, now time.Time) *netconf.State {
	names := make(map[int]string, len(t.links))
	for _, l := range t.links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	byIndex := make(map[int][]netconf.Addr, len(t.links))
	for _, a := range t.addrs {
		byIndex[a.LinkIndex] = append(byIndex[a.LinkIndex], convertAddr(a.Addr, elapsed(a.seen, now)))
	}

	st := &netconf.State{Links: make([]netconf.Link, 0, len(t.links)), IPv6Sysctls: t.ipv6Sysctls, BridgeOpts: t.bridgeOpts}
	for _, l := range t.links {
		st.Links = append(st.Links, convertLink(l, names, byIndex[l.Attrs().Index], speed))
	}
	sort.Slice(st.Links, func(i, j int) bool { return st.Links[i].Name < st.Links[j].Name })
	st.IndexLinks()
	fillBondSlaves(st)
	for i := range st.Links {
		markEUI64(&st.Links[i])
	}
	st.Routes, st.Rules = convertRoutes(t.routes, names), convertRules(t.rules)
	return st
}

func convertRoutes(routes []netlink.Route, names map[int]string) []netconf.Route {
	var out []netconf.Route
	for _, r := range routes {
		if cr, ok := convertRoute(r, names); ok {
			out = append(out, cr)
		}
	}
	return out
}

func convertRules(rules []netlink.Rule) []netconf.Rule {
	var out []netconf.Rule
	for _, r := range rules {
		out = append(out, convertRule(r))
	}
	return out
}

// elapsed is the whole seconds from seen to now, 0 when now is unset.
func elapsed(seen, now time.Time) uint32 {
	if now.IsZero() || !now.After(seen) {
		return 0
	}
	return uint32(now.Sub(seen) / time.Second)
}

func convertRule(r netlink.Rule) netconf.Rule {
	out := netconf.Rule{Priority: r.Priority, Table: r.Table}
	if r.Src != nil {
		out.Src = ipNetPrefix(r.Src)
	}
	if r.Dst != nil {
		out.Dst = ipNetPrefix(r.Dst)
	}
	return out
}

func ipNetPrefix(n *net.IPNet) netip.Prefix {
	ip, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones)
}

func convertLink(l netlink.Link, names map[int]string, addrs []netconf.Addr, speed func(netlink.Link) uint64) netconf.Link {
	a := l.Attrs()
	out := netconf.Link{
		Index:     a.Index,
		Name:      a.Name,
		Kind:      netconf.LinkKind(l.Type()),
		MAC:       strings.ToLower(a.HardwareAddr.String()),
		MTU:       a.MTU,
		AdminUp:   a.Flags&net.FlagUp != 0,
		OperState: operState(a.OperState),
		Master:    names[a.MasterIndex],
		Addrs:     addrs,
	}
	if hasSpeed(l) {
		out.Speed = speed(l)
	}
	out.Stats = convertStats(a.Statistics)
	switch v := l.(type) {
	case *netlink.Bond:
		out.Bond = convertBond(v, names, nil)
	case *hostBond:
		out.Bond = convertBond(&v.Bond, names, v.extras)
	case *netlink.Vlan:
		out.VLAN = &netconf.VLAN{ID: v.VlanId, Base: names[a.ParentIndex]}
	}
	if bs, ok := a.Slave.(*netlink.BondSlave); ok {
		out.BondSlave = &netconf.BondSlave{AggregatorID: int(bs.AggregatorId)}
	}
	return out
}

func convertStats(s *netlink.LinkStatistics) netconf.LinkStats {
	if s == nil {
		return netconf.LinkStats{}
	}
	return netconf.LinkStats{
		RxBytes: s.RxBytes, TxBytes: s.TxBytes,
		RxPackets: s.RxPackets, TxPackets: s.TxPackets,
		RxErrors: s.RxErrors, TxErrors: s.TxErrors,
		RxDropped: s.RxDropped, TxDropped: s.TxDropped,
	}
}

// ReadLinkStats reads the counters of one link: a single request, not a
// dump, because counters change without notifications and are read live.
func ReadLinkStats(ns *Namespace, name string) (netconf.LinkStats, error) {
	l, err := ns.Handle.LinkByName(name)
	if err != nil {
		return netconf.LinkStats{}, fmt.Errorf("reading the counters of %s: %w", name, err)
	}
	return convertStats(l.Attrs().Statistics), nil
}

// hasSpeed says whether a link reports a speed: NICs, veths and bonds do;
// bridges and VLANs have none of their own.
func hasSpeed(l netlink.Link) bool {
	switch netconf.LinkKind(l.Type()) {
	case netconf.KindDevice, netconf.KindVeth, netconf.KindBond:
		return true
	}
	return false
}

func operState(s netlink.LinkOperState) netconf.OperState {
	switch s {
	case netlink.OperUp:
		return netconf.OperUp
	case netlink.OperDown, netlink.OperLowerLayerDown, netlink.OperNotPresent:
		return netconf.OperDown
	case netlink.OperUnknown:
		return netconf.OperUnknown
	default:
		return netconf.OperState(strings.ToLower(s.String()))
	}
}

// convertAddr converts an address read age seconds ago.
func convertAddr(a netlink.Addr, age uint32) netconf.Addr {
	ip, _ := netip.AddrFromSlice(a.IP)
	ip = ip.Unmap()
	ones, _ := a.Mask.Size()
	const infinite = 0xffffffff
	dynamic := a.ValidLft > 0 && uint32(a.ValidLft) != infinite && a.Flags&unix.IFA_F_PERMANENT == 0
	out := netconf.Addr{
		Prefix:    netip.PrefixFrom(ip, ones),
		Dynamic:   dynamic,
		LinkLocal: ip.IsLinkLocalUnicast(),
		Tentative: a.Flags&unix.IFA_F_TENTATIVE != 0,
	}
	if dynamic {
		out.ValidLft = countDown(uint32(a.ValidLft), age)
		out.PreferredLft = countDown(uint32(a.PreferedLft), age)
	}
	return out
}

func countDown(lifetime, age uint32) uint32 {
	if lifetime == 0xffffffff {
		return lifetime
	}
	return lifetime - min(lifetime, age)
}

func convertRoute(r netlink.Route, names map[int]string) (netconf.Route, bool) {
	if !modelRoute(&r) {
		return netconf.Route{}, false
	}
	out := netconf.Route{Link: names[r.LinkIndex], Table: r.Table, Metric: r.Priority, Protocol: int(r.Protocol)}
	if gw, ok := netip.AddrFromSlice(r.Gw); ok {
		out.Gateway = gw.Unmap()
	}
	if r.Dst != nil {
		ip, _ := netip.AddrFromSlice(r.Dst.IP)
		ones, _ := r.Dst.Mask.Size()
		out.Dst = netip.PrefixFrom(ip.Unmap(), ones)
	} else if r.Family == unix.AF_INET6 {
		out.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	} else {
		out.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return out, true
}

func isLinkLocalNet(n *net.IPNet) bool { return n.IP.IsLinkLocalUnicast() }

func convertBond(b *netlink.Bond, names map[int]string, extras []netconf.BondOption) *netconf.Bond {
	out := &netconf.Bond{Mode: netconf.BondMode(b.Mode)}
	if b.ActiveSlave > 0 {
		out.ActiveSlave = names[b.ActiveSlave]
	}
	if b.AdInfo != nil {
		out.AggregatorID = b.AdInfo.AggregatorId
		if len(b.AdInfo.PartnerMac) > 0 && !isZeroMAC(b.AdInfo.PartnerMac) {
			out.PartnerMAC = strings.ToLower(b.AdInfo.PartnerMac.String())
		}
	}
	out.Options = bondOptions(b, names, extras)
	return out
}

func isZeroMAC(m net.HardwareAddr) bool {
	for _, b := range m {
		if b != 0 {
			return false
		}
	}
	return true
}

// fillBondSlaves lists each bond's slaves from the slaves' master field,
// which the kernel reports on the slave, not on the bond.
func fillBondSlaves(st *netconf.State) {
	for i := range st.Links {
		if b := st.Links[i].Bond; b != nil {
			b.Slaves = st.Ports(st.Links[i].Name)
		}
	}
}

// markEUI64 flags the link's IPv6 addresses whose interface id is the
// EUI-64 form of its MAC: the signature of a SLAAC address.
func markEUI64(l *netconf.Link) {
	mac, err := net.ParseMAC(l.MAC)
	if err != nil || len(mac) != 6 {
		return
	}
	eui := [8]byte{mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]}
	for j := range l.Addrs {
		a := l.Addrs[j].Prefix.Addr()
		if a.Is6() && !a.Is4In6() {
			b := a.As16()
			l.Addrs[j].AutoconfEUI64 = [8]byte(b[8:]) == eui
		}
	}
}
