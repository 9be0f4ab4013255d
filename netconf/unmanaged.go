package netconf

import (
	"slices"
	"strings"
)

// Unmanaged is a network on the host that no attachment owns, as the
// engine's unmanaged networks: a bridge or a VLAN device, and the
// interface it sits on (Nic: the VLAN's base, the bridge's first port by
// name; empty for a bridge without ports).
type Unmanaged struct {
	Name string
	Kind LinkKind
	Nic  string
}

// UnmanagedNetworks lists the bridges and VLAN devices of st that the
// target t (the devices the running configuration owns) does not hold,
// sorted by name.
func UnmanagedNetworks(st *State, t *Target) []Unmanaged {
	var out []Unmanaged
	for _, l := range st.Links {
		if t.Device(l.Name) != nil {
			continue
		}
		switch {
		case l.Kind == KindBridge:
			u := Unmanaged{Name: l.Name, Kind: KindBridge}
			if ports := st.Ports(l.Name); len(ports) > 0 {
				slices.Sort(ports)
				u.Nic = ports[0]
			}
			out = append(out, u)
		case l.Kind == KindVLAN && l.VLAN != nil:
			out = append(out, Unmanaged{Name: l.Name, Kind: KindVLAN, Nic: l.VLAN.Base})
		}
	}
	slices.SortFunc(out, func(a, b Unmanaged) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// UnmanagedRemoval is what removing an unmanaged network u from st
// writes and may touch: the plan sets its device down, then deletes it
// (the kernel releases a bridge's ports), and names are the devices a
// rollback must restore, the device and its ports.
func UnmanagedRemoval(st *State, u Unmanaged) (plan Plan, names []string) {
	names = append([]string{u.Name}, st.Ports(u.Name)...)
	if l, ok := st.Link(u.Name); ok && l.AdminUp {
		plan = append(plan, Step{Op: OpSetDown, Link: u.Name})
	}
	return append(plan, Step{Op: OpLinkDel, Link: u.Name}), names
}
