package dhcpclient

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/agent/internal/linkaddr"
)

// installAddress puts the leased address on the device, with AddrFlags and
// finite lifetimes: valid the time left on the lease, preferred the time
// left of the preferred lifetime, both rounded up to whole seconds, so that
// it shows as dynamic and the kernel itself drops it should hostnetd not be
// there at expiry. AddrReplace refreshes the lifetimes of an address that
// is already there. An infinite lease gets the longest finite lifetime,
// maxFiniteLifetime (136 years), not a permanent address: the kernel makes
// an address of lifetime 0xffffffff permanent, which reads as static, and a
// synchronisation would then take the lease's address away. It returns the
// device's ifindex.
func (c *Client[L]) installAddress(t Times) (int, error) {
	h := c.cfg.Namespace.Handle
	link, err := h.LinkByName(c.cfg.Link)
	if err != nil {
		return 0, fmt.Errorf("finding %s: %w", c.cfg.Link, err)
	}
	addr := &netlink.Addr{IPNet: linkaddr.IPNet(t.Address), Flags: c.cfg.AddrFlags}
	if t.Infinite() {
		addr.ValidLft, addr.PreferedLft = maxFiniteLifetime, maxFiniteLifetime
	} else {
		left := time.Until(t.Expiry())
		if left <= 0 {
			return 0, fmt.Errorf("the lease of %s has expired", t.Address)
		}
		addr.ValidLft = seconds(left)
		addr.PreferedLft = 0 // deprecated
		if t.Preferred >= Infinite {
			addr.PreferedLft = addr.ValidLft
		} else if pref := time.Until(t.Acquired.Add(t.Preferred)); pref > 0 {
			addr.PreferedLft = min(seconds(pref), addr.ValidLft)
		}
	}
	if err := h.AddrReplace(link, addr); err != nil {
		return 0, fmt.Errorf("adding %s to %s: %w", t.Address, c.cfg.Link, err)
	}
	return link.Attrs().Index, nil
}

// maxFiniteLifetime is the longest lifetime (s) the kernel keeps as
// finite: 0xffffffff is its INFINITY_LIFE_TIME.
const maxFiniteLifetime = 0xfffffffe

// seconds rounds d up to whole seconds: the kernel must not drop the
// address before the client does at expiry (it counts whole seconds from
// now).
func seconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// removeAddress deletes the address from the device; an address or device
// that is already gone is not an error.
func (c *Client[L]) removeAddress(p netip.Prefix) error {
	return linkaddr.Remove(c.cfg.Namespace.Handle, c.cfg.Link, p)
}

// hasAddress reports whether link carries p.
func (c *Client[L]) hasAddress(link netlink.Link, p netip.Prefix) bool {
	return linkaddr.Has(c.cfg.Namespace.Handle, link, p)
}
