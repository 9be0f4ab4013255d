package netconf

import "slices"

// SnapshotTarget describes the named devices exactly as st has them, so
// that planning towards it restores them: kind, MTU, master, admin state,
// MAC, VLAN, bond mode, options and slaves, and every address (dynamic ones
// with their remaining lifetimes). Names st lacks are left out: a device
// that did not exist is removed by planning from a target that has it.
func SnapshotTarget(st *State, names []string) *Target {
	t := &Target{}
	wanted := nameSet(names)
	for _, l := range st.Links {
		if !wanted[l.Name] {
			continue
		}
		d := &Device{Name: l.Name, Kind: KindDevice, MTU: l.MTU, Master: l.Master, Down: !l.AdminUp, MAC: l.MAC,
			IPv6Sysctls: st.IPv6Sysctls[l.Name]}
		switch l.Kind {
		case KindBond, KindVLAN, KindBridge:
			d.Kind = l.Kind
		}
		if l.Kind == KindBridge {
			d.BridgeOpts = st.BridgeOpts[l.Name]
		}
		d.QoS = st.QoS[l.Name].Device()
		if l.VLAN != nil {
			v := *l.VLAN
			d.VLAN = &v
		}
		if l.Bond != nil {
			d.Bond = &BondConfig{Name: l.Name, Mode: l.Bond.Mode, Options: modeOptions(l.Bond), Slaves: slices.Clone(l.Bond.Slaves)}
		}
		for _, a := range l.Addrs {
			switch {
			case a.LinkLocal:
			case a.Dynamic:
				d.DynAddrs = append(d.DynAddrs, a)
				d.KeepDynamic = true
			default:
				d.Addrs = append(d.Addrs, a.Prefix)
			}
		}
		t.Devices = append(t.Devices, d)
	}
	t.sort()
	t.index()
	return t
}

// nameSet makes a list of names a set, for lookups inside loops.
func nameSet(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	return set
}

// modeOptions keeps the options the kernel accepts in the bond's mode: it
// reports some (arp_interval 0) that it refuses to be given back.
func modeOptions(b *Bond) []BondOption {
	var out []BondOption
	for _, o := range b.Options {
		if spec, ok := findBondOption(o.Name); ok && spec.allowedIn(b.Mode) {
			if v, ok := spec.normalize(o.Value); ok {
				out = append(out, BondOption{Name: o.Name, Value: v})
			}
		}
	}
	return out
}

// DeviceNames lists the names of the devices of the targets, each once.
func DeviceNames(targets ...*Target) []string {
	var names []string
	seen := map[string]bool{}
	for _, t := range targets {
		for _, d := range t.Devices {
			if !seen[d.Name] {
				seen[d.Name] = true
				names = append(names, d.Name)
			}
		}
	}
	return names
}

// TouchableNames are the devices a plan between the targets can touch in
// st: the targets' devices, and the host interfaces in their bridges,
// which planning releases when no target puts them there. A snapshot of
// them is what a rollback needs.
func TouchableNames(st *State, targets ...*Target) []string {
	names := DeviceNames(targets...)
	seen := nameSet(names)
	ports := HostPorts(st)
	for _, t := range targets {
		for _, d := range t.Devices {
			if d.Kind != KindBridge {
				continue
			}
			for _, p := range ports[d.Name] {
				if !seen[p] {
					seen[p] = true
					names = append(names, p)
				}
			}
		}
	}
	return names
}

// RouteSteps restores the routes of st through the named devices: it adds
// those missing from cur and removes those cur has that st had not. The
// kernel's connected routes follow the addresses and are left alone.
func RouteSteps(cur, st *State, names []string) Plan {
	through := nameSet(names)
	relevant := func(r Route) bool { return r.Protocol != ProtoKernel && through[r.Link] }
	var p Plan
	for _, r := range cur.Routes {
		if relevant(r) && !slices.Contains(st.Routes, r) {
			p = append(p, Step{Op: OpRouteDel, Link: r.Link, Route: r})
		}
	}
	for _, r := range st.Routes {
		if relevant(r) && !slices.Contains(cur.Routes, r) {
			p = append(p, Step{Op: OpRouteAdd, Link: r.Link, Route: r})
		}
	}
	return p
}

// RuleSteps restores the source-routing rules (priority 3200, hostnetd's)
// of st: it adds those missing from cur and removes those cur has that st
// had not. Other rules are never touched.
func RuleSteps(cur, st *State) Plan {
	ours := func(r Rule) bool { return r.Priority == SourceRoutePriority }
	var p Plan
	for _, r := range cur.Rules {
		if ours(r) && !slices.Contains(st.Rules, r) {
			p = append(p, Step{Op: OpRuleDel, Rule: r})
		}
	}
	for _, r := range st.Rules {
		if ours(r) && !slices.Contains(cur.Rules, r) {
			p = append(p, Step{Op: OpRuleAdd, Rule: r})
		}
	}
	return p
}

// RestoreRouting is the second half of a rollback, once the links are
// back (taking a link down drops its routes): the steps that give the
// devices names the routes they had in before, and the host its rules.
func RestoreRouting(cur, before *State, names []string) Plan {
	return append(RouteSteps(cur, before, names), RuleSteps(cur, before)...)
}
