// Package linkaddr holds the address operations the DHCPv4 and DHCPv6
// clients share: removing a leased address tolerantly and checking that a
// device still carries it.
package linkaddr

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// IPNet converts a prefix of either family for netlink.
func IPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Remove deletes p from the named device; an address or a device that is
// already gone is not an error.
func Remove(h *netlink.Handle, device string, p netip.Prefix) error {
	link, err := h.LinkByName(device)
	if err != nil {
		if errors.As(err, new(netlink.LinkNotFoundError)) {
			return nil
		}
		return fmt.Errorf("finding %s: %w", device, err)
	}
	err = h.AddrDel(link, &netlink.Addr{IPNet: IPNet(p)})
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("removing %s from %s: %w", p, device, err)
	}
	return nil
}

// Has reports whether link carries p; when the kernel cannot tell, it says
// yes, so that a client does not churn the address.
func Has(h *netlink.Handle, link netlink.Link, p netip.Prefix) bool {
	family := netlink.FAMILY_V4
	if p.Addr().Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := h.AddrList(link, family)
	if err != nil {
		return true
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		if ok && ip.Unmap() == p.Addr() && ones == p.Bits() {
			return true
		}
	}
	return false
}
