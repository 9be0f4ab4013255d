package xmlapi

import "github.com/hostnetd/hostnetd/netconf"

// statisticDefs are the counters reported per interface, in oVirt's naming
// (data.total.rx, errors.total.rx) extended to packets and drops.
var statisticDefs = []struct {
	name, description, unit string
	value                   func(netconf.LinkStats) uint64
}{
	{"data.total.rx", "Total received data", "bytes", func(s netconf.LinkStats) uint64 { return s.RxBytes }},
	{"data.total.tx", "Total transmitted data", "bytes", func(s netconf.LinkStats) uint64 { return s.TxBytes }},
	{"packets.total.rx", "Total received packets", "none", func(s netconf.LinkStats) uint64 { return s.RxPackets }},
	{"packets.total.tx", "Total transmitted packets", "none", func(s netconf.LinkStats) uint64 { return s.TxPackets }},
	{"errors.total.rx", "Total receive errors", "none", func(s netconf.LinkStats) uint64 { return s.RxErrors }},
	{"errors.total.tx", "Total transmit errors", "none", func(s netconf.LinkStats) uint64 { return s.TxErrors }},
	{"drops.total.rx", "Total dropped received packets", "none", func(s netconf.LinkStats) uint64 { return s.RxDropped }},
	{"drops.total.tx", "Total dropped transmitted packets", "none", func(s netconf.LinkStats) uint64 { return s.TxDropped }},
}

// Statistics renders the <statistics> of one interface.
func Statistics(c Context, l *netconf.Link) *Node {
	nicID := c.NicID(l.Name)
	base := c.nicHref(nicID) + "/statistics/"
	n := Elem("statistics")
	for _, d := range statisticDefs {
		id := statisticID(nicID, d.name)
		item := Elem("statistic",
			Text("name", d.name),
			Text("description", d.description),
			Text("kind", "counter"),
			Text("type", "integer"),
			Text("unit", d.unit),
			List("values", Elem("value", Uint("datum", d.value(l.Stats)))),
			c.nicRef(l.Name),
		).WithID(id, base+id)
		item.Repeated = true
		n.Add(item)
	}
	return n
}

// statisticID is stable per NIC and counter.
func statisticID(nicID, name string) string { return netconf.StableID(nicID + "/" + name) }
