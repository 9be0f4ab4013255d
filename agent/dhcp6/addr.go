package dhcp6

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/agent/internal/linkaddr"
)

// installAddress puts the leased address on the device as a /128 with
// IFA_F_NODAD (the server handed it out; RFC 8415 §18.2.10.1 leaves DAD to
// the client, and a tentative address could not source the renewals) and
// finite lifetimes: the time left on the lease, rounded up to whole
// seconds, so that it shows as dynamic and the kernel itself drops it
// should hostnetd not be there at expiry. AddrReplace refreshes the
// lifetimes of an address that is already there. An infinite lease gets a
// permanent address. It returns the device's ifindex.
func (c *Client) installAddress(l Lease) (int, error) {
	h := c.cfg.Namespace.Handle
	link, err := h.LinkByName(c.cfg.Link)
	if err != nil {
		return 0, fmt.Errorf("finding %s: %w", c.cfg.Link, err)
	}
	addr := &netlink.Addr{IPNet: linkaddr.IPNet(l.Address), Flags: unix.IFA_F_NODAD}
	if !l.Infinite() {
		left := time.Until(l.Expiry())
		if left <= 0 {
			return 0, fmt.Errorf("the lease of %s has expired", l.Address)
		}
		addr.ValidLft = seconds(left)
		addr.PreferedLft = 0 // deprecated
		if l.Preferred >= infinite {
			addr.PreferedLft = addr.ValidLft
		} else if pref := time.Until(l.Acquired.Add(l.Preferred)); pref > 0 {
			addr.PreferedLft = min(seconds(pref), addr.ValidLft)
		}
	}
	if err := h.AddrReplace(link, addr); err != nil {
		return 0, fmt.Errorf("adding %s to %s: %w", l.Address, c.cfg.Link, err)
	}
	return link.Attrs().Index, nil
}

// seconds rounds d up to whole seconds: the kernel must not drop the
// address before the client does at expiry (it counts whole seconds from
// now).
func seconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// removeAddress deletes the address from the device; an address or device
// that is already gone is not an error.
func (c *Client) removeAddress(p netip.Prefix) error {
	return linkaddr.Remove(c.cfg.Namespace.Handle, c.cfg.Link, p)
}

// hasAddress reports whether link carries p.
func (c *Client) hasAddress(link netlink.Link, p netip.Prefix) bool {
	return linkaddr.Has(c.cfg.Namespace.Handle, link, p)
}
