package netconf

import (
	"fmt"
	"slices"
	"strings"
)

// VerifyError lists where the kernel differs from the target after apply.
type VerifyError struct{ Mismatches []string }

func (e *VerifyError) Error() string {
	return "verification failed: " + strings.Join(e.Mismatches, "; ")
}

// Verify checks that the kernel state contains the target: every device
// exists with its kind, MTU, master (or none), VLAN, bond mode, slaves and
// options and static addresses, every bridge has exactly the host
// interfaces the target makes its ports (guest ports are the VMs'), and
// every device created for the old target that the new one dropped is
// gone.
func Verify(old, next *Target, st *State) error { return VerifyScoped(old, next, st, nil) }

// VerifyScoped is Verify restricted to the named devices (all when nil).
func VerifyScoped(old, next *Target, st *State, scope []string) error {
	var in map[string]bool
	if scope != nil {
		in = nameSet(CloseScope(scope, old, next))
	}
	inScope := func(name string) bool { return in == nil || in[name] }
	routes := routeSet(st.Routes)
	rules := make(map[Rule]bool, len(st.Rules))
	for _, r := range st.Rules {
		rules[r] = true
	}
	var targetPorts, kernelPorts map[string][]string
	portsOf := func(bridge string) []string {
		if targetPorts == nil {
			targetPorts = map[string][]string{}
			for _, d := range next.Devices {
				if d.Master != "" {
					targetPorts[d.Master] = append(targetPorts[d.Master], d.Name)
				}
			}
		}
		return sortedNames(targetPorts[bridge])
	}
	hostPorts := func(bridge string) []string {
		if kernelPorts == nil {
			kernelPorts = HostPorts(st)
		}
		return kernelPorts[bridge]
	}
	var bad []string
	mismatch := func(dev, field string, want, have any) {
		bad = append(bad, fmt.Sprintf("%s.%s: desired %v, current %v", dev, field, want, have))
	}
	for _, d := range next.Devices {
		if !inScope(d.Name) {
			continue
		}
		l, ok := st.Link(d.Name)
		if !ok {
			bad = append(bad, d.Name+": missing")
			continue
		}
		if d.Kind != KindDevice && l.Kind != d.Kind {
			mismatch(d.Name, "kind", d.Kind, l.Kind)
		}
		if l.MTU != d.MTU {
			mismatch(d.Name, "mtu", d.MTU, l.MTU)
		}
		if l.Master != d.Master {
			mismatch(d.Name, "master", orNone(d.Master), orNone(l.Master))
		}
		if d.Kind == KindBridge {
			if want, have := portsOf(d.Name), hostPorts(d.Name); !slices.Equal(want, have) {
				mismatch(d.Name, "ports", want, have)
			}
		}
		if d.VLAN != nil && (l.VLAN == nil || *l.VLAN != *d.VLAN) {
			mismatch(d.Name, "vlan", *d.VLAN, l.VLAN)
		}
		if d.Bond != nil {
			verifyBond(d, l, mismatch)
		}
		for _, a := range d.Addrs {
			if !slices.ContainsFunc(l.Addrs, func(x Addr) bool { return x.Prefix == a }) {
				mismatch(d.Name, "address", a, "absent")
			}
		}
		for _, r := range d.Routes {
			if !routes[keyOf(r)] {
				mismatch(d.Name, "route", describeRoute(r), "absent")
			}
		}
		for _, r := range d.Rules {
			if !rules[r] {
				mismatch(d.Name, "rule", describeRule(r), "absent")
			}
		}
		if st.BridgeOpts != nil && d.Kind == KindBridge {
			for key, v := range d.BridgeOpts {
				if have := st.BridgeOpts[d.Name][key]; have != v {
					mismatch(d.Name, key, v, have)
				}
			}
		}
		if st.Ethtool != nil {
			for _, m := range ethtoolMismatches(d.Ethtool, st.Ethtool[d.Name]) {
				bad = append(bad, d.Name+".ethtool "+m)
			}
		}
		for _, m := range qosMismatches(old.Device(d.Name), d, st) {
			bad = append(bad, d.Name+".qos "+m)
		}
		if st.IPv6Sysctls != nil {
			for key, v := range d.IPv6Sysctls {
				if have := st.IPv6Sysctls[d.Name][key]; have != v {
					mismatch(d.Name, key, v, have)
				}
			}
		}
	}
	for _, d := range old.Devices {
		if d.Kind == KindDevice || next.Device(d.Name) != nil || !inScope(d.Name) {
			continue
		}
		if _, ok := st.Link(d.Name); ok {
			bad = append(bad, d.Name+": still present")
		}
	}
	if len(bad) > 0 {
		return &VerifyError{Mismatches: bad}
	}
	return nil
}

func verifyBond(d *Device, l *Link, mismatch func(dev, field string, want, have any)) {
	if l.Bond == nil {
		return
	}
	if l.Bond.Mode != d.Bond.Mode {
		mismatch(d.Name, "mode", d.Bond.Mode, l.Bond.Mode)
	}
	if !slices.Equal(l.Bond.Slaves, d.Bond.Slaves) {
		mismatch(d.Name, "slaves", d.Bond.Slaves, l.Bond.Slaves)
	}
	if !bondOptionsMatch(d.Bond.Options, l.Bond.Options) {
		mismatch(d.Name, "options", d.Bond.Options, l.Bond.Options)
	}
}

// HostPorts lists, by master, the host interfaces (IsHostInterface)
// enslaved to each bridge or bond, sorted.
func HostPorts(st *State) map[string][]string {
	out := map[string][]string{}
	for _, l := range st.Links {
		if l.Master != "" && IsHostInterface(l.Kind) {
			out[l.Master] = append(out[l.Master], l.Name)
		}
	}
	for _, ports := range out {
		slices.Sort(ports)
	}
	return out
}

func sortedNames(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
