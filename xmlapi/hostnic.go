package xmlapi

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/hostnetd/hostnetd/netconf"
)

// HostNics renders the <host_nics> collection.
func HostNics(c Context, st *netconf.State, links []*netconf.Link) *Node {
	return HostNicList(c, st, links).Node()
}

// HostNicList is the <host_nics> collection, rendered a NIC at a time as
// it is written. st and links must not change until it is written.
func HostNicList(c Context, st *netconf.State, links []*netconf.Link) *Collection {
	c = c.withHref()
	gws := st.Gateways()
	return &Collection{name: "host_nics", len: len(links), item: func(s *nodeSlab, i int) *Node {
		return hostNic(s, c, st, gws, links[i])
	}}
}

// HostNic renders one interface as a <host_nic>.
func HostNic(c Context, st *netconf.State, l *netconf.Link) *Node {
	return hostNic(newNodeSlab(48), c, st, st.Gateways(), l)
}

// hostNic is HostNic with the state's default routes indexed once for the
// whole collection.
func hostNic(s *nodeSlab, c Context, st *netconf.State, gws netconf.Gateways, l *netconf.Link) *Node {
	id := c.NicID(l.Name)
	href := c.nicHrefIn(s, id)
	// Room for every field a NIC can have, so that adding them does not
	// grow the slice.
	n := s.ref("host_nic", id, href)
	n.Children = s.children(24)
	n.Add(
		s.text("name", l.Name),
		s.link("statistics", s.concat(href, "/statistics")),
		s.link("networkattachments", s.concat(href, "/networkattachments")),
		s.link("networklabels", s.concat(href, "/networklabels")),
		s.link("linklayerdiscoveryprotocolelements", s.concat(href, "/linklayerdiscoveryprotocolelements")),
	)
	if l.Master != "" {
		if m, ok := st.Link(l.Master); ok && m.Kind == netconf.KindBond {
			n.Add(s.link("master", c.nicHrefIn(s, c.NicID(l.Master))))
		}
	}
	if agg := aggregatorID(l); agg > 0 {
		n.Add(s.int("ad_aggregator_id", int64(agg)))
	}
	if l.VLAN != nil && l.VLAN.Base != "" {
		n.Add(s.text("base_interface", l.VLAN.Base))
	}
	if l.Bond != nil {
		n.Add(bonding(c, l.Bond, l.Name))
	}
	// A network's addresses live on its top device (the bridge of a VM
	// network); oVirt reports them on the interface that carries it.
	addrLink := l
	netID, top, carries := c.nicNetwork(l.Name)
	if carries && top != l.Name {
		if t, ok := st.Link(top); ok {
			addrLink = t
		}
	}
	v4, v6 := primaryAddrs(addrLink)
	n.Add(
		s.text("boot_protocol", bootProtocol4(v4)),
		s.bool("bridged", isBridgePort(st, l)),
		s.bool("custom_configuration", c.NicOutOfSync != nil && c.NicOutOfSync(l.Name)),
		ipNode(s, "ip", v4, gws, addrLink),
		ipNode(s, "ipv6", v6, gws, addrLink),
		s.text("ipv6_boot_protocol", bootProtocol6(addrLink)),
	)
	if l.MAC != "" {
		n.Add(s.elem("mac", 1).Add(s.text("address", l.MAC)))
	}
	n.Add(s.int("mtu", int64(l.MTU)))
	if l.Speed > 0 {
		n.Add(s.uint("speed", l.Speed))
	}
	if l.OperState == netconf.OperUp || l.OperState == netconf.OperDown {
		n.Add(s.text("status", string(l.OperState)))
	}
	if l.VLAN != nil {
		var scratch [20]byte
		id := s.bytes(strconv.AppendInt(scratch[:0], int64(l.VLAN.ID), 10))
		n.Add(s.node(Node{Name: "vlan", Attrs: s.attrList(Attr{Name: "id", Value: id, Scalar: Number})}))
	}
	if carries {
		n.Add(s.ref("network", netID, networkHrefIn(s, netID)))
	}
	n.Add(s.ref("host", c.HostID, c.hostHref()), ipAddresses(s, l))
	return n
}

func aggregatorID(l *netconf.Link) int {
	switch {
	case l.Bond != nil && l.Bond.Mode == netconf.Bond8023AD:
		return l.Bond.AggregatorID
	case l.BondSlave != nil:
		return l.BondSlave.AggregatorID
	}
	return 0
}

// bonding renders a bond as an engine reports it: options holds the mode
// by number with its type, and the options VDSM would report
// (netconf.EngineBondOptions), enumerations by number; kernel_options,
// hostnetd's extension, holds the kernel's full view by kernel names.
func bonding(c Context, b *netconf.Bond, name string) *Node {
	option := func(name, value string) *Node {
		item := Elem("option", Text("name", name), Text("value", value))
		item.Repeated = true
		return item
	}
	opts := List("options", Elem("option",
		Text("name", "mode"),
		Text("value", strconv.Itoa(int(b.Mode))),
		Text("type", b.Mode.Description()),
	))
	for _, o := range netconf.EngineBondOptions(b, c.bondConfig(name)) {
		opts.Add(option(o.Name, o.Value))
	}
	kernelOpts := List("kernel_options", option("mode", b.Mode.String()))
	for _, o := range b.Options {
		kernelOpts.Add(option(o.Name, o.Value))
	}
	n := Elem("bonding")
	if b.ActiveSlave != "" {
		n.Add(c.nicRef(b.ActiveSlave).rename("active_slave"))
	}
	if b.PartnerMAC != "" {
		n.Add(Elem("ad_partner_mac", Text("address", b.PartnerMAC)))
	}
	n.Add(opts, kernelOpts)
	if len(b.Slaves) > 0 {
		slaves := make([]*Node, len(b.Slaves))
		for i, s := range b.Slaves {
			slaves[i] = c.nicRef(s)
		}
		n.Add(List("slaves", slaves...))
	}
	return n
}

func isBridgePort(st *netconf.State, l *netconf.Link) bool {
	if l.Master == "" {
		return false
	}
	m, ok := st.Link(l.Master)
	return ok && m.Kind == netconf.KindBridge
}

// primaryAddrs picks the first IPv4 and the first global IPv6 address; the
// kernel lists addresses in the order they were added, so the first is the
// primary one.
func primaryAddrs(l *netconf.Link) (v4, v6 *netconf.Addr) {
	for i := range l.Addrs {
		a := &l.Addrs[i]
		switch {
		case a.Prefix.Addr().Is4() && v4 == nil:
			v4 = a
		case a.Prefix.Addr().Is6() && !a.LinkLocal && v6 == nil:
			v6 = a
		}
	}
	return v4, v6
}

func ipNode(s *nodeSlab, name string, a *netconf.Addr, gws netconf.Gateways, l *netconf.Link) *Node {
	if a == nil {
		return nil
	}
	family := 6
	if a.Prefix.Addr().Is4() {
		family = 4
	}
	n := s.elem(name, 4).Add(s.text("address", s.addr(a.Prefix.Addr())))
	if gw, ok := gws.Default(l.Name, family); ok {
		n.Add(s.text("gateway", s.addr(gw)))
	}
	version := "v6"
	if family == 4 {
		version = "v4"
	}
	n.Add(s.text("netmask", netmask(a.Prefix)), s.text("version", version))
	return n
}

// netmask renders an IPv4 prefix as a dotted mask and an IPv6 prefix as its
// length, as oVirt does.
func netmask(p netip.Prefix) string {
	if p.Addr().Is4() {
		return ipv4Masks[p.Bits()]
	}
	return strconv.Itoa(p.Bits())
}

// ipv4Masks are the dotted IPv4 masks by prefix length.
var ipv4Masks = func() (m [33]string) {
	for bits := range m {
		m[bits] = net.IP(net.CIDRMask(bits, 32)).String()
	}
	return m
}()

// bootProtocol4 follows the primary address: a DHCP lease is installed
// with a finite lifetime, a static address is permanent.
func bootProtocol4(primary *netconf.Addr) string {
	switch {
	case primary == nil:
		return "none"
	case primary.Dynamic:
		return "dhcp"
	}
	return "static"
}

func bootProtocol6(l *netconf.Link) string {
	var static, dhcp, autoconf bool
	for _, a := range l.Addrs {
		if !a.Prefix.Addr().Is6() || a.LinkLocal {
			continue
		}
		switch {
		case !a.Dynamic:
			static = true
		case a.AutoconfEUI64:
			autoconf = true
		default:
			dhcp = true
		}
	}
	switch {
	case dhcp && autoconf:
		return "poly_dhcp_autoconf"
	case autoconf:
		return "autoconf"
	case dhcp:
		return "dhcp"
	case static:
		return "static"
	}
	return "none"
}

// ipAddresses is hostnetd's extension listing every address of the link,
// as the cloud NIC listings do; oVirt clients ignore it.
func ipAddresses(s *nodeSlab, l *netconf.Link) *Node {
	if len(l.Addrs) == 0 {
		return nil
	}
	list := s.elem("ip_addresses", len(l.Addrs))
	for _, a := range l.Addrs {
		family := "v6"
		if a.Prefix.Addr().Is4() {
			family = "v4"
		}
		scope := "global"
		if a.LinkLocal {
			scope = "link"
		}
		item := s.elem("ip_address", 8).Add(
			s.text("address", s.addr(a.Prefix.Addr())),
			s.text("netmask", netmask(a.Prefix)),
			s.int("prefix", int64(a.Prefix.Bits())),
			s.text("version", family),
			s.text("scope", scope),
			s.bool("dynamic", a.Dynamic),
		)
		if a.Dynamic {
			item.Add(s.uint("valid_lifetime", uint64(a.ValidLft)), s.uint("preferred_lifetime", uint64(a.PreferredLft)))
		}
		item.Repeated = true
		list.Add(item)
	}
	return list
}
