package netconf

import (
	"net/netip"
	"testing"
)

// The index answers as State.DefaultGateway does: the main table's
// default route first, else the first of another table, per family.
func TestGatewaysAnswerAsDefaultGateway(t *testing.T) {
	r := func(dst, gw, link string, table int) Route {
		rt := Route{Dst: netip.MustParsePrefix(dst), Link: link, Table: table}
		if gw != "" {
			rt.Gateway = netip.MustParseAddr(gw)
		}
		return rt
	}
	st := &State{Routes: []Route{
		r("0.0.0.0/0", "192.0.2.1", "a", 100),
		r("0.0.0.0/0", "192.0.2.2", "a", MainTable),
		r("0.0.0.0/0", "192.0.2.3", "a", MainTable),
		r("0.0.0.0/0", "192.0.2.4", "b", 101),
		r("0.0.0.0/0", "192.0.2.5", "b", 102),
		r("::/0", "2001:db8::1", "b", MainTable),
		r("192.0.2.0/24", "", "c", MainTable),
		r("0.0.0.0/0", "", "d", MainTable),
	}}
	g := st.Gateways()
	for _, link := range []string{"a", "b", "c", "d", "e"} {
		for _, family := range []int{4, 6} {
			want, wantOK := st.DefaultGateway(link, family)
			got, ok := g.Default(link, family)
			if got != want || ok != wantOK {
				t.Errorf("%s v%d: index %v %v, scan %v %v", link, family, got, ok, want, wantOK)
			}
		}
	}
	if !g.OwnsDefaultRoute("a") || g.OwnsDefaultRoute("b") || g.OwnsDefaultRoute("d") {
		t.Errorf("OwnsDefaultRoute: a %v, b %v, d %v; want true, false, false", g.OwnsDefaultRoute("a"), g.OwnsDefaultRoute("b"), g.OwnsDefaultRoute("d"))
	}
}
