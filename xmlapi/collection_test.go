package xmlapi

import (
	"bytes"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

// TestCollectionWritesItsTree checks that a collection written an item at
// a time is its tree's document, byte for byte, in XML and JSON: items
// rendered into the memory of the one before must not show through.
func TestCollectionWritesItsTree(t *testing.T) {
	scale, scaleCtx := scaleState(300)
	bvb := bondVLANBridgeState()
	cases := []struct {
		name  string
		c     Context
		st    *netconf.State
		links []*netconf.Link
	}{
		{"S(300)", scaleCtx, scale, allLinks(scale)},
		{"bond VLAN bridge", testContext(), bvb, allLinks(bvb)},
		{"one", testContext(), bvb, allLinks(bvb)[:1]},
		{"none", testContext(), bvb, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list := HostNicList(tc.c, tc.st, tc.links)
			var x, j writeCounter
			if err := list.WriteXML(&x); err != nil {
				t.Fatal(err)
			}
			if want := MarshalXML(list.Node()); !bytes.Equal(x.Bytes(), want) {
				t.Errorf("WriteXML wrote\n%s\nwant\n%s", x.Bytes(), want)
			}
			if err := list.WriteJSON(&j); err != nil {
				t.Fatal(err)
			}
			if want := MarshalJSON(list.Node()); !bytes.Equal(j.Bytes(), want) {
				t.Errorf("WriteJSON wrote\n%s\nwant\n%s", j.Bytes(), want)
			}
			if len(tc.links) > 100 && (x.writes < 2 || j.writes < 2) {
				t.Errorf("%d XML writes, %d JSON writes: not written in parts", x.writes, j.writes)
			}
		})
	}
}
