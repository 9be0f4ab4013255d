package netconf

import "net/netip"

// Gateways indexes a state's default routes by link and family, for a
// caller that looks up the gateway of many links (rendering every NIC,
// comparing every attachment): State.DefaultGateway scans every route,
// once per link, and a host with thousands of networks has thousands of
// routes.
type Gateways map[gatewayKey]gateway

type gatewayKey struct {
	link   string
	family int
}

type gateway struct {
	addr netip.Addr
	main bool
}

// Gateways indexes the default routes in one pass over the routes.
func (s *State) Gateways() Gateways {
	g := Gateways{}
	for _, r := range s.Routes {
		if !r.IsDefault() || !r.Gateway.IsValid() {
			continue
		}
		family := 6
		if r.Gateway.Is4() {
			family = 4
		}
		k := gatewayKey{r.Link, family}
		// As DefaultGateway: the main table's first, else the first of
		// another table.
		if have, ok := g[k]; !ok || !have.main && r.Table == MainTable {
			g[k] = gateway{addr: r.Gateway, main: r.Table == MainTable}
		}
	}
	return g
}

// Default is State.DefaultGateway answered from the index.
func (g Gateways) Default(link string, family int) (netip.Addr, bool) {
	gw, ok := g[gatewayKey{link, family}]
	return gw.addr, ok
}

// OwnsDefaultRoute tells whether the main table's IPv4 default route
// leaves through link.
func (g Gateways) OwnsDefaultRoute(link string) bool {
	gw, ok := g[gatewayKey{link, 4}]
	return ok && gw.main
}
