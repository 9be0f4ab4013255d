package xmlapi

import (
	"errors"
	"strings"
	"testing"
)

func TestParseXMLTrimsAndKeepsIDs(t *testing.T) {
	n, err := ParseXML([]byte(`<network_attachment>
  <network id=" abc "/>
  <ip_configuration><ipv4s><ipv4><address>
10.0.0.15
</address></ipv4></ipv4s></ip_configuration>
</network_attachment>`))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := n.Child("network").Attr("id"); id != "abc" {
		t.Errorf("network id = %q; want abc", id)
	}
	addr := n.Child("ip_configuration").Child("ipv4s").Child("ipv4").Child("address")
	if addr == nil || addr.Text != "10.0.0.15" {
		t.Errorf("address = %+v; want 10.0.0.15", addr)
	}
}

func TestParseXMLRefuses(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"doctype", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><action/>`, "DOCTYPE"},
		{"undefined-entity", `<action>&boom;</action>`, "entity"},
		{"not-well-formed", `<action><name>bond0<name></action>`, "malformed"},
		{"empty", ``, "malformed"},
		{"too-deep", strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1), "deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseXML([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v; want ErrMalformed", err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.want)) {
				t.Errorf("err = %v; want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestJSONAndXMLParseAlike checks that the two encodings of one document
// give the same tree, which is what lets one decoder serve both.
func TestJSONAndXMLParseAlike(t *testing.T) {
	st := bondVLANBridgeState()
	doc := HostNics(testContext(), st, allLinks(st))
	fromXML, err := ParseXML(MarshalXML(doc))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := ParseJSON(MarshalJSON(doc), "host_nics")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fromJSON.Canonical(), fromXML.Canonical(); got != want {
		t.Errorf("JSON and XML trees differ:\n--- json\n%s\n--- xml\n%s", got, want)
	}
}

func TestParseJSONScalars(t *testing.T) {
	n, err := ParseJSON([]byte(`{"name":"net1","mtu":"9000","stp":false,"vlan":{"id":100}}`), "network")
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "network" || n.Child("mtu").Text != "9000" || n.Child("stp").Text != "false" {
		t.Errorf("unexpected tree:\n%s", n.Canonical())
	}
	if id, _ := n.Child("vlan").Attr("id"); id != "100" {
		t.Errorf("vlan id = %q; want 100", id)
	}
	if _, err := ParseJSON([]byte(`[1,2]`), "network"); !errors.Is(err, ErrMalformed) {
		t.Errorf("array body: err = %v; want ErrMalformed", err)
	}
	if _, err := ParseJSON([]byte(`{"a":1} {"b":2}`), "network"); !errors.Is(err, ErrMalformed) {
		t.Errorf("two values: err = %v; want ErrMalformed", err)
	}
}
