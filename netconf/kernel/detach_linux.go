package kernel

import (
	"bytes"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The netlink library decodes addresses, MACs and prefixes as slices of the
// message they came in, and a message of a dump shares its buffer with the
// rest of the dump. A view that keeps one decoded value would keep the whole
// buffer: the monitor of a host with thousands of devices held every
// dump's bytes. What is kept is therefore detached first: its slices are
// copied, and a route keeps only the fields the model reads.

// detachLink copies the slices of l that point into its message, and drops
// what a view of the kernel never reads: counters, which are stale as soon
// as they are read (the statistics are read live, see LinkStats), and XDP.
// On a host with thousands of devices they were a tenth of the view.
func detachLink(l netlink.Link) netlink.Link {
	a := l.Attrs()
	a.Statistics, a.Xdp = nil, nil
	a.HardwareAddr = cloneMAC(a.HardwareAddr)
	a.PermHWAddr = cloneMAC(a.PermHWAddr)
	if s, ok := a.Slave.(*netlink.BondSlave); ok {
		s.PermHardwareAddr = cloneMAC(s.PermHardwareAddr)
	}
	switch b := l.(type) {
	case *netlink.Bond:
		b.AdActorSystem = cloneMAC(b.AdActorSystem)
	case *hostBond:
		b.AdActorSystem = cloneMAC(b.AdActorSystem)
	}
	return l
}

// detachAddr copies the slices of a that point into its message.
func detachAddr(a netlink.Addr) netlink.Addr {
	a.IPNet = cloneIPNet(a.IPNet)
	a.Peer = cloneIPNet(a.Peer)
	a.Broadcast = cloneIP(a.Broadcast)
	return a
}

// modelRoute reports whether the model has r: unicast routes, but for the
// kernel's own link-local prefixes. The local and broadcast routes of every
// address are most of a host's routes and none of its configuration.
func modelRoute(r *netlink.Route) bool {
	return r.Type == unix.RTN_UNICAST && !(r.Protocol == unix.RTPROT_KERNEL && r.Dst != nil && isLinkLocalNet(r.Dst))
}

// detachRoute is r with only the fields the model reads, none of them
// pointing into its message.
func detachRoute(r *netlink.Route) netlink.Route {
	return netlink.Route{Family: r.Family, LinkIndex: r.LinkIndex, Dst: cloneIPNet(r.Dst), Gw: cloneIP(r.Gw),
		Table: r.Table, Priority: r.Priority, Protocol: r.Protocol, Type: r.Type}
}

func cloneMAC(m net.HardwareAddr) net.HardwareAddr {
	if m == nil {
		return nil
	}
	return bytes.Clone(m)
}

func cloneIP(ip net.IP) net.IP {
	if ip == nil {
		return nil
	}
	return bytes.Clone(ip)
}

func cloneIPNet(n *net.IPNet) *net.IPNet {
	if n == nil {
		return nil
	}
	return &net.IPNet{IP: cloneIP(n.IP), Mask: bytes.Clone(n.Mask)}
}
