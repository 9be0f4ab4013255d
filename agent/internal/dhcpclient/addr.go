package dhcpclient

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// installAddress puts the leased address on the device, with AddrFlags and
// finite lifetimes: valid the time left on the lease, preferred the time
// left of the preferred lifetime, both rounded up to whole seconds, so that
// it shows as dynamic and the kernel itself drops it should hostnetd not be
// there at expiry. ReplaceAddr refreshes the lifetimes of an address that
// is already there. An infinite lease gets the longest finite lifetime,
// maxFiniteLifetime (136 years), not a permanent address: the kernel makes
// an address of lifetime 0xffffffff permanent, which reads as static, and a
// synchronisation would then take the lease's address away. It returns the
// device's ifindex.
func (c *Client[L]) installAddress(t Times) (int, error) {
	addr := kernel.IfAddr{Prefix: t.Address, Flags: c.cfg.AddrFlags}
	if t.Infinite() {
		addr.ValidLft, addr.PreferredLft = maxFiniteLifetime, maxFiniteLifetime
	} else {
		left := time.Until(t.Expiry())
		if left <= 0 {
			return 0, fmt.Errorf("the lease of %s has expired", t.Address)
		}
		addr.ValidLft = seconds(left)
		addr.PreferredLft = 0 // deprecated
		if t.Preferred >= Infinite {
			addr.PreferredLft = addr.ValidLft
		} else if pref := time.Until(t.Acquired.Add(t.Preferred)); pref > 0 {
			addr.PreferredLft = min(seconds(pref), addr.ValidLft)
		}
	}
	return c.cfg.Namespace.ReplaceAddr(c.cfg.Link, addr)
}

// maxFiniteLifetime is the longest lifetime (s) the kernel keeps as
// finite.
const maxFiniteLifetime = kernel.InfiniteLifetime - 1

// seconds rounds d up to whole seconds: the kernel must not drop the
// address before the client does at expiry (it counts whole seconds from
// now). A lease's lifetimes are 32-bit seconds, so d fits.
func seconds(d time.Duration) uint32 {
	return uint32((d + time.Second - 1) / time.Second)
}

// removeAddress deletes the address from the device; an address or device
// that is already gone is not an error.
func (c *Client[L]) removeAddress(p netip.Prefix) error {
	return c.cfg.Namespace.RemoveAddr(c.cfg.Link, p)
}

// hasAddress reports whether the device carries p; when the kernel cannot
// tell, it says yes, so that the client does not churn the address.
func (c *Client[L]) hasAddress(p netip.Prefix) bool {
	has, err := c.cfg.Namespace.HasAddr(c.cfg.Link, p)
	return err != nil || has
}
