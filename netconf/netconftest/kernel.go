// Package netconftest is a test double: a simulated kernel that applies
// netconf plans to a netconf.State the way Linux does to the links it
// models, and refuses what Linux refuses: enslaving an up NIC to a bond, a
// VLAN above its base's MTU, a bond mode change with slaves or while up, a
// gateway route with no address on its subnet; and it takes what
// hostnetd's applier takes although Linux refuses it (a route already
// gone). It lets the planner and the transaction engine be checked against
// a kernel in root-free unit tests; the VM model test (test/integration)
// checks the same against Linux itself. Never use it outside tests.
package netconftest

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// Kernel is the simulated kernel. It is not safe for concurrent use.
type Kernel struct {
	st      *netconf.State
	nextMAC int
}

// New is a kernel with the named NICs (veths), up, at the default MTU.
func New(nics ...string) *Kernel {
	k := &Kernel{st: &netconf.State{IPv6Sysctls: map[string]map[string]string{}, BridgeOpts: map[string]map[string]string{}}}
	for _, n := range nics {
		k.addLink(netconf.Link{Name: n, Kind: netconf.KindVeth, MTU: netconf.DefaultMTU, AdminUp: true, OperState: netconf.OperUp, MAC: k.mac()})
	}
	return k
}

func (k *Kernel) mac() string {
	k.nextMAC++
	return fmt.Sprintf("02:00:00:00:%02x:%02x", k.nextMAC/256, k.nextMAC%256)
}

func (k *Kernel) addLink(l netconf.Link) {
	k.st.Links = append(k.st.Links, l)
	slices.SortFunc(k.st.Links, func(a, b netconf.Link) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	k.st.IPv6Sysctls[l.Name] = map[string]string{"disable_ipv6": "0", "accept_ra": "1", "autoconf": "1"}
	if l.Kind == netconf.KindBridge {
		k.st.BridgeOpts[l.Name] = map[string]string{"stp_state": "0"}
	}
}

func (k *Kernel) link(name string) (*netconf.Link, error) {
	l, ok := k.st.Link(name)
	if !ok {
		return nil, fmt.Errorf("%s: no such device", name)
	}
	return l, nil
}

// Clone is a deep copy of the state, for before/after comparisons and
// for readers that keep what they read while the kernel changes.
func (k *Kernel) Clone() *netconf.State {
	st := &netconf.State{Routes: slices.Clone(k.st.Routes), Rules: slices.Clone(k.st.Rules),
		IPv6Sysctls: map[string]map[string]string{}, BridgeOpts: map[string]map[string]string{}}
	for _, l := range k.st.Links {
		c := l
		c.Addrs = slices.Clone(l.Addrs)
		if l.Bond != nil {
			b := *l.Bond
			b.Options, b.Slaves = slices.Clone(l.Bond.Options), slices.Clone(l.Bond.Slaves)
			c.Bond = &b
		}
		if l.VLAN != nil {
			v := *l.VLAN
			c.VLAN = &v
		}
		st.Links = append(st.Links, c)
	}
	for n, m := range k.st.IPv6Sysctls {
		st.IPv6Sysctls[n] = maps.Clone(m)
	}
	for n, m := range k.st.BridgeOpts {
		st.BridgeOpts[n] = maps.Clone(m)
	}
	return st
}

// Apply runs a plan and stops at the first step the kernel refuses; it
// returns how many steps it made.
func (k *Kernel) Apply(p netconf.Plan) (int, error) {
	for i, s := range p {
		if err := k.Step(s); err != nil {
			return i, fmt.Errorf("step %d %q: %w", i+1, s, err)
		}
	}
	return len(p), nil
}

// Step makes one step, or refuses it as Linux would.
func (k *Kernel) Step(s netconf.Step) error {
	switch s.Op {
	case netconf.OpLinkAdd:
		return k.linkAdd(s.Device)
	case netconf.OpLinkDel:
		return k.linkDel(s.Link)
	case netconf.OpSetMaster:
		return k.setMaster(s.Link, s.Master)
	case netconf.OpNoMaster:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		k.release(l)
		return nil
	case netconf.OpSetMTU:
		return k.setMTU(s.Link, s.MTU)
	case netconf.OpSetMAC:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		l.MAC = s.Device.MAC
		return nil
	case netconf.OpSetUp, netconf.OpSetDown:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		if s.Op == netconf.OpSetDown && l.AdminUp {
			k.dropRoutes(s.Link, netip.Prefix{})
		}
		l.AdminUp = s.Op == netconf.OpSetUp
		return nil
	case netconf.OpAddrAdd:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(l.Addrs, func(a netconf.Addr) bool { return a.Prefix == s.Addr }) {
			return fmt.Errorf("address %s exists", s.Addr)
		}
		l.Addrs = append(l.Addrs, netconf.Addr{Prefix: s.Addr, Dynamic: s.ValidLft > 0, ValidLft: s.ValidLft, PreferredLft: s.PreferredLft})
		return nil
	case netconf.OpAddrDel:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(l.Addrs, func(a netconf.Addr) bool { return a.Prefix == s.Addr })
		if i < 0 {
			return fmt.Errorf("address %s absent", s.Addr)
		}
		l.Addrs = slices.Delete(l.Addrs, i, i+1)
		k.dropRoutes(s.Link, s.Addr)
		return nil
	case netconf.OpBondSet:
		return k.bondSet(s)
	case netconf.OpRouteAdd:
		return k.routeAdd(s.Route)
	// Routes and rules take what hostnetd's applier takes
	// (netconf/kernel/apply_linux.go): a route added replaces its like, a
	// route or rule already gone is removed (the kernel drops routes with
	// an address or a link going down), a rule already there is added.
	case netconf.OpRouteDel:
		k.st.Routes = slices.DeleteFunc(k.st.Routes, func(r netconf.Route) bool { return netconf.SameRoute(r, s.Route) })
		return nil
	case netconf.OpRuleAdd:
		if !slices.Contains(k.st.Rules, s.Rule) {
			k.st.Rules = append(k.st.Rules, s.Rule)
		}
		return nil
	case netconf.OpRuleDel:
		k.st.Rules = slices.DeleteFunc(k.st.Rules, func(r netconf.Rule) bool { return r == s.Rule })
		return nil
	case netconf.OpSysctl:
		if _, err := k.link(s.Link); err != nil {
			return err
		}
		k.st.IPv6Sysctls[s.Link][s.Key] = s.Value
		return nil
	case netconf.OpBridgeSet:
		if _, err := k.link(s.Link); err != nil {
			return err
		}
		for key, v := range s.BridgeOpts {
			k.st.BridgeOpts[s.Link][key] = v
		}
		return nil
	}
	return fmt.Errorf("unknown op %s", s.Op)
}

func (k *Kernel) linkAdd(d *netconf.Device) error {
	if _, ok := k.st.Link(d.Name); ok {
		return fmt.Errorf("%s exists", d.Name)
	}
	l := netconf.Link{Name: d.Name, Kind: d.Kind, MTU: d.MTU, MAC: d.MAC}
	switch d.Kind {
	case netconf.KindVLAN:
		base, err := k.link(d.VLAN.Base)
		if err != nil {
			return err
		}
		if d.MTU > base.MTU {
			return fmt.Errorf("VLAN %s mtu %d above its base's %d", d.Name, d.MTU, base.MTU)
		}
		v := *d.VLAN
		l.VLAN = &v
		if l.MAC == "" {
			l.MAC = base.MAC
		}
	case netconf.KindBond:
		// The kernel reports every option, at its default unless given.
		var opts []netconf.BondOption
		for m := netconf.BondBalanceRR; m <= netconf.BondBalanceALB; m++ {
			for _, o := range netconf.BondDefaults(m) {
				if _, ok := netconf.BondOptionValue(opts, o.Name); !ok {
					setOption(&opts, o)
				}
			}
		}
		for _, o := range netconf.BondDefaults(d.Bond.Mode) {
			setOption(&opts, o)
		}
		for _, o := range d.Bond.Options {
			setOption(&opts, o)
		}
		l.Bond = &netconf.Bond{Mode: d.Bond.Mode, Options: opts}
	}
	if l.MAC == "" {
		l.MAC = k.mac()
	}
	k.addLink(l)
	if d.Kind == netconf.KindBridge {
		for key, v := range d.BridgeOpts {
			k.st.BridgeOpts[d.Name][key] = v
		}
	}
	return nil
}

func (k *Kernel) linkDel(name string) error {
	l, err := k.link(name)
	if err != nil {
		return err
	}
	if l.Kind == netconf.KindDevice || l.Kind == netconf.KindVeth {
		return fmt.Errorf("%s is a NIC", name)
	}
	k.release(l)
	for _, other := range slices.Clone(k.st.Links) {
		if other.VLAN != nil && other.VLAN.Base == name {
			if err := k.linkDel(other.Name); err != nil {
				return err
			}
		}
	}
	for i := range k.st.Links {
		if p := &k.st.Links[i]; p.Master == name {
			k.release(p)
		}
	}
	k.dropRoutes(name, netip.Prefix{})
	i := slices.IndexFunc(k.st.Links, func(x netconf.Link) bool { return x.Name == name })
	k.st.Links = slices.Delete(k.st.Links, i, i+1)
	delete(k.st.IPv6Sysctls, name)
	delete(k.st.BridgeOpts, name)
	return nil
}

// release takes a link out of its master; a bond closes the slave it lets go.
func (k *Kernel) release(l *netconf.Link) {
	if l.Master == "" {
		return
	}
	if m, ok := k.st.Link(l.Master); ok && m.Bond != nil {
		m.Bond.Slaves = slices.DeleteFunc(m.Bond.Slaves, func(s string) bool { return s == l.Name })
		l.AdminUp = false
		k.dropRoutes(l.Name, netip.Prefix{})
	}
	l.Master = ""
}

func (k *Kernel) setMaster(name, master string) error {
	l, err := k.link(name)
	if err != nil {
		return err
	}
	m, err := k.link(master)
	if err != nil {
		return err
	}
	if l.Master == master {
		return nil
	}
	k.release(l)
	switch m.Kind {
	case netconf.KindBond:
		if l.AdminUp {
			return fmt.Errorf("%s is up: it cannot be enslaved to %s", name, master)
		}
		if l.Kind != netconf.KindDevice && l.Kind != netconf.KindVeth {
			return fmt.Errorf("%s is a %s", name, l.Kind)
		}
		if slices.ContainsFunc(k.st.Links, func(x netconf.Link) bool { return x.VLAN != nil && x.VLAN.Base == name }) {
			// Linux takes it, but the VLAN then rides on a slave.
			return fmt.Errorf("%s carries a VLAN device", name)
		}
		m.Bond.Slaves = append(m.Bond.Slaves, name)
		slices.Sort(m.Bond.Slaves)
		l.MTU = m.MTU
		l.AdminUp = true // the bond opens its slave
	case netconf.KindBridge:
	default:
		return fmt.Errorf("%s is a %s, not a master", master, m.Kind)
	}
	l.Master = master
	return nil
}

func (k *Kernel) setMTU(name string, mtu int) error {
	l, err := k.link(name)
	if err != nil {
		return err
	}
	if l.VLAN != nil {
		if base, ok := k.st.Link(l.VLAN.Base); ok && mtu > base.MTU {
			return fmt.Errorf("VLAN %s mtu %d above its base's %d", name, mtu, base.MTU)
		}
	}
	if m, ok := k.st.Link(l.Master); ok && m.Bond != nil && mtu != m.MTU {
		return fmt.Errorf("%s is a slave of %s: its MTU follows the bond", name, m.Name)
	}
	l.MTU = mtu
	for i := range k.st.Links {
		o := &k.st.Links[i]
		switch {
		case l.Bond != nil && o.Master == name:
			o.MTU = mtu
		case o.VLAN != nil && o.VLAN.Base == name && o.MTU > mtu:
			o.MTU = mtu // the kernel clamps a VLAN to its base
		}
	}
	return nil
}

func (k *Kernel) bondSet(s netconf.Step) error {
	l, err := k.link(s.Link)
	if err != nil {
		return err
	}
	if l.Bond == nil {
		return fmt.Errorf("%s is not a bond", s.Link)
	}
	if s.SetMode {
		if len(l.Bond.Slaves) > 0 || l.AdminUp {
			return fmt.Errorf("%s: the mode changes only down and without slaves", s.Link)
		}
		l.Bond.Mode = s.Device.Bond.Mode
	}
	for _, o := range s.Options {
		if spec, ok := netconf.LookupBondOption(o.Name); ok && spec.NoSlaves && len(l.Bond.Slaves) > 0 {
			return fmt.Errorf("%s: %s changes only without slaves", s.Link, o.Name)
		}
		if spec, ok := netconf.LookupBondOption(o.Name); ok && spec.DownOnly && l.AdminUp {
			return fmt.Errorf("%s: %s changes only down", s.Link, o.Name)
		}
		setOption(&l.Bond.Options, o)
	}
	return nil
}

// setOption sets an option as the kernel reports it back: in its own
// notation, and not at all when empty (arp_ip_target, primary).
func setOption(opts *[]netconf.BondOption, o netconf.BondOption) {
	if spec, ok := netconf.LookupBondOption(o.Name); ok {
		if v, ok := spec.Normalize(o.Value); ok {
			o.Value = v
		}
	}
	i := slices.IndexFunc(*opts, func(x netconf.BondOption) bool { return x.Name == o.Name })
	switch {
	case o.Value == "" && i >= 0:
		*opts = slices.Delete(*opts, i, i+1)
	case o.Value == "":
	case i < 0:
		*opts = append(*opts, o)
	default:
		(*opts)[i] = o
	}
}

func (k *Kernel) routeAdd(r netconf.Route) error {
	l, err := k.link(r.Link)
	if err != nil {
		return err
	}
	if !l.AdminUp {
		return fmt.Errorf("route %s: %s is down", describeRoute(r), r.Link)
	}
	if r.Gateway.IsValid() && r.Gateway.Is4() && !slices.ContainsFunc(l.Addrs, func(a netconf.Addr) bool { return a.Prefix.Contains(r.Gateway) }) {
		return fmt.Errorf("route %s: gateway unreachable", describeRoute(r))
	}
	k.st.Routes = slices.DeleteFunc(k.st.Routes, func(x netconf.Route) bool { return netconf.SameRoute(x, r) })
	k.st.Routes = append(k.st.Routes, r)
	return nil
}

// dropRoutes removes the routes through a link that the kernel flushes:
// all of them when the link goes down (zero prefix), else those through the
// subnet of a removed address.
func (k *Kernel) dropRoutes(link string, removed netip.Prefix) {
	k.st.Routes = slices.DeleteFunc(k.st.Routes, func(r netconf.Route) bool {
		if r.Link != link {
			return false
		}
		if !removed.IsValid() {
			return true
		}
		subnet := removed.Masked()
		return r.Dst == subnet || r.Gateway.IsValid() && subnet.Contains(r.Gateway)
	})
}

// describeRoute names a route in the kernel's refusals.
func describeRoute(r netconf.Route) string {
	out := r.Dst.String()
	if r.Gateway.IsValid() {
		out += " via " + r.Gateway.String()
	}
	return out + " dev " + r.Link
}

// State is the kernel's state itself, not a copy: callers read it and must
// not keep it across a step.
func (k *Kernel) State() *netconf.State { return k.st }

// Image is the state's dump plus what the dump leaves out and a rollback
// restores: IPv6 settings and bridge options. Two images are equal when a
// rollback restored the kernel exactly.
func Image(st *netconf.State) string {
	var b strings.Builder
	b.WriteString(st.Dump())
	for _, l := range st.Links {
		fmt.Fprintf(&b, "%s sysctl %v bridge %v\n", l.Name, st.IPv6Sysctls[l.Name], st.BridgeOpts[l.Name])
	}
	return b.String()
}
