package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
)

// ApplyError names the step of a plan that the kernel refused.
type ApplyError struct {
	Step netconf.Step
	Err  error
	// index is the step's place in the plan.
	index int
}

func (e *ApplyError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *ApplyError) Unwrap() error { return e.Err }

// applyStep executes a step that is not batched: a bond's creation or
// options, a route, a rule.
func applyStep(ns *Namespace, s netconf.Step) error {
	h := ns.Handle
	switch s.Op {
	case netconf.OpLinkAdd:
		return addBond(ns, s.Device)
	case netconf.OpRouteAdd:
		r, err := toNetlinkRoute(h, s.Route)
		if err != nil {
			return err
		}
		return h.RouteReplace(r)
	case netconf.OpRouteDel:
		r, err := toNetlinkRoute(h, s.Route)
		if err != nil {
			return err
		}
		// The kernel drops routes on its own (with an address, a link
		// going down): one already gone is removed.
		if err := h.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
		return nil
	case netconf.OpRuleAdd:
		if err := h.RuleAdd(toNetlinkRule(s.Rule)); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		return nil
	case netconf.OpRuleDel:
		if err := h.RuleDel(toNetlinkRule(s.Rule)); err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
		return nil
	case netconf.OpEthtoolFeatures, netconf.OpEthtoolRing, netconf.OpEthtoolCoalesce, netconf.OpEthtoolPause:
		return applyEthtool(ns, s)
	case netconf.OpQoSRootAdd, netconf.OpQoSRootDel, netconf.OpQoSClassAdd, netconf.OpQoSClassChange,
		netconf.OpQoSClassDel, netconf.OpQoSLeafAdd, netconf.OpQoSFilterAdd, netconf.OpQoSFilterDel:
		return applyQoS(ns, s)
	case netconf.OpBondSet:
		// By name only: a message with both the index and the name is a
		// rename, which the kernel refuses (EBUSY) on a device that is up.
		bond := netlink.NewLinkBond(linkAttrs(s.Link))
		if s.SetMode {
			bond.Mode = netlink.BondMode(s.Device.Bond.Mode)
		}
		if err := setBondOptions(h, bond, s.Options); err != nil {
			return err
		}
		if err := h.LinkModify(bond); err != nil {
			return err
		}
		return setBondExtras(ns, s.Link, s.Options)
	}
	return fmt.Errorf("unknown operation %q", s.Op)
}

func toNetlinkAddr(s netconf.Step) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{
		IP:   net.IP(s.Addr.Addr().AsSlice()),
		Mask: net.CIDRMask(s.Addr.Bits(), s.Addr.Addr().BitLen()),
	}}
	if s.Addr.Addr().Is6() {
		// Verification must not wait for duplicate address detection.
		a.Flags = unix.IFA_F_NODAD
	}
	if s.ValidLft > 0 {
		a.ValidLft, a.PreferedLft = int(s.ValidLft), int(s.PreferredLft)
	}
	return a
}

func toNetlinkRule(r netconf.Rule) *netlink.Rule {
	out := netlink.NewRule()
	out.Priority, out.Table = r.Priority, r.Table
	family := unix.AF_INET
	if r.Src.IsValid() {
		out.Src = prefixIPNet(r.Src)
		if r.Src.Addr().Is6() {
			family = unix.AF_INET6
		}
	}
	if r.Dst.IsValid() {
		out.Dst = prefixIPNet(r.Dst)
		if r.Dst.Addr().Is6() {
			family = unix.AF_INET6
		}
	}
	out.Family = family
	return out
}

func prefixIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func toNetlinkRoute(h *netlink.Handle, r netconf.Route) (*netlink.Route, error) {
	link, err := h.LinkByName(r.Link)
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", r.Link, err)
	}
	out := &netlink.Route{LinkIndex: link.Attrs().Index, Table: r.Table, Priority: r.Metric, Protocol: netlink.RouteProtocol(r.Protocol)}
	if r.Dst.Bits() > 0 {
		out.Dst = &net.IPNet{IP: net.IP(r.Dst.Addr().AsSlice()), Mask: net.CIDRMask(r.Dst.Bits(), r.Dst.Addr().BitLen())}
	} else if r.Dst.Addr().Is6() {
		out.Family = unix.AF_INET6
		out.Dst = &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
	}
	if r.Gateway.IsValid() {
		out.Gw = net.IP(r.Gateway.AsSlice())
	}
	return out, nil
}

// linkAttrs starts attributes from the library's defaults: a zero
// LinkAttrs sends txqueuelen 0, which a bond refuses with EBUSY and which
// would empty the queue of every device hostnetd creates.
func linkAttrs(name string) netlink.LinkAttrs {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	return attrs
}

// addBond creates a bond with its mode and options (VLANs and bridges are
// batched).
func addBond(ns *Namespace, d *netconf.Device) error {
	if d.Kind != netconf.KindBond {
		return fmt.Errorf("cannot create a device of kind %s", d.Kind)
	}
	h := ns.Handle
	attrs := linkAttrs(d.Name)
	attrs.MTU = d.MTU
	if d.MAC != "" {
		if mac, err := net.ParseMAC(d.MAC); err == nil {
			attrs.HardwareAddr = mac
		}
	}
	bond := netlink.NewLinkBond(attrs)
	bond.Mode = netlink.BondMode(d.Bond.Mode)
	if err := setBondOptions(h, bond, d.Bond.Options); err != nil {
		return err
	}
	if err := h.LinkAdd(bond); err != nil {
		return err
	}
	return setBondExtras(ns, d.Name, d.Bond.Options)
}
