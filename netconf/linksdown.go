package netconf

import "slices"

// LinksDown names the links, up in cur, that the plan takes down at some
// point, in the order it does so, even those it raises again later: the
// links it sets down or deletes, NICs it releases from a bond and the
// slaves of a bond it deletes (the kernel closes a slave it lets go).
// Traffic through them stops while the plan runs: it is what a dry run
// warns about.
func (p Plan) LinksDown(cur *State) []string {
	up := make(map[string]bool, len(cur.Links))
	for _, l := range cur.Links {
		up[l.Name] = l.AdminUp
	}
	isBond := func(name string) bool {
		l, ok := cur.Link(name)
		return ok && l.Kind == KindBond
	}
	var out []string
	down := func(name string) {
		if up[name] {
			up[name] = false
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	for _, s := range p {
		switch s.Op {
		case OpSetUp:
			up[s.Link] = true
		case OpSetDown:
			down(s.Link)
		case OpLinkDel:
			down(s.Link)
			if isBond(s.Link) {
				for _, slave := range cur.Ports(s.Link) {
					down(slave)
				}
			}
		case OpNoMaster:
			if l, ok := cur.Link(s.Link); ok && isBond(l.Master) {
				down(s.Link)
			}
		}
	}
	return out
}
