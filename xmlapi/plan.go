package xmlapi

import "github.com/hostnetd/hostnetd/netconf"

// PlanView is what a dry run answers: the kernel writes a request would
// make, in order, and what they would disturb.
type PlanView struct {
	Steps netconf.Plan
	// LinksDown are the links the plan takes down at some point.
	LinksDown []string
	// ReleasedLeases are the DHCP leases given back before the plan runs,
	// because the request stops their attachment's client.
	ReleasedLeases []LeaseView
}

// LeaseView is a DHCP lease by its device and address (empty when the
// client holds none yet).
type LeaseView struct {
	Device, Address string
}

// ActionPlan is the answer to a dry-run setupnetworks: the request echoed
// with <status>complete</status>, as ActionComplete, and hostnetd's
// extension <plan>:
//
//	<plan>
//	  <kernel_writes>2</kernel_writes>
//	  <steps><step><index>1</index><op>set-down</op><device>eth1</device>
//	    <command>ip link set eth1 down</command></step>…</steps>
//	  <links_down><link>eth1</link></links_down>
//	  <released_leases><lease><device>…</device><address>…</address></lease></released_leases>
//	</plan>
//
// Empty lists are left out: a plan with nothing to do is just
// <plan><kernel_writes>0</kernel_writes></plan>.
func ActionPlan(echo *Node, p PlanView) *Node {
	return ActionComplete(echo).Add(PlanNode(p))
}

// PlanNode renders a plan; each step's command is the ip(8) or sysctl(8)
// command that does the same.
func PlanNode(p PlanView) *Node {
	steps := make([]*Node, len(p.Steps))
	for i, s := range p.Steps {
		steps[i] = Elem("step",
			Int("index", int64(i+1)),
			Text("op", string(s.Op)),
			OptText("device", s.Link),
			Text("command", s.String()))
	}
	down := make([]*Node, len(p.LinksDown))
	for i, name := range p.LinksDown {
		down[i] = Text("link", name)
	}
	leases := make([]*Node, len(p.ReleasedLeases))
	for i, l := range p.ReleasedLeases {
		leases[i] = Elem("lease", Text("device", l.Device), OptText("address", l.Address))
	}
	return Elem("plan", Int("kernel_writes", int64(len(p.Steps))),
		optList("steps", steps), optList("links_down", down), optList("released_leases", leases))
}

// optList is a list, or nil when it is empty: an empty element would be
// an empty string in JSON.
func optList(name string, items []*Node) *Node {
	if len(items) == 0 {
		return nil
	}
	return List(name, items...)
}
