package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// This file is the door through which code outside the package (the DHCP
// clients) reaches the addresses of single devices: by device name, in
// netip types, every dump through retryDump. Nothing outside the package
// imports netlink (test/boundaries enforces it), so a dump that bypasses
// the retry, or a handle of the wrong namespace, cannot creep back in.

// ErrNoDevice is, under errors.Is, the error of an operation on a device
// the namespace does not have at the moment: a client tells it from other
// failures, and waits for the device to come (back).
var ErrNoDevice = errors.New("no such device")

// Family selects the addresses of one IP family.
type Family int

// The families of LinkAddrs.
const (
	IPv4 Family = unix.AF_INET
	IPv6 Family = unix.AF_INET6
)

// FamilyOf is the family of a.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() || a.Is4In6() {
		return IPv4
	}
	return IPv6
}

// InfiniteLifetime is the kernel's lifetime of a permanent address
// (INFINITY_LIFE_TIME); the longest finite one is one second less.
const InfiniteLifetime = 0xffffffff

// IfAddr is an address on a device.
type IfAddr struct {
	Prefix netip.Prefix
	// Flags are IFA_F_ flags: those to install (IFA_F_NODAD,
	// IFA_F_NOPREFIXROUTE), or those the kernel reports
	// (IFA_F_TENTATIVE, IFA_F_PERMANENT, ...).
	Flags int
	// ValidLft and PreferredLft are lifetimes in seconds. ReplaceAddr
	// installs a permanent address when both are 0 (a preferred
	// lifetime of 0 alone is a deprecated address); the kernel reports a
	// permanent one's as InfiniteLifetime.
	ValidLft, PreferredLft uint32
}

// isNoDevice says whether err means the device does not exist: the
// ioctl's and the kernel's ENODEV, or the library's "link not found".
func isNoDevice(err error) bool {
	return errors.Is(err, unix.ENODEV) || errors.As(err, new(netlink.LinkNotFoundError))
}

// LinkIndex returns the ifindex of the named device; a missing device's
// error is ErrNoDevice under errors.Is. A client compares it with the one
// it installed its address on to notice a device that was re-created.
func (ns *Namespace) LinkIndex(device string) (int, error) {
	if _, err := ns.handle(); err != nil {
		return 0, fmt.Errorf("finding %s: %w", device, err)
	}
	idx, err := ns.ifindex(device)
	if err != nil {
		if isNoDevice(err) {
			return 0, fmt.Errorf("finding %s: %w", device, ErrNoDevice)
		}
		return 0, fmt.Errorf("finding %s: %w", device, err)
	}
	return idx, nil
}

// ReplaceAddr puts a on the named device, or refreshes its flags and
// lifetimes when it is there already (RTM_NEWADDR with NLM_F_REPLACE), and
// returns the ifindex of the device it is now on. A missing device's error
// is ErrNoDevice under errors.Is.
func (ns *Namespace) ReplaceAddr(device string, a IfAddr) (int, error) {
	h, err := ns.handle()
	if err != nil {
		return 0, fmt.Errorf("adding %s to %s: %w", a.Prefix, device, err)
	}
	idx, err := ns.LinkIndex(device)
	if err != nil {
		return 0, fmt.Errorf("adding %s to %s: %w", a.Prefix, device, err)
	}
	na := netlinkAddr(idx, a.Prefix)
	na.Flags = a.Flags
	na.ValidLft, na.PreferedLft = int(a.ValidLft), int(a.PreferredLft)
	// A nil link: the request names the device by the index just read
	// (LinkIndex), so the index returned is the one the address went on.
	if err := h.AddrReplace(nil, na); err != nil {
		if isNoDevice(err) {
			err = ErrNoDevice // re-created or gone since LinkIndex
		}
		return 0, fmt.Errorf("adding %s to %s: %w", a.Prefix, device, err)
	}
	return idx, nil
}

// RemoveAddr deletes p from the named device. An address or a device that
// is already gone is not an error: either way p is not there any more,
// which is what the caller wants.
func (ns *Namespace) RemoveAddr(device string, p netip.Prefix) error {
	h, err := ns.handle()
	if err != nil {
		return fmt.Errorf("removing %s from %s: %w", p, device, err)
	}
	idx, err := ns.LinkIndex(device)
	if errors.Is(err, ErrNoDevice) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("removing %s from %s: %w", p, device, err)
	}
	err = h.AddrDel(nil, netlinkAddr(idx, p))
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) && !isNoDevice(err) {
		return fmt.Errorf("removing %s from %s: %w", p, device, err)
	}
	return nil
}

// LinkAddrs returns the ifindex of the named device and its addresses of
// one family, read in one dump that is retried when the kernel interrupts
// it (retryDump): a partial dump would make an address look missing and
// its client re-install it. A missing device's error is ErrNoDevice under
// errors.Is.
func (ns *Namespace) LinkAddrs(device string, family Family) (int, []IfAddr, error) {
	h, err := ns.handle()
	if err != nil {
		return 0, nil, fmt.Errorf("listing the addresses of %s: %w", device, err)
	}
	idx, err := ns.LinkIndex(device)
	if err != nil {
		return 0, nil, fmt.Errorf("listing the addresses of %s: %w", device, err)
	}
	addrs, err := retryDump("the addresses of "+device, func() ([]netlink.Addr, error) {
		return h.AddrList(nil, int(family))
	})
	if err != nil {
		return 0, nil, err
	}
	var out []IfAddr
	for _, a := range addrs {
		if a.LinkIndex != idx {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		out = append(out, IfAddr{
			Prefix:       netip.PrefixFrom(ip.Unmap(), ones),
			Flags:        a.Flags,
			ValidLft:     uint32(a.ValidLft),
			PreferredLft: uint32(a.PreferedLft),
		})
	}
	return idx, out, nil
}

// HasAddr reports whether the named device carries p (address and prefix
// length). A missing device's error is ErrNoDevice under errors.Is.
func (ns *Namespace) HasAddr(device string, p netip.Prefix) (bool, error) {
	_, addrs, err := ns.LinkAddrs(device, FamilyOf(p.Addr()))
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.Prefix.Addr() == p.Addr().Unmap() && a.Prefix.Bits() == p.Bits() {
			return true, nil
		}
	}
	return false, nil
}

// netlinkAddr is the library's form of p on the device of index idx.
func netlinkAddr(idx int, p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{
		IPNet:     &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
		LinkIndex: idx,
	}
}
