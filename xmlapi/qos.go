package xmlapi

import "github.com/hostnetd/hostnetd/netconf"

// Host network QoS on the wire: the data center's QoS catalogue
// (/datacenters/{dc}/qoss, <qos> with a name and type hostnetwork), a
// network's reference into it (<qos id="…"/>), and an attachment's inline
// override (<qos><type>hostnetwork</type><outbound_average_linkshare>…).

var qosValueFields = []string{"type", "outbound_average_linkshare", "outbound_average_upperlimit", "outbound_average_realtime"}

// rawQoS decodes a qos element's type and values.
func (e elem) rawQoS(extra ...string) (netconf.RawQoS, error) {
	var r netconf.RawQoS
	// The SDK sends a comment too; the engine's host network QoS has none.
	if err := e.check(append(qosValueFields[1:], extra...), nil, "type", "data_center", "comment"); err != nil {
		return r, err
	}
	fields := []*string{&r.Type, &r.Linkshare, &r.Upperlimit, &r.Realtime}
	for i, name := range qosValueFields {
		v, err := e.textOf(name)
		if err != nil {
			return r, err
		}
		*fields[i] = v
	}
	return r, nil
}

// DecodeQoS decodes a <qos> body of POST or PUT on the QoS catalogue.
func DecodeQoS(n *Node) (netconf.QoSChange, error) {
	e, err := root(n, "qos")
	if err != nil {
		return netconf.QoSChange{}, err
	}
	ch := netconf.QoSChange{ID: e.id()}
	if ch.Values, err = e.rawQoS("name", "description"); err != nil {
		return ch, err
	}
	if ch.Name, err = e.optText("name"); err != nil {
		return ch, err
	}
	ch.Description, err = e.optText("description")
	return ch, err
}

// qosRef decodes a network's <qos id="…"/>: the id, or "" (no QoS) for an
// element without one.
func (e elem) qosRef() (*string, error) {
	c, ok := e.child("qos")
	if !ok {
		return nil, nil
	}
	if err := c.check([]string{"name"}, nil, qosValueFields...); err != nil {
		return nil, err
	}
	id := c.id()
	return &id, nil
}

// optQoS decodes an attachment's inline <qos>.
func (e elem) optQoS() (*netconf.RawQoS, error) {
	c, ok := e.child("qos")
	if !ok {
		return nil, nil
	}
	r, err := c.rawQoS("name", "description")
	return &r, err
}

// DataCenterID is the id of the one data center, Default: a host is an
// engine with one of each (see the README).
const DataCenterID = "5849b030-626e-47cb-ad90-3ce782d831b3"

// DataCenterHref is the href of the one data center.
const DataCenterHref = Prefix + "/datacenters/" + DataCenterID

func qosHref(id string) string { return DataCenterHref + "/qoss/" + id }

// qosValues renders the type and values of a QoS.
func qosValues(n *Node, q *netconf.HostNetworkQoS) *Node {
	n.Add(Text("type", netconf.QoSTypeHostNetwork))
	for _, f := range []struct {
		name string
		v    *int
	}{{"outbound_average_linkshare", q.Linkshare}, {"outbound_average_upperlimit", q.Upperlimit}, {"outbound_average_realtime", q.Realtime}} {
		if f.v != nil {
			n.Add(Int(f.name, int64(*f.v)))
		}
	}
	return n
}

// QoSNode renders an entry of the QoS catalogue.
func QoSNode(q *netconf.HostNetworkQoS) *Node {
	n := Elem("qos", Text("name", q.Name), OptText("description", q.Description)).WithID(q.ID, qosHref(q.ID))
	qosValues(n, q)
	return n.Add(Ref("data_center", DataCenterID, DataCenterHref))
}

// QoSs renders the <qoss> collection.
func QoSs(qs []*netconf.HostNetworkQoS) *Node { return collection("qoss", qs, QoSNode) }

// attachmentQoSNode renders an attachment's override, or nothing.
func attachmentQoSNode(q *netconf.HostNetworkQoS) *Node {
	if q == nil {
		return nil
	}
	return qosValues(Elem("qos"), q)
}

// networkQoSNode renders a network's reference to its QoS, or nothing.
func networkQoSNode(q *netconf.HostNetworkQoS) *Node {
	if q == nil {
		return nil
	}
	return Ref("qos", q.ID, qosHref(q.ID))
}

// DataCenterNode renders the one data center, Default, which holds the
// QoS catalogue.
func DataCenterNode() *Node {
	return Elem("data_center",
		Text("name", "Default"),
		Link("qoss", DataCenterHref+"/qoss"),
		Link("networks", Prefix+"/networks"),
		Bool("local", false),
		Text("status", "up"),
		Elem("version", Int("major", 4), Int("minor", 5)),
	).WithID(DataCenterID, DataCenterHref)
}

// DataCenters renders the <data_centers> collection.
func DataCenters() *Node {
	item := DataCenterNode()
	item.Repeated = true
	return Elem("data_centers", item)
}
