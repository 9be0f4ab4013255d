package xmlapi

import (
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/netconf/lldp"
)

// TestLinkLayerDiscoveryProtocolElements: the engine's shape, which the
// SDKs' LinkLayerDiscoveryProtocolElementReader reads: name, oui,
// properties/property(name, value), subtype, type; no oui or subtype on
// the basic TLVs.
func TestLinkLayerDiscoveryProtocolElements(t *testing.T) {
	nb := &lldp.Neighbor{Elements: []lldp.Element{
		{Name: "Time to Live", Type: 3, Properties: []lldp.Property{{Name: "time to live", Value: "120"}}},
		{Name: "MTU", Type: 127, HasOUI: true, OUI: 0x00120f, Subtype: 4, Properties: []lldp.Property{{Name: "mtu", Value: "9018"}}},
	}}
	xml := string(MarshalXML(LinkLayerDiscoveryProtocolElements([]*lldp.Neighbor{nb})))
	compact := strings.Join(strings.Fields(xml), "")
	want := `<link_layer_discovery_protocol_elements>` +
		`<link_layer_discovery_protocol_element><name>TimetoLive</name><properties><property><name>timetolive</name><value>120</value></property></properties><type>3</type></link_layer_discovery_protocol_element>` +
		`<link_layer_discovery_protocol_element><name>MTU</name><oui>4623</oui><properties><property><name>mtu</name><value>9018</value></property></properties><subtype>4</subtype><type>127</type></link_layer_discovery_protocol_element>` +
		`</link_layer_discovery_protocol_elements>`
	if !strings.Contains(compact, want) {
		t.Errorf("XML:\n%s", xml)
	}
	json := string(MarshalJSON(LinkLayerDiscoveryProtocolElements([]*lldp.Neighbor{nb})))
	wantJSON := `{"link_layer_discovery_protocol_element":[{"name":"Time to Live","properties":{"property":[{"name":"time to live","value":"120"}]},"type":3},` +
		`{"name":"MTU","oui":4623,"properties":{"property":[{"name":"mtu","value":"9018"}]},"subtype":4,"type":127}]}`
	if strings.TrimSpace(json) != wantJSON {
		t.Errorf("JSON:\n%s\nwant\n%s", json, wantJSON)
	}
	if empty := strings.TrimSpace(string(MarshalJSON(LinkLayerDiscoveryProtocolElements(nil)))); empty != "{}" {
		t.Errorf("no neighbour, JSON: %s", empty)
	}
}
