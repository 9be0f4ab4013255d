package netconf

import (
	"fmt"
	"net/netip"
	"slices"
)

// simKernel applies plan steps to a State the way Linux does to the links
// it models, and refuses what Linux refuses: enslaving an up NIC to a bond,
// a VLAN above its base's MTU, a bond mode change with slaves or while up,
// a gateway route with no address on its subnet. It lets the planner be
// checked against a kernel in a unit test; the VM model test
// (test/integration) checks the same against Linux itself.
type simKernel struct {
	st      *State
	nextMAC int
}

func newSimKernel(nics ...string) *simKernel {
	k := &simKernel{st: &State{IPv6Sysctls: map[string]map[string]string{}, BridgeOpts: map[string]map[string]string{}}}
	for _, n := range nics {
		k.addLink(Link{Name: n, Kind: KindVeth, MTU: DefaultMTU, AdminUp: true, OperState: OperUp, MAC: k.mac()})
	}
	return k
}

func (k *simKernel) mac() string {
	k.nextMAC++
	return fmt.Sprintf("02:00:00:00:%02x:%02x", k.nextMAC/256, k.nextMAC%256)
}

func (k *simKernel) addLink(l Link) {
	k.st.Links = append(k.st.Links, l)
	slices.SortFunc(k.st.Links, func(a, b Link) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	k.st.IPv6Sysctls[l.Name] = map[string]string{"disable_ipv6": "0", "accept_ra": "1", "autoconf": "1"}
	if l.Kind == KindBridge {
		k.st.BridgeOpts[l.Name] = map[string]string{"stp_state": "0"}
	}
}

func (k *simKernel) link(name string) (*Link, error) {
	l, ok := k.st.Link(name)
	if !ok {
		return nil, fmt.Errorf("%s: no such device", name)
	}
	return l, nil
}

// clone is a deep copy of the state, for before/after comparisons.
func (k *simKernel) clone() *State {
	st := &State{Routes: slices.Clone(k.st.Routes), Rules: slices.Clone(k.st.Rules),
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
		st.IPv6Sysctls[n] = cloneMap(m)
	}
	for n, m := range k.st.BridgeOpts {
		st.BridgeOpts[n] = cloneMap(m)
	}
	return st
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// apply runs a plan and stops at the first step the kernel refuses.
func (k *simKernel) apply(p Plan) (int, error) {
	for i, s := range p {
		if err := k.step(s); err != nil {
			return i, fmt.Errorf("step %d %q: %w", i+1, s, err)
		}
	}
	return len(p), nil
}

func (k *simKernel) step(s Step) error {
	switch s.Op {
	case OpLinkAdd:
		return k.linkAdd(s.Device)
	case OpLinkDel:
		return k.linkDel(s.Link)
	case OpSetMaster:
		return k.setMaster(s.Link, s.Master)
	case OpNoMaster:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		k.release(l)
		return nil
	case OpSetMTU:
		return k.setMTU(s.Link, s.MTU)
	case OpSetMAC:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		l.MAC = s.Device.MAC
		return nil
	case OpSetUp, OpSetDown:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		if s.Op == OpSetDown && l.AdminUp {
			k.dropRoutes(s.Link, netip.Prefix{})
		}
		l.AdminUp = s.Op == OpSetUp
		return nil
	case OpAddrAdd:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(l.Addrs, func(a Addr) bool { return a.Prefix == s.Addr }) {
			return fmt.Errorf("address %s exists", s.Addr)
		}
		l.Addrs = append(l.Addrs, Addr{Prefix: s.Addr, Dynamic: s.ValidLft > 0, ValidLft: s.ValidLft, PreferredLft: s.PreferredLft})
		return nil
	case OpAddrDel:
		l, err := k.link(s.Link)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(l.Addrs, func(a Addr) bool { return a.Prefix == s.Addr })
		if i < 0 {
			return fmt.Errorf("address %s absent", s.Addr)
		}
		l.Addrs = slices.Delete(l.Addrs, i, i+1)
		k.dropRoutes(s.Link, s.Addr)
		return nil
	case OpBondSet:
		return k.bondSet(s)
	case OpRouteAdd:
		return k.routeAdd(s.Route)
	case OpRouteDel:
		i := slices.IndexFunc(k.st.Routes, func(r Route) bool { return sameRoute(r, s.Route) })
		if i < 0 {
			return fmt.Errorf("route %s absent", describeRoute(s.Route))
		}
		k.st.Routes = slices.Delete(k.st.Routes, i, i+1)
		return nil
	case OpRuleAdd:
		if slices.Contains(k.st.Rules, s.Rule) {
			return fmt.Errorf("rule exists")
		}
		k.st.Rules = append(k.st.Rules, s.Rule)
		return nil
	case OpRuleDel:
		i := slices.Index(k.st.Rules, s.Rule)
		if i < 0 {
			return fmt.Errorf("rule absent")
		}
		k.st.Rules = slices.Delete(k.st.Rules, i, i+1)
		return nil
	case OpSysctl:
		if _, err := k.link(s.Link); err != nil {
			return err
		}
		k.st.IPv6Sysctls[s.Link][s.Key] = s.Value
		return nil
	case OpBridgeSet:
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

func (k *simKernel) linkAdd(d *Device) error {
	if _, ok := k.st.Link(d.Name); ok {
		return fmt.Errorf("%s exists", d.Name)
	}
	l := Link{Name: d.Name, Kind: d.Kind, MTU: d.MTU, MAC: d.MAC}
	switch d.Kind {
	case KindVLAN:
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
	case KindBond:
		// The kernel reports every option, at its default unless given.
		var opts []BondOption
		for m := BondBalanceRR; m <= BondBalanceALB; m++ {
			for _, o := range bondDefaults(m) {
				if _, ok := BondOptionValue(opts, o.Name); !ok {
					setOption(&opts, o)
				}
			}
		}
		for _, o := range bondDefaults(d.Bond.Mode) {
			setOption(&opts, o)
		}
		for _, o := range d.Bond.Options {
			setOption(&opts, o)
		}
		l.Bond = &Bond{Mode: d.Bond.Mode, Options: opts}
	}
	if l.MAC == "" {
		l.MAC = k.mac()
	}
	k.addLink(l)
	if d.Kind == KindBridge {
		for key, v := range d.BridgeOpts {
			k.st.BridgeOpts[d.Name][key] = v
		}
	}
	return nil
}

func (k *simKernel) linkDel(name string) error {
	l, err := k.link(name)
	if err != nil {
		return err
	}
	if l.Kind == KindDevice || l.Kind == KindVeth {
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
	i := slices.IndexFunc(k.st.Links, func(x Link) bool { return x.Name == name })
	k.st.Links = slices.Delete(k.st.Links, i, i+1)
	delete(k.st.IPv6Sysctls, name)
	delete(k.st.BridgeOpts, name)
	return nil
}

// release takes a link out of its master; a bond closes the slave it lets go.
func (k *simKernel) release(l *Link) {
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

func (k *simKernel) setMaster(name, master string) error {
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
	case KindBond:
		if l.AdminUp {
			return fmt.Errorf("%s is up: it cannot be enslaved to %s", name, master)
		}
		if l.Kind != KindDevice && l.Kind != KindVeth {
			return fmt.Errorf("%s is a %s", name, l.Kind)
		}
		if slices.ContainsFunc(k.st.Links, func(x Link) bool { return x.VLAN != nil && x.VLAN.Base == name }) {
			// Linux takes it, but the VLAN then rides on a slave.
			return fmt.Errorf("%s carries a VLAN device", name)
		}
		m.Bond.Slaves = append(m.Bond.Slaves, name)
		slices.Sort(m.Bond.Slaves)
		l.MTU = m.MTU
		l.AdminUp = true // the bond opens its slave
	case KindBridge:
	default:
		return fmt.Errorf("%s is a %s, not a master", master, m.Kind)
	}
	l.Master = master
	return nil
}

func (k *simKernel) setMTU(name string, mtu int) error {
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

func (k *simKernel) bondSet(s Step) error {
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
		if spec, ok := findBondOption(o.Name); ok && spec.noSlaves && len(l.Bond.Slaves) > 0 {
			return fmt.Errorf("%s: %s changes only without slaves", s.Link, o.Name)
		}
		if spec, ok := findBondOption(o.Name); ok && spec.downOnly && l.AdminUp {
			return fmt.Errorf("%s: %s changes only down", s.Link, o.Name)
		}
		setOption(&l.Bond.Options, o)
	}
	return nil
}

// setOption sets an option as the kernel reports it back: in its own
// notation, and not at all when empty (arp_ip_target, primary).
func setOption(opts *[]BondOption, o BondOption) {
	if spec, ok := findBondOption(o.Name); ok {
		if v, ok := spec.normalize(o.Value); ok {
			o.Value = v
		}
	}
	i := slices.IndexFunc(*opts, func(x BondOption) bool { return x.Name == o.Name })
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

func (k *simKernel) routeAdd(r Route) error {
	l, err := k.link(r.Link)
	if err != nil {
		return err
	}
	if !l.AdminUp {
		return fmt.Errorf("route %s: %s is down", describeRoute(r), r.Link)
	}
	if r.Gateway.IsValid() && r.Gateway.Is4() && !slices.ContainsFunc(l.Addrs, func(a Addr) bool { return a.Prefix.Contains(r.Gateway) }) {
		return fmt.Errorf("route %s: gateway unreachable", describeRoute(r))
	}
	if slices.ContainsFunc(k.st.Routes, func(x Route) bool { return sameRoute(x, r) }) {
		return fmt.Errorf("route %s exists", describeRoute(r))
	}
	k.st.Routes = append(k.st.Routes, r)
	return nil
}

// dropRoutes removes the routes through a link that the kernel flushes:
// all of them when the link goes down (zero prefix), else those through the
// subnet of a removed address.
func (k *simKernel) dropRoutes(link string, removed netip.Prefix) {
	k.st.Routes = slices.DeleteFunc(k.st.Routes, func(r Route) bool {
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

func vidOf(n int) *int { return &n }
