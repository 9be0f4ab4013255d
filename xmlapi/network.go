package xmlapi

import (
	"strconv"
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// DecodeNetwork decodes a <network> body of POST /networks or PUT
// /networks/{id}. Only the elements present are set.
//
// vdsm_name (output only, derived from name) and data_center (which the
// engine requires on create, meaningless on a single host) are accepted and
// ignored, so that what GET returns, or what an oVirt client sends, can be
// sent back.
func DecodeNetwork(n *Node) (netconf.NetworkChange, error) {
	e, err := root(n, "network")
	if err != nil {
		return netconf.NetworkChange{}, err
	}
	nc := netconf.NetworkChange{ID: e.id()}
	one := []string{"name", "description", "comment", "vlan", "mtu", "stp", "usages", "dns_resolver_configuration", "qos"}
	if err := e.check(one, nil, "vdsm_name", "data_center"); err != nil {
		return nc, err
	}
	fields := []**string{&nc.Name, &nc.Description, &nc.Comment, &nc.MTU, &nc.STP}
	for i, name := range []string{"name", "description", "comment", "mtu", "stp"} {
		if *fields[i], err = e.optText(name); err != nil {
			return nc, err
		}
	}
	if v, ok := e.child("vlan"); ok {
		if err := v.check(nil, nil); err != nil {
			return nc, err
		}
		id := v.id()
		nc.VLAN = &id
	}
	if u, ok := e.child("usages"); ok {
		if nc.Usages, err = u.usages(); err != nil {
			return nc, err
		}
	}
	if nc.QoSID, err = e.qosRef(); err != nil {
		return nc, err
	}
	nc.DNS, err = e.optDNS()
	return nc, err
}

func (e elem) usages() (*[]string, error) {
	if err := e.check(nil, []string{"usage"}); err != nil {
		return nil, err
	}
	out := []string{}
	for u := range e.each("usage") {
		s, err := u.text()
		if err != nil {
			return nil, err
		}
		out = append(out, strings.ToLower(s))
	}
	return &out, nil
}

func networkHref(id string) string { return networkHrefIn(alone, id) }

// networkHrefIn is networkHref made in s's strings.
func networkHrefIn(s *nodeSlab, id string) string { return s.concat(Prefix, "/networks/", id) }

// Networks renders the <networks> collection.
func Networks(nets []*netconf.Network) *Node { return collection("networks", nets, NetworkNode) }

// collection renders a collection of entities, each by render.
func collection[T any](name string, items []T, render func(T) *Node) *Node {
	n := Elem(name)
	for _, x := range items {
		item := render(x)
		item.Repeated = true
		n.Add(item)
	}
	return n
}

// NetworkNode renders a network of the catalogue.
func NetworkNode(net *netconf.Network) *Node {
	n := Elem("network",
		Text("name", net.Name),
		Link("networklabels", networkHref(net.ID)+"/networklabels"),
		OptText("description", net.Description),
		OptText("comment", net.Comment),
	).WithID(net.ID, networkHref(net.ID))
	if net.VLAN != nil {
		n.Add(&Node{Name: "vlan", Attrs: []Attr{{Name: "id", Value: strconv.Itoa(*net.VLAN), Scalar: Number}}})
	}
	n.Add(
		Int("mtu", int64(net.MTU)),
		Bool("stp", net.STP),
		usagesNode(net.Usages),
		Text("vdsm_name", net.Name),
		dnsNode(net.DNS),
		networkQoSNode(net.QoS),
	)
	return n
}

// usagesNode renders the usages, or nothing for a network without any (an
// empty list has no JSON form here).
func usagesNode(usages []string) *Node {
	if len(usages) == 0 {
		return nil
	}
	items := make([]*Node, len(usages))
	for i, u := range usages {
		items[i] = Text("usage", u)
	}
	return List("usages", items...)
}
