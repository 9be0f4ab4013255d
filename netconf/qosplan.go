package netconf

import (
	"fmt"
	"slices"
	"strconv"
)

// addQoS gives every NIC or bond that carries a network with a host network
// QoS its HFSC classes, as VDSM lays them out: a class per network (its
// VLAN id, or the default class for an untagged network), the default
// class (when no untagged network has it) with the link share of the
// network with the lowest VLAN id, a filter per VLAN, and the filter that
// sends every other frame to the default class.
func addQoS(t *Target, cfg *Config, netByID map[string]*Network) {
	byNic := map[string]*DeviceQoS{}
	var nics []string
	for _, a := range cfg.Attachments {
		net := netByID[a.NetworkID]
		if net == nil {
			continue
		}
		q := EffectiveQoS(a, net)
		if q == nil {
			continue
		}
		dq := byNic[a.Nic]
		if dq == nil {
			dq = &DeviceQoS{}
			byNic[a.Nic] = dq
			nics = append(nics, a.Nic)
		}
		id := QoSClassID(net)
		dq.Classes = append(dq.Classes, qosClass(id, q))
		if net.VLAN != nil {
			dq.Filters = append(dq.Filters, QoSFilter{Pref: id, VLAN: int(id), Class: id})
		}
	}
	for _, nic := range nics {
		dq := byNic[nic]
		slices.SortFunc(dq.Classes, func(a, b QoSClass) int { return int(a.ID) - int(b.ID) })
		if !slices.ContainsFunc(dq.Classes, func(c QoSClass) bool { return c.ID == QoSDefaultClass }) {
			dq.Classes = append(dq.Classes, QoSClass{ID: QoSDefaultClass, LS: dq.Classes[0].LS, Leaf: QoSLeafKind})
		}
		dq.Filters = append(dq.Filters, QoSFilter{Pref: QoSDefaultClass, VLAN: QoSMatchAll, Class: QoSDefaultClass})
		slices.SortFunc(dq.Filters, func(a, b QoSFilter) int { return int(a.Pref) - int(b.Pref) })
		if d := t.byName[nic]; d != nil {
			d.QoS = dq
		}
	}
}

// QoSDevices names the devices of the targets whose traffic control
// hostnetd manages (a QoS, or none where it had one): those a plan, a
// verification or a rollback needs read.
func QoSDevices(targets ...*Target) []string {
	var names []string
	for _, t := range targets {
		if t == nil {
			continue
		}
		for _, d := range t.Devices {
			if d.QoS != nil && !slices.Contains(names, d.Name) {
				names = append(names, d.Name)
			}
		}
	}
	return names
}

// wantedQoS is what a device of next should have: its QoS, none where the
// old target had some (its last shaped network left), or nil: leave it.
func wantedQoS(old, d *Device) *DeviceQoS {
	if d.QoS != nil {
		return d.QoS
	}
	if old != nil && !old.QoS.Empty() {
		return &DeviceQoS{}
	}
	return nil
}

// setQoS writes the traffic control of a device that differs from the
// kernel's. A State whose QoS was not read leaves it alone.
func (p *planner) setQoS(d *Device) {
	if p.cur.QoS == nil {
		return
	}
	want := wantedQoS(p.old.Device(d.Name), d)
	if want == nil {
		return
	}
	var have *QoSState
	if !p.deleted[d.Name] { // a device made again starts with the default
		have = p.cur.QoS[d.Name]
	}
	for _, s := range QoSSteps(d.Name, want, have) {
		p.add(s)
	}
}

// dropQoS removes hostnetd's shaping from a NIC leaving its management.
func (p *planner) dropQoS(name string, old *Device) {
	if p.cur.QoS == nil || old.QoS.Empty() || !p.cur.QoS[name].Ours() {
		return
	}
	p.add(Step{Op: OpQoSRootDel, Link: name})
}

// QoSSteps are the writes that give dev the shaping want from have: the
// root qdisc replaced when it is not hostnetd's, otherwise classes and
// filters changed one by one: filters leave before their class (the
// kernel refuses to delete a class a filter points to), a class whose
// curves come or go is made again, and new filters come after their class.
func QoSSteps(dev string, want *DeviceQoS, have *QoSState) Plan {
	var p Plan
	if want.Empty() {
		if have.Ours() {
			p = append(p, Step{Op: OpQoSRootDel, Link: dev})
		}
		return p
	}
	if !have.Ours() || have.DefaultClass != QoSDefaultClass {
		if have.Ours() {
			p = append(p, Step{Op: OpQoSRootDel, Link: dev})
		}
		p = append(p, Step{Op: OpQoSRootAdd, Link: dev})
		for _, c := range want.Classes {
			p = append(p, classAddSteps(dev, c)...)
		}
		for _, f := range want.Filters {
			p = append(p, Step{Op: OpQoSFilterAdd, Link: dev, Filter: &f})
		}
		return p
	}
	haveC := map[uint16]QoSClass{}
	for _, c := range have.Classes {
		haveC[c.ID] = c
	}
	wantC := map[uint16]QoSClass{}
	remade := map[uint16]bool{}
	var changes, adds Plan
	for _, c := range want.Classes {
		wantC[c.ID] = c
		h, ok := haveC[c.ID]
		switch {
		case !ok:
			adds = append(adds, classAddSteps(dev, c)...)
		case h == c:
		case sameCurves(h, c) && h.Leaf == c.Leaf:
			changes = append(changes, Step{Op: OpQoSClassChange, Link: dev, Class: &c})
		default:
			remade[c.ID] = true
			adds = append(adds, classAddSteps(dev, c)...)
		}
	}
	wantF := map[uint16]QoSFilter{}
	for _, f := range want.Filters {
		wantF[f.Pref] = f
	}
	kept := map[uint16]bool{}
	for _, f := range have.Filters {
		_, classKept := wantC[f.Class]
		if w, ok := wantF[f.Pref]; ok && w == f && classKept && !remade[f.Class] {
			kept[f.Pref] = true
			continue
		}
		p = append(p, Step{Op: OpQoSFilterDel, Link: dev, Filter: &f})
	}
	for _, h := range have.Classes {
		if _, ok := wantC[h.ID]; !ok || remade[h.ID] {
			p = append(p, Step{Op: OpQoSClassDel, Link: dev, Class: &h})
		}
	}
	p = append(append(p, changes...), adds...)
	for _, f := range want.Filters {
		if !kept[f.Pref] {
			p = append(p, Step{Op: OpQoSFilterAdd, Link: dev, Filter: &f})
		}
	}
	return p
}

// classAddSteps add a class and the queue below it.
func classAddSteps(dev string, c QoSClass) Plan {
	p := Plan{{Op: OpQoSClassAdd, Link: dev, Class: &c}}
	if c.Leaf != "" {
		p = append(p, Step{Op: OpQoSLeafAdd, Link: dev, Class: &c})
	}
	return p
}

// sameCurves reports whether two classes have the same curves set (their
// rates may differ): only then can one be changed into the other in place.
func sameCurves(a, b QoSClass) bool {
	return (a.LS > 0) == (b.LS > 0) && (a.UL > 0) == (b.UL > 0) && (a.RT > 0) == (b.RT > 0)
}

// qosMismatches lists how the kernel's traffic control of a device differs
// from what the target wants (nothing when it leaves it alone or it was
// not read).
func qosMismatches(old, d *Device, st *State) []string {
	want := wantedQoS(old, d)
	if want == nil || st.QoS == nil {
		return nil
	}
	have := st.QoS[d.Name]
	if want.Empty() {
		if have.Ours() {
			return []string{fmt.Sprintf("root: desired the default qdisc, current hfsc %x:", QoSRootMajor)}
		}
		return nil
	}
	if !have.Ours() {
		kind := "none"
		if have != nil {
			kind = fmt.Sprintf("%s %x:", have.RootKind, have.RootHandle>>16)
		}
		return []string{fmt.Sprintf("root: desired hfsc %x:, current %s", QoSRootMajor, kind)}
	}
	var bad []string
	if have.DefaultClass != QoSDefaultClass {
		bad = append(bad, fmt.Sprintf("default: desired %x, current %x", QoSDefaultClass, have.DefaultClass))
	}
	if !slices.Equal(want.Classes, have.Classes) {
		bad = append(bad, fmt.Sprintf("classes: desired %s, current %s", describeClasses(want.Classes), describeClasses(have.Classes)))
	}
	if !slices.Equal(want.Filters, have.Filters) {
		bad = append(bad, fmt.Sprintf("filters: desired %v, current %v", want.Filters, have.Filters))
	}
	return bad
}

func describeClasses(cs []QoSClass) string {
	out := "["
	for i, c := range cs {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%x:%x%s %s", QoSRootMajor, c.ID, describeCurves(c), orNone(c.Leaf))
	}
	return out + "]"
}

// The engine's reported_configuration names of host network QoS.
const (
	ReportedQoSLinkshare  = "outAverageLinkShare"
	ReportedQoSUpperlimit = "outAverageUpperLimit"
	ReportedQoSRealtime   = "outAverageRealTime"
)

// qosDrift compares the QoS an attachment runs with its class on the NIC or
// bond, in the engine's units (a share, Mbps): read back from the kernel's
// curves (ls m2 / 8, ul and rt m2 / 10⁶). An attachment without QoS, or a
// state whose QoS was not read, reports nothing.
func qosDrift(a Attachment, net *Network, st *State) []Reported {
	q := EffectiveQoS(a, net)
	if q == nil || st.QoS == nil {
		return nil
	}
	var cls *QoSClass
	if have := st.QoS[a.Nic]; have.Ours() {
		// Classes are read sorted: a bond with a thousand shaped VLANs is
		// searched, not scanned, per attachment.
		id := QoSClassID(net)
		if i, ok := slices.BinarySearchFunc(have.Classes, id, func(c QoSClass, id uint16) int { return int(c.ID) - int(id) }); ok {
			cls = &have.Classes[i]
		}
	}
	var out []Reported
	for _, f := range []struct {
		name  string
		want  *int
		have  func(QoSClass) uint32
		scale uint32
	}{
		{ReportedQoSLinkshare, q.Linkshare, func(c QoSClass) uint32 { return c.LS }, 8},
		{ReportedQoSUpperlimit, q.Upperlimit, func(c QoSClass) uint32 { return c.UL }, 1_000_000},
		{ReportedQoSRealtime, q.Realtime, func(c QoSClass) uint32 { return c.RT }, 1_000_000},
	} {
		r := Reported{Name: f.name}
		if f.want != nil {
			r.Expected = strconv.Itoa(*f.want)
		}
		if cls != nil {
			if v := f.have(*cls); v > 0 {
				r.Actual = strconv.FormatUint(uint64((v+f.scale/2)/f.scale), 10)
			}
		}
		r.InSync = r.Expected == r.Actual
		out = append(out, r)
	}
	return out
}

// checkQoS applies the rules of host network QoS to the configuration: on
// one interface, every network has a QoS or none does (the engine's rule:
// an unshaped network would share the default class); a VLAN network needs
// a VLAN id that can be a class; and, for the attachments the request
// a kernel that shapes with HFSC and a device whose root qdisc is the
// kernel's default or hostnetd's, both checked before the first write for
// every shaped device the kernel view does not show shaped by hostnetd
// (a network that gets a QoS through the catalogue too).
func (m *merger) checkQoS() error {
	shaped, unshaped := map[string]string{}, map[string]string{}
	checked := map[string]bool{}
	for _, a := range m.cfg.Attachments {
		net := m.network(a.NetworkID)
		if EffectiveQoS(a, net) == nil {
			unshaped[a.Nic] = net.Name
			continue
		}
		shaped[a.Nic] = net.Name
		if net.VLAN != nil && *net.VLAN == 0 {
			return ruleErr(CodeQoSNotSupported, "network %s: VLAN 0 cannot have a host network QoS class", net.Name)
		}
		if checked[a.Nic] || m.in.Kernel.QoS[a.Nic].Ours() {
			continue // (hostnetd's HFSC on the device shows the kernel has it)
		}
		checked[a.Nic] = true
		if err := m.checkQoSDevice(net, a.Nic); err != nil {
			return err
		}
	}
	for _, a := range m.cfg.Attachments {
		if with, ok := shaped[a.Nic]; ok {
			if without, ok := unshaped[a.Nic]; ok {
				return ruleErr(CodeQoSInterfacesWithoutQoS, "%s carries network %s with a host network QoS and %s without one; all of an interface's networks have a QoS, or none", a.Nic, with, without)
			}
		}
	}
	return nil
}

func (m *merger) checkQoSDevice(net *Network, dev string) error {
	if m.in.QoSSupported != nil {
		if err := m.in.QoSSupported(); err != nil {
			return ruleErr(CodeQoSNotSupported, "network %s: host network QoS needs the kernel's HFSC scheduler, fq_codel and the u32 and basic (meta) filters: %v", net.Name, err)
		}
	}
	if _, ok := m.in.Kernel.Link(dev); !ok {
		return nil // a bond this request creates starts with the default qdisc
	}
	have := m.in.Kernel.QoS[dev]
	if m.in.QoS != nil {
		var err error
		if have, err = m.in.QoS(dev); err != nil {
			return ruleErr(CodeQoSNotSupported, "network %s: reading the traffic control of %s: %v", net.Name, dev, err)
		}
	}
	if have.Foreign() {
		return conflictErr(CodeQoSNotSupported, "network %s: %s has a root qdisc (%s %x:) that hostnetd did not add; remove it, or attach the network without a QoS", net.Name, dev, have.RootKind, have.RootHandle>>16)
	}
	return nil
}
