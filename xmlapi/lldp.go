package xmlapi

import "github.com/hostnetd/hostnetd/netconf/lldp"

// LinkLayerDiscoveryProtocolElements renders the LLDP information of a NIC
// as the engine serves it: one <link_layer_discovery_protocol_element> per
// TLV of each neighbour, with its name, oui (organisationally specific
// TLVs only), properties, subtype and type, in the engine's element order.
// The elements have no id, as on the engine.
func LinkLayerDiscoveryProtocolElements(neighbors []*lldp.Neighbor) *Node {
	n := Elem("link_layer_discovery_protocol_elements")
	for _, nb := range neighbors {
		for _, e := range nb.Elements {
			props := make([]*Node, 0, len(e.Properties))
			for _, p := range e.Properties {
				props = append(props, Elem("property", Text("name", p.Name), Text("value", p.Value)))
			}
			item := Elem("link_layer_discovery_protocol_element", Text("name", e.Name))
			if e.HasOUI {
				item.Add(Uint("oui", uint64(e.OUI)))
			}
			item.Add(List("properties", props...))
			if e.HasOUI {
				item.Add(Uint("subtype", uint64(e.Subtype)))
			}
			item.Add(Int("type", int64(e.Type)))
			item.Repeated = true
			n.Add(item)
		}
	}
	return n
}
