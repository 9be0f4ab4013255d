package netconf

import (
	"fmt"
	"slices"
	"strings"
)

// Dump is a canonical text of what configuration can change in the state:
// per link its kind, MTU, MAC, master, admin state, VLAN and bond, and its
// addresses other than link-local ones; then the routes hostnetd or an
// administrator installed, and the policy rules. What the kernel changes by itself (operational
// state, counters, link-local addresses, remaining lifetimes, connected
// routes) is left out, so two dumps of an unchanged host are identical.
func (s *State) Dump() string {
	var b strings.Builder
	for _, l := range s.Links {
		fmt.Fprintf(&b, "link %s kind %s mtu %d mac %s up %v", l.Name, l.Kind, l.MTU, l.MAC, l.AdminUp)
		if l.Master != "" {
			fmt.Fprintf(&b, " master %s", l.Master)
		}
		if l.VLAN != nil {
			fmt.Fprintf(&b, " vlan %d base %s", l.VLAN.ID, l.VLAN.Base)
		}
		if l.Bond != nil {
			fmt.Fprintf(&b, " bond mode %s slaves %s", l.Bond.Mode, strings.Join(l.Bond.Slaves, ","))
			for _, o := range l.Bond.Options {
				fmt.Fprintf(&b, " %s=%s", o.Name, o.Value)
			}
		}
		b.WriteByte('\n')
		var addrs []string
		for _, a := range l.Addrs {
			if !a.LinkLocal {
				addrs = append(addrs, fmt.Sprintf("  addr %s dynamic %v", a.Prefix, a.Dynamic))
			}
		}
		slices.Sort(addrs)
		for _, a := range addrs {
			b.WriteString(a + "\n")
		}
	}
	var routes []string
	for _, r := range s.Routes {
		if r.Protocol != ProtoKernel {
			routes = append(routes, "route "+describeRoute(r))
		}
	}
	for _, r := range s.Rules {
		if r.Priority != 0 && r.Priority != 32766 && r.Priority != 32767 { // the kernel's own rules
			routes = append(routes, "rule "+describeRule(r))
		}
	}
	slices.Sort(routes)
	for _, r := range routes {
		b.WriteString(r + "\n")
	}
	return b.String()
}
