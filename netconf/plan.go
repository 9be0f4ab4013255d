package netconf

import (
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
)

// Op is one kind of kernel operation.
type Op string

// The operations a plan is made of.
const (
	OpLinkAdd   Op = "link-add"
	OpLinkDel   Op = "link-del"
	OpSetMaster Op = "set-master"
	OpNoMaster  Op = "no-master"
	OpSetMTU    Op = "set-mtu"
	OpSetUp     Op = "set-up"
	OpSetDown   Op = "set-down"
	OpAddrAdd   Op = "addr-add"
	OpAddrDel   Op = "addr-del"
	OpBondSet   Op = "bond-set"
	OpRouteAdd  Op = "route-add"
	OpRouteDel  Op = "route-del"
	OpRuleAdd   Op = "rule-add"
	OpRuleDel   Op = "rule-del"
	OpSysctl    Op = "sysctl"
	OpBridgeSet Op = "bridge-set"
	OpSetMAC    Op = "set-mac"
	// ethtool settings of a device, one section of ethtool_opts each.
	OpEthtoolFeatures Op = "ethtool-features"
	OpEthtoolRing     Op = "ethtool-ring"
	OpEthtoolCoalesce Op = "ethtool-coalesce"
	OpEthtoolPause    Op = "ethtool-pause"
	// host network QoS: the HFSC root qdisc, its classes, their queues
	// and the filters of a NIC or bond.
	OpQoSRootAdd     Op = "qos-root-add"
	OpQoSRootDel     Op = "qos-root-del"
	OpQoSClassAdd    Op = "qos-class-add"
	OpQoSClassChange Op = "qos-class-change"
	OpQoSClassDel    Op = "qos-class-del"
	OpQoSLeafAdd     Op = "qos-leaf-add"
	OpQoSFilterAdd   Op = "qos-filter-add"
	OpQoSFilterDel   Op = "qos-filter-del"
)

// Step is one kernel write.
type Step struct {
	Op     Op
	Link   string
	Device *Device      // link-add: what to create; bond-set: the bond's mode and options
	Master string       // set-master
	MTU    int          // set-mtu
	Addr   netip.Prefix // addr-add, addr-del
	// ValidLft and PreferredLft restore a dynamic address's lifetimes
	// (addr-add); zero means permanent.
	ValidLft, PreferredLft uint32
	// Options are the bond options a bond-set writes, with the mode only
	// when SetMode: the kernel refuses a mode write on a bond with slaves
	// even when the mode does not change.
	Options []BondOption
	SetMode bool
	Route   Route // route-add, route-del
	Rule    Rule  // rule-add, rule-del
	// Key and Value are an IPv6 setting of the link (sysctl).
	Key, Value string
	// BridgeOpts are the bridge options a bridge-set writes.
	BridgeOpts map[string]string
	// Ethtool are the settings an ethtool-* step writes: only its own
	// section is set.
	Ethtool *EthtoolSettings
	// Class and Filter are what a qos-* step writes.
	Class  *QoSClass  `json:",omitempty"`
	Filter *QoSFilter `json:",omitempty"`
}

// String renders the step as the ip(8) (or sysctl, or ethtool) command that
// does the same.
func (s Step) String() string {
	switch s.Op {
	case OpLinkAdd:
		return "ip link add " + describeDevice(s.Device)
	case OpLinkDel:
		return "ip link del " + s.Link
	case OpSetMaster:
		return fmt.Sprintf("ip link set %s master %s", s.Link, s.Master)
	case OpNoMaster:
		return fmt.Sprintf("ip link set %s nomaster", s.Link)
	case OpSetMTU:
		return fmt.Sprintf("ip link set %s mtu %d", s.Link, s.MTU)
	case OpSetUp:
		return fmt.Sprintf("ip link set %s up", s.Link)
	case OpSetMAC:
		return fmt.Sprintf("ip link set %s address %s", s.Link, s.Device.MAC)
	case OpSetDown:
		return fmt.Sprintf("ip link set %s down", s.Link)
	case OpAddrAdd:
		if s.ValidLft > 0 {
			return fmt.Sprintf("ip addr add %s dev %s valid_lft %d preferred_lft %d", s.Addr, s.Link, s.ValidLft, s.PreferredLft)
		}
		return fmt.Sprintf("ip addr add %s dev %s", s.Addr, s.Link)
	case OpRouteAdd, OpRouteDel:
		verb := "add"
		if s.Op == OpRouteDel {
			verb = "del"
		}
		return fmt.Sprintf("ip route %s %s", verb, describeRoute(s.Route))
	case OpSysctl:
		return fmt.Sprintf("sysctl -w net.ipv6.conf.%s.%s=%s", s.Link, s.Key, s.Value)
	case OpBridgeSet:
		var b strings.Builder
		fmt.Fprintf(&b, "ip link set %s type bridge", s.Link)
		for _, k := range slices.Sorted(maps.Keys(s.BridgeOpts)) {
			fmt.Fprintf(&b, " %s %s", k, s.BridgeOpts[k])
		}
		return b.String()
	case OpRuleAdd, OpRuleDel:
		verb := "add"
		if s.Op == OpRuleDel {
			verb = "del"
		}
		return fmt.Sprintf("ip rule %s %s", verb, describeRule(s.Rule))
	case OpAddrDel:
		return fmt.Sprintf("ip addr del %s dev %s", s.Addr, s.Link)
	case OpEthtoolFeatures, OpEthtoolRing, OpEthtoolCoalesce, OpEthtoolPause:
		if cmds := s.Ethtool.Commands(s.Link); len(cmds) == 1 {
			return cmds[0]
		}
	case OpQoSRootAdd, OpQoSRootDel, OpQoSClassAdd, OpQoSClassChange, OpQoSClassDel, OpQoSLeafAdd, OpQoSFilterAdd, OpQoSFilterDel:
		return describeQoSStep(s)
	case OpBondSet:
		var b strings.Builder
		fmt.Fprintf(&b, "ip link set %s type bond", s.Link)
		if s.SetMode {
			fmt.Fprintf(&b, " mode %s", s.Device.Bond.Mode)
		}
		for _, o := range s.Options {
			v := o.Value
			if v == "" {
				v = `""`
			}
			fmt.Fprintf(&b, " %s %s", o.Name, v)
		}
		return b.String()
	}
	return string(s.Op) + " " + s.Link
}

func describeRoute(r Route) string {
	out := r.Dst.String()
	if r.Dst.Bits() == 0 {
		out = "default"
	}
	if r.Gateway.IsValid() {
		out += " via " + r.Gateway.String()
	}
	out += " dev " + r.Link
	if r.Table != MainTable && r.Table != 0 {
		out += fmt.Sprintf(" table %d", r.Table)
	}
	if r.Metric != 0 {
		out += fmt.Sprintf(" metric %d", r.Metric)
	}
	return out
}

func describeRule(r Rule) string {
	out := fmt.Sprintf("priority %d", r.Priority)
	if r.Src.IsValid() {
		out += " from " + r.Src.String()
	}
	if r.Dst.IsValid() {
		out += " to " + r.Dst.String()
	}
	return out + fmt.Sprintf(" lookup %d", r.Table)
}

// sameRoute compares what configuration sets, not what the kernel adds
// (protocol, metric).
func sameRoute(a, b Route) bool {
	return a.Dst == b.Dst && a.Gateway == b.Gateway && a.Link == b.Link && a.Table == b.Table
}

func describeDevice(d *Device) string {
	addr := ""
	if d.MAC != "" {
		addr = " address " + d.MAC
	}
	switch d.Kind {
	case KindBond:
		return fmt.Sprintf("%s%s mtu %d type bond%s", d.Name, addr, d.MTU, bondArgs(d.Bond))
	case KindVLAN:
		return fmt.Sprintf("link %s name %s%s mtu %d type vlan id %d", d.VLAN.Base, d.Name, addr, d.MTU, d.VLAN.ID)
	case KindBridge:
		stp := 0
		if d.STP {
			stp = 1
		}
		return fmt.Sprintf("%s%s mtu %d type bridge stp_state %d", d.Name, addr, d.MTU, stp)
	}
	return d.Name
}

func bondArgs(b *BondConfig) string {
	var s strings.Builder
	fmt.Fprintf(&s, " mode %s", b.Mode)
	for _, o := range b.Options {
		fmt.Fprintf(&s, " %s %s", o.Name, o.Value)
	}
	return s.String()
}

// Plan is the ordered list of kernel writes that turns the kernel into the
// target. An empty plan means the kernel already matches.
type Plan []Step

func (p Plan) String() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// MakePlan computes the plan from the kernel state, the target hostnetd ran
// until now (old: what it owns) and the new target. Teardown runs top-down
// (bridges, VLANs, bonds), construction bottom-up (bonds and their slaves,
// VLANs, bridges, ports, addresses); MTUs rise bottom-up before the devices
// above them need them and fall top-down at the end. Entities that already
// match are not touched.
func MakePlan(cur *State, old, next *Target) Plan { return MakeScopedPlan(cur, old, next, nil) }

// MakeScopedPlan is MakePlan restricted to the named devices (all when
// scope is nil). A request is a delta: a device whose desired state it does
// not change is left alone, even if it drifted from its configuration.
func MakeScopedPlan(cur *State, old, next *Target, scope []string) Plan {
	p := &planner{cur: cur, old: old, next: next,
		cycled: map[string]bool{}, released: map[string]bool{}, downed: map[string]bool{}, addrRemoved: map[string]bool{}, unmastered: map[string]bool{}}
	if scope != nil {
		p.scope = nameSet(CloseScope(scope, old, next))
	}
	p.curRoutes = routeSet(cur.Routes)
	p.curRules = make(map[Rule]bool, len(cur.Rules))
	for _, r := range cur.Rules {
		p.curRules[r] = true
	}
	p.teardown()
	p.build()
	return p.steps
}

// CloseScope adds to a scope the devices enslaved to a device in it (in
// either target): rewriting a bond or re-creating a bridge involves its
// slaves and ports. A nil scope stays nil (everything).
func CloseScope(scope []string, old, next *Target) []string {
	if scope == nil {
		return nil
	}
	out := slices.Clone(scope)
	in := nameSet(out)
	for grew := true; grew; {
		grew = false
		for _, t := range []*Target{old, next} {
			for _, d := range t.Devices {
				if d.Master != "" && in[d.Master] && !in[d.Name] {
					out = append(out, d.Name)
					in[d.Name] = true
					grew = true
				}
			}
		}
	}
	return out
}

// ChangedDevices names the devices whose desired state differs between two
// targets, including those only one of them has.
func ChangedDevices(old, next *Target) []string {
	var names []string
	for _, name := range DeviceNames(old, next) {
		if !reflect.DeepEqual(old.Device(name), next.Device(name)) {
			names = append(names, name)
		}
	}
	return names
}

type planner struct {
	cur       *State
	old, next *Target
	scope     map[string]bool // nil: every device
	steps     Plan
	deleted   map[string]bool
	lowerMTUs Plan
	// ports are the bridge enslavements, made once every device exists;
	// macs restore the MACs of existing bonds and bridges after that.
	ports, macs Plan
	// cycled are links this plan sets down on the way; released are bond
	// slaves it releases to rewrite their bond.
	cycled, released map[string]bool
	// downed are NICs this plan releases from a bond: the kernel closes a
	// slave it releases, so they are down from then on.
	downed map[string]bool
	// unmastered are links this plan releases from their master.
	unmastered map[string]bool
	// addrRemoved are links this plan removes an address from: the kernel
	// drops the routes through its subnet, in every table.
	addrRemoved map[string]bool
	// curRoutes and curRules are the kernel's, for lookups.
	curRoutes map[routeKey]bool
	curRules  map[Rule]bool
	// portsOf are the devices of the new target by master, built on use.
	portsOf map[string][]*Device
}

// routeKey is what sameRoute compares.
type routeKey struct {
	dst   netip.Prefix
	gw    netip.Addr
	link  string
	table int
}

func keyOf(r Route) routeKey { return routeKey{r.Dst, r.Gateway, r.Link, r.Table} }

func routeSet(routes []Route) map[routeKey]bool {
	set := make(map[routeKey]bool, len(routes))
	for _, r := range routes {
		set[keyOf(r)] = true
	}
	return set
}

func (p *planner) add(s Step) {
	p.steps = append(p.steps, s)
	switch s.Op {
	case OpNoMaster:
		p.unmastered[s.Link] = true
		if l, ok := p.cur.Link(s.Link); ok && p.isBond(l.Master) {
			p.downed[s.Link] = true
		}
	case OpLinkDel:
		if p.isBond(s.Link) {
			for _, slave := range p.cur.Ports(s.Link) {
				p.downed[slave] = true
			}
		}
	case OpSetUp:
		delete(p.downed, s.Link)
	case OpAddrDel:
		p.addrRemoved[s.Link] = true
	}
}

func (p *planner) inScope(name string) bool {
	return p.scope == nil || p.scope[name]
}

func (p *planner) isBond(name string) bool {
	l, ok := p.cur.Link(name)
	return ok && l.Kind == KindBond
}

// adminUp is whether a link is up at this point of the plan.
func (p *planner) adminUp(l *Link) bool { return l.AdminUp && !p.downed[l.Name] }

func (p *planner) link(name string) (*Link, bool) {
	if p.deleted[name] {
		return nil, false
	}
	return p.cur.Link(name)
}

// teardown removes created devices the new target no longer has (or has
// as another kind or VLAN) and releases NICs hostnetd no longer manages.
func (p *planner) teardown() {
	p.deleted = map[string]bool{}
	for i := len(p.old.Devices) - 1; i >= 0; i-- {
		d := p.old.Devices[i]
		l, exists := p.cur.Link(d.Name)
		if !exists || d.Kind == KindDevice || !p.inScope(d.Name) {
			continue
		}
		n := p.next.Device(d.Name)
		if n == nil || n.Kind != d.Kind || (n.VLAN != nil && l.VLAN != nil && *n.VLAN != *l.VLAN) {
			p.add(Step{Op: OpLinkDel, Link: d.Name})
			p.deleted[d.Name] = true
		}
	}
	for _, d := range p.old.Devices {
		if d.Kind != KindDevice || p.next.Device(d.Name) != nil || !p.inScope(d.Name) {
			continue
		}
		l, ok := p.link(d.Name)
		if !ok {
			continue
		}
		if l.Master != "" && !p.deleted[l.Master] {
			p.add(Step{Op: OpNoMaster, Link: d.Name})
		}
		p.reset(l, d)
	}
	p.releaseStrayPorts()
}

// releaseStrayPorts takes out of hostnetd's bridges the host interfaces
// that no configuration puts there: a NIC, bond or VLAN device in a VM
// network's bridge carries its traffic. Guest ports (taps) are the VMs'
// and stay.
func (p *planner) releaseStrayPorts() {
	ports := HostPorts(p.cur)
	for _, d := range p.next.Devices {
		if d.Kind != KindBridge || !p.inScope(d.Name) || p.deleted[d.Name] {
			continue
		}
		for _, port := range ports[d.Name] {
			if p.next.Device(port) == nil && p.old.Device(port) == nil && !p.deleted[port] {
				p.add(Step{Op: OpNoMaster, Link: port})
			}
		}
	}
}

// IsHostInterface reports whether a link of this kind is one of the host's
// own interfaces (a NIC, bond or VLAN device), as opposed to a guest's
// port such as a tap device.
func IsHostInterface(k LinkKind) bool {
	switch k {
	case KindDevice, KindVeth, KindDummy, KindBond, KindVLAN:
		return true
	}
	return false
}

// reset gives a NIC leaving hostnetd's management the default MTU, takes
// away the addresses hostnetd put on it, and brings it up again if leaving
// its bond took it down.
func (p *planner) reset(l *Link, d *Device) {
	p.removeRoutes(d.Routes, nil)
	p.dropQoS(l.Name, d)
	p.setSysctls(l.Name, IPv6Defaults)
	if l.MTU != DefaultMTU {
		p.add(Step{Op: OpSetMTU, Link: l.Name, MTU: DefaultMTU})
	}
	if p.downed[l.Name] {
		p.add(Step{Op: OpSetUp, Link: l.Name})
	}
	for _, a := range l.Addrs {
		if slices.Contains(d.Addrs, a.Prefix) {
			p.add(Step{Op: OpAddrDel, Link: l.Name, Addr: a.Prefix})
		}
	}
}

// setSysctls writes the IPv6 settings of a link that differ from the
// kernel's, in a fixed order (disable_ipv6 first: it must be 0 before
// IPv6 addresses can be added). A State whose IPv6Sysctls were not read
// leaves them alone.
func (p *planner) setSysctls(link string, want map[string]string) {
	if p.cur.IPv6Sysctls == nil || want == nil {
		return
	}
	have := p.cur.IPv6Sysctls[link]
	for _, key := range IPv6SysctlKeys {
		if v, ok := want[key]; ok && have[key] != v {
			p.add(Step{Op: OpSysctl, Link: link, Key: key, Value: v})
		}
	}
}

// removeRoutes deletes the routes of old that want lacks and the kernel
// has; the kernel takes a device's routes with it, and with its addresses.
func (p *planner) removeRoutes(old, want []Route) {
	for _, r := range old {
		if slices.ContainsFunc(want, func(w Route) bool { return sameRoute(r, w) }) {
			continue
		}
		if p.curRoutes[keyOf(r)] {
			p.add(Step{Op: OpRouteDel, Link: r.Link, Route: r})
		}
	}
}

// removeRouting runs before any address changes: removing an address makes
// the kernel drop the routes through its subnet, and a new default route
// would replace the main table's old one.
func (p *planner) removeRouting() {
	for _, d := range p.next.Devices {
		if old := p.old.Device(d.Name); old != nil && p.inScope(d.Name) {
			p.removeRoutes(old.Routes, d.Routes)
		}
	}
	want := map[Rule]bool{}
	for _, d := range p.next.Devices {
		for _, r := range d.Rules {
			want[r] = true
		}
	}
	for _, d := range p.old.Devices {
		if !p.inScope(d.Name) {
			continue
		}
		for _, r := range d.Rules {
			if !want[r] && p.curRules[r] {
				p.add(Step{Op: OpRuleDel, Rule: r})
			}
		}
	}
}

// buildRouting adds the routes and rules of the devices in scope that the
// kernel lacks, and all the routes of a device this plan takes down or
// removes an address from, which lose theirs.
func (p *planner) buildRouting() {
	for _, d := range p.next.Devices {
		if !p.inScope(d.Name) {
			continue
		}
		for _, r := range d.Routes {
			if !p.curRoutes[keyOf(r)] || p.cycled[d.Name] || p.downed[d.Name] || p.addrRemoved[d.Name] {
				p.add(Step{Op: OpRouteAdd, Link: d.Name, Route: r})
			}
		}
	}
	for _, d := range p.next.Devices {
		if !p.inScope(d.Name) {
			continue
		}
		for _, r := range d.Rules {
			if !p.curRules[r] {
				p.add(Step{Op: OpRuleAdd, Rule: r})
			}
		}
	}
}

func (p *planner) build() {
	// Bonds exist before their slaves join them, and every device exists
	// before it becomes a bridge port.
	for _, pass := range []func(*Device) bool{
		func(d *Device) bool { return d.Kind == KindDevice && !p.isBondSlave(d) },
		func(d *Device) bool { return d.Kind == KindBond },
		func(d *Device) bool { return d.Kind == KindDevice && p.isBondSlave(d) },
		func(d *Device) bool { return d.Kind == KindVLAN || d.Kind == KindBridge },
	} {
		for _, d := range p.next.Devices {
			if pass(d) && p.inScope(d.Name) {
				p.buildDevice(d)
			}
		}
	}
	p.steps = append(p.steps, p.ports...)
	p.steps = append(p.steps, p.macs...)
	for _, d := range p.next.Devices {
		if p.inScope(d.Name) {
			p.setSysctls(d.Name, d.IPv6Sysctls)
		}
	}
	for _, d := range p.next.Devices {
		if p.inScope(d.Name) {
			p.setEthtool(d)
			p.setQoS(d)
		}
	}
	p.removeRouting()
	for _, d := range p.next.Devices {
		if p.inScope(d.Name) {
			p.buildAddrs(d)
		}
	}
	for _, d := range p.next.Devices {
		if !p.inScope(d.Name) {
			continue
		}
		l, ok := p.link(d.Name)
		if d.Down {
			if ok && p.adminUp(l) { // a device created here starts down
				p.add(Step{Op: OpSetDown, Link: d.Name})
			}
			continue
		}
		if p.isBondSlave(d) || d.Kind == KindDevice && d.Master == "" {
			continue // the bond raises its slaves; buildNIC raised the rest
		}
		if !ok || !p.adminUp(l) || p.cycled[d.Name] {
			p.add(Step{Op: OpSetUp, Link: d.Name})
		}
	}
	for i := len(p.lowerMTUs) - 1; i >= 0; i-- {
		p.add(p.lowerMTUs[i])
	}
	p.buildRouting()
}

func (p *planner) isBondSlave(d *Device) bool {
	m := p.next.Device(d.Master)
	return m != nil && m.Kind == KindBond
}

func (p *planner) buildDevice(d *Device) {
	l, exists := p.link(d.Name)
	switch {
	case d.Kind == KindDevice:
		if exists {
			p.buildNIC(d, l)
		}
	case !exists:
		p.create(d)
	default:
		p.update(d, l)
	}
}

// setMTU raises at once and defers a decrease to the end, top-down.
func (p *planner) setMTU(d *Device, cur int) {
	switch {
	case d.MTU > cur:
		p.add(Step{Op: OpSetMTU, Link: d.Name, MTU: d.MTU})
	case d.MTU < cur:
		p.lowerMTUs = append(p.lowerMTUs, Step{Op: OpSetMTU, Link: d.Name, MTU: d.MTU})
	}
}

func (p *planner) buildNIC(d *Device, l *Link) {
	if d.Master == "" {
		if l.Master != "" && !p.deleted[l.Master] {
			p.add(Step{Op: OpNoMaster, Link: d.Name})
		}
		p.setMTU(d, l.MTU)
		if !p.adminUp(l) && !d.Down {
			p.add(Step{Op: OpSetUp, Link: d.Name})
		}
		return
	}
	master := p.next.Device(d.Master)
	if master != nil && master.Kind == KindBond {
		// A slave follows its bond's MTU; the kernel sets it on enslaving.
		if l.Master != d.Master || p.deleted[l.Master] || p.released[d.Name] {
			attached := l.Master != "" && !p.deleted[l.Master] && !p.released[d.Name]
			p.enslave(l, attached, d.Master)
		}
		return
	}
	p.setMTU(d, l.MTU)
	if !p.adminUp(l) && !d.Down {
		p.add(Step{Op: OpSetUp, Link: d.Name})
	}
	if l.Master != d.Master || p.deleted[l.Master] {
		p.ports = append(p.ports, Step{Op: OpSetMaster, Link: d.Name, Master: d.Master})
	}
}

// enslave puts a NIC into a bond the way the kernel accepts it: released
// from any other master, down, then the master set alone.
func (p *planner) enslave(l *Link, attached bool, bond string) {
	if attached {
		p.add(Step{Op: OpNoMaster, Link: l.Name})
	}
	if p.adminUp(l) {
		p.add(Step{Op: OpSetDown, Link: l.Name})
	}
	p.add(Step{Op: OpSetMaster, Link: l.Name, Master: bond})
}

func (p *planner) create(d *Device) {
	if d.Kind == KindBridge && d.MAC == "" {
		if mac := p.portMAC(d.Name); mac != "" {
			c := *d
			c.MAC = mac
			d = &c
		}
	}
	p.add(Step{Op: OpLinkAdd, Link: d.Name, Device: d})
	if d.Master != "" {
		p.ports = append(p.ports, Step{Op: OpSetMaster, Link: d.Name, Master: d.Master})
	}
}

// portMAC is the MAC a new bridge takes: its port's (a VLAN port has its
// base's). A bridge otherwise takes the lowest port MAC, which changes as
// ports come and go; pinning it keeps the bridge's DHCP lease when a
// network goes from bridgeless to bridged.
func (p *planner) portMAC(bridge string) string {
	if p.portsOf == nil {
		p.portsOf = map[string][]*Device{}
		for _, d := range p.next.Devices {
			if d.Master != "" {
				p.portsOf[d.Master] = append(p.portsOf[d.Master], d)
			}
		}
	}
	for _, d := range p.portsOf[bridge] {
		name := d.Name
		if d.VLAN != nil {
			name = d.VLAN.Base
		}
		if l, ok := p.cur.Link(name); ok {
			return l.MAC
		}
	}
	return ""
}

func (p *planner) update(d *Device, l *Link) {
	if d.Master == "" && l.Master != "" && !p.deleted[l.Master] {
		// A device that leaves its bridge (its network became tagged, or
		// moved to another device) is released, or it would go on
		// carrying the network's untagged traffic.
		p.add(Step{Op: OpNoMaster, Link: d.Name})
	}
	if d.MAC != "" && d.MAC != l.MAC && (d.Kind == KindBond || d.Kind == KindBridge) {
		// A snapshot's MAC (a rollback): a bond that lost its slaves took a
		// random MAC, then its new first slave's. It is set once the
		// slaves are back, and the bond gives it to them.
		p.macs = append(p.macs, Step{Op: OpSetMAC, Link: d.Name, Device: d})
	}
	if d.Kind == KindBond {
		p.updateBond(d, l)
	}
	if d.Kind == KindBridge && p.cur.BridgeOpts != nil {
		changed := map[string]string{}
		for k, v := range d.BridgeOpts {
			if p.cur.BridgeOpts[d.Name][k] != v {
				changed[k] = v
			}
		}
		if len(changed) > 0 {
			p.add(Step{Op: OpBridgeSet, Link: d.Name, BridgeOpts: changed})
		}
	}
	p.setMTU(d, l.MTU)
	if d.Master != l.Master && d.Master != "" {
		p.ports = append(p.ports, Step{Op: OpSetMaster, Link: d.Name, Master: d.Master})
	}
}

// updateBond changes a bond in place. Options the kernel takes live are
// written live; those it takes only while the bond is down (downOnly:
// lacp_rate, ad_select, ...) are written with the bond down; a change of
// mode or of a noSlaves option (fail_over_mac), which the kernel takes only
// without slaves, releases the slaves, rewrites the bond while it is down
// and re-enslaves them in name order.
func (p *planner) updateBond(d *Device, l *Link) {
	if l.Bond == nil {
		return
	}
	want := effectiveOptions(d.Bond)
	changed := changedOptions(want, l.Bond.Options)
	modeChange := l.Bond.Mode != d.Bond.Mode
	switch {
	case modeChange || anyOption(changed, func(o *bondOption) bool { return o.noSlaves }):
		for _, s := range l.Bond.Slaves {
			if !p.unmastered[s] { // teardown released a slave that leaves
				p.add(Step{Op: OpNoMaster, Link: s})
			}
			p.released[s] = true
		}
		p.add(Step{Op: OpSetDown, Link: d.Name})
		p.add(Step{Op: OpBondSet, Link: d.Name, Device: d, SetMode: modeChange, Options: changed})
		p.cycled[d.Name] = true
		return
	case len(changed) == 0:
	case anyOption(changed, func(o *bondOption) bool { return o.downOnly }):
		p.add(Step{Op: OpSetDown, Link: d.Name})
		p.add(Step{Op: OpBondSet, Link: d.Name, Device: d, Options: changed})
		p.cycled[d.Name] = true
	default:
		p.add(Step{Op: OpBondSet, Link: d.Name, Device: d, Options: changed})
	}
	for _, s := range l.Bond.Slaves {
		if !slices.Contains(d.Bond.Slaves, s) {
			p.add(Step{Op: OpNoMaster, Link: s})
		}
	}
}

// anyOption reports whether an option among the changes is of a kind.
func anyOption(changed []BondOption, kind func(*bondOption) bool) bool {
	for _, o := range changed {
		if spec, ok := findBondOption(o.Name); ok && kind(spec) {
			return true
		}
	}
	return false
}

// bondOptionsMatch reports whether every requested option has its value in
// the kernel (compared in canonical form).
func bondOptionsMatch(want, have []BondOption) bool {
	for _, w := range want {
		v, ok := BondOptionValue(have, w.Name)
		if !ok {
			return false
		}
		if spec, known := findBondOption(w.Name); known {
			if nv, ok := spec.normalize(v); ok {
				v = nv
			}
		}
		if v != w.Value {
			return false
		}
	}
	return true
}

// buildAddrs adds the static addresses a device lacks and removes permanent
// global addresses it should not have. A bridge port or bond slave carries
// no address at all.
func (p *planner) buildAddrs(d *Device) {
	l, exists := p.link(d.Name)
	var have []Addr
	if exists {
		have = l.Addrs
	}
	for _, a := range have {
		if a.LinkLocal || slices.Contains(d.Addrs, a.Prefix) || a.Dynamic && d.KeepDynamic && d.Master == "" {
			continue
		}
		p.add(Step{Op: OpAddrDel, Link: d.Name, Addr: a.Prefix})
	}
	present := func(want netip.Prefix) bool {
		return slices.ContainsFunc(have, func(a Addr) bool { return a.Prefix == want })
	}
	for _, want := range d.Addrs {
		if !present(want) {
			p.add(Step{Op: OpAddrAdd, Link: d.Name, Addr: want})
		}
	}
	for _, want := range d.DynAddrs {
		if !present(want.Prefix) {
			p.add(Step{Op: OpAddrAdd, Link: d.Name, Addr: want.Prefix, ValidLft: want.ValidLft, PreferredLft: want.PreferredLft})
		}
	}
}

// setEthtool writes the ethtool settings of a device that differ from the
// kernel's, one step per section (-K, -G, -C, -A). A State whose ethtool
// settings were not read leaves them alone; a device the State lacks (one
// this plan creates) gets them all.
func (p *planner) setEthtool(d *Device) {
	if d.Ethtool.Empty() || p.cur.Ethtool == nil {
		return
	}
	ch := EthtoolChanges(d.Ethtool, p.cur.Ethtool[d.Name])
	if ch == nil {
		return
	}
	if len(ch.Features) > 0 {
		p.add(Step{Op: OpEthtoolFeatures, Link: d.Name, Ethtool: &EthtoolSettings{Features: ch.Features}})
	}
	if len(ch.Ring) > 0 {
		p.add(Step{Op: OpEthtoolRing, Link: d.Name, Ethtool: &EthtoolSettings{Ring: ch.Ring}})
	}
	if len(ch.Coalesce) > 0 {
		p.add(Step{Op: OpEthtoolCoalesce, Link: d.Name, Ethtool: &EthtoolSettings{Coalesce: ch.Coalesce}})
	}
	if len(ch.Pause) > 0 {
		p.add(Step{Op: OpEthtoolPause, Link: d.Name, Ethtool: &EthtoolSettings{Pause: ch.Pause}})
	}
}
