package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/dhcp4"
	"github.com/hostnetd/hostnetd/agent/dhcp6"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// leasesDir, under --state-dir, holds one lease file per DHCP attachment,
// so a restarted hostnetd asks for the same address.
const leasesDir = "leases"

// dhcpClients runs one DHCPv4 client per attachment whose IPv4 boot
// protocol is dhcp, and one DHCPv6 client per attachment whose IPv6 boot
// protocol is dhcp or poly_dhcp_autoconf, on the network's top device, identified by the MAC of
// its NIC or bond (which a bridge takes too), so the lease survives a move
// between bridgeless and bridged. Transactions never wait for DHCP.
type dhcpClients struct {
	log *zap.Logger
	ns  *kernel.Namespace
	dir string
	// onLease runs, on the client's goroutine, after a lease changed (the
	// agent updates resolv.conf); optional.
	onLease func()
	// record records an event; optional.
	record func(severity, code, description string)
	// metrics counts the leases; optional.
	metrics *metrics
	// applier writes the routes of leases.
	applier Applier

	// mu guards the fields that follow. A client's OnChange never takes
	// it: reconcile holds it while Close waits for that client.
	mu      sync.Mutex
	clients map[string]*dhcpClient // by attachment id

	// dnsMu guards the name servers of the current leases.
	dnsMu sync.Mutex
	dns   map[string][]netip.Addr // by attachment id
}

type dhcpClient struct {
	id, link, hwaddr string
	owner            bool // the network owns the default route
	client           interface{ Close(release bool) error }
	// mu guards the routing installed for the current lease.
	mu     sync.Mutex
	routes []netconf.Route
	rules  []netconf.Rule
	bound  bool
	// ignoredRouter is the lease router last ignored, so that a renewal
	// of the same lease records no new event.
	ignoredRouter netip.Addr
}

func newDHCPClients(log *zap.Logger, ns *kernel.Namespace, stateDir string) *dhcpClients {
	return &dhcpClients{log: log.Named("dhcp"), ns: ns, dir: filepath.Join(stateDir, leasesDir), applier: NamespaceKernel{Namespace: ns},
		clients: map[string]*dhcpClient{}, dns: map[string][]netip.Addr{}}
}

// reconcile makes the running clients match the configuration: it starts
// the missing ones, restarts those whose device or identity changed, and
// stops (releasing their lease) those whose attachment is gone or no longer
// uses DHCP.
func (d *dhcpClients) reconcile(ctx context.Context, cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	wanted := map[string]bool{}
	for _, at := range cfg.Attachments {
		i := slices.IndexFunc(nets, func(n *netconf.Network) bool { return n.ID == at.NetworkID })
		if i < 0 {
			continue
		}
		v6 := at.IPv6.Method == netconf.BootDHCP || at.IPv6.Method == netconf.BootPolyDHCPAutoconf
		for _, fam := range []struct {
			on  bool
			key string
		}{{at.IPv4.Method == netconf.BootDHCP, at.ID}, {v6, at.ID + "-v6"}} {
			if !fam.on {
				continue
			}
			net := nets[i]
			link := netconf.TopDevice(at, net)
			south, ok := st.Link(at.Nic)
			if !ok || south.MAC == "" {
				d.log.Warn("cannot start DHCP: the NIC or bond has no MAC", zap.String("nic", at.Nic))
				continue
			}
			wanted[fam.key] = true
			owner := net.HasUsage(netconf.UsageDefaultRoute)
			if c := d.clients[fam.key]; c != nil {
				if c.link == link && c.hwaddr == south.MAC && c.owner == owner {
					continue
				}
				// The device changed (bridgeless ↔ bridged): same identity
				// and lease file, so the new client asks for the same address.
				d.stop(fam.key, false)
			}
			d.start(ctx, fam.key, link, south.MAC, owner, fam.key != at.ID)
		}
	}
	d.stopUnwantedLocked(wanted)
}

// stopUnwanted releases, before a transaction applies cfg, the clients cfg
// no longer wants, so that their leases' routes go before the new
// configuration's (a static gateway may want the very same routes). It
// reports whether it stopped any.
func (d *dhcpClients) stopUnwanted(cfg *netconf.Config) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopUnwantedLocked(wantedClients(cfg))
}

// wantedClients are the keys of the clients cfg runs: an attachment's id
// for DHCPv4, with "-v6" for DHCPv6.
func wantedClients(cfg *netconf.Config) map[string]bool {
	wanted := map[string]bool{}
	for _, at := range cfg.Attachments {
		if at.IPv4.Method == netconf.BootDHCP {
			wanted[at.ID] = true
		}
		if at.IPv6.Method == netconf.BootDHCP || at.IPv6.Method == netconf.BootPolyDHCPAutoconf {
			wanted[at.ID+"-v6"] = true
		}
	}
	return wanted
}

func (d *dhcpClients) stopUnwantedLocked(wanted map[string]bool) bool {
	stopped := false
	for id := range d.clients {
		if !wanted[id] {
			d.stop(id, true)
			os.Remove(filepath.Join(d.dir, id+".json"))
			stopped = true
		}
	}
	return stopped
}

func (d *dhcpClients) start(ctx context.Context, id, link, mac string, owner, v6 bool) {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		d.log.Error("[unexpected] bad MAC", zap.String("mac", mac), zap.Error(err))
		return
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		d.log.Error("cannot create the lease directory", zap.Error(err))
	}
	c := &dhcpClient{id: id, link: link, hwaddr: mac, owner: owner}
	if v6 {
		// DHCPv6 brings an address and name servers; routes come from
		// router advertisements.
		c.client, err = dhcp6.Start(context.WithoutCancel(ctx), dhcp6.Config{
			Namespace: d.ns, Link: link, HWAddr: hw,
			LeaseFile: filepath.Join(d.dir, id+".json"),
			Log:       d.log.With(zap.String("link", link), zap.String("family", "v6")),
			OnChange: func(l dhcp6.Lease) {
				d.setDNS(id, l.Bound, l.DNS)
				if d.onLease != nil {
					d.onLease()
				}
			},
		})
	} else {
		c.client, err = dhcp4.Start(context.WithoutCancel(ctx), dhcp4.Config{
			Namespace: d.ns, Link: link, HWAddr: hw,
			LeaseFile: filepath.Join(d.dir, id+".json"),
			Log:       d.log.With(zap.String("link", link)),
			OnChange: func(l dhcp4.Lease) {
				d.route(c, l)
				if d.onLease != nil {
					d.onLease()
				}
			},
			OnConflict: func(addr netip.Addr, holder net.HardwareAddr, server netip.Addr) {
				d.metrics.declined()
				if d.record != nil {
					d.record("warning", "DHCP_ADDRESS_CONFLICT", fmt.Sprintf("DHCP server %s offered %s on %s, which %s already uses; declined it",
						server, addr, link, holder))
				}
			},
		})
	}
	if err != nil {
		d.log.Error("cannot start the DHCP client", zap.String("link", link), zap.Error(err))
		return
	}
	d.clients[id] = c
	d.log.Debug("DHCP client started", zap.String("link", link), zap.String("hwaddr", mac))
}

// stop closes a client; with release the lease is given back and the
// address and the routes it brought are removed.
func (d *dhcpClients) stop(id string, release bool) {
	c := d.clients[id]
	delete(d.clients, id)
	if err := c.client.Close(release); err != nil {
		d.log.Warn("closing the DHCP client", zap.String("link", c.link), zap.Error(err))
	}
	if release {
		d.route(c, dhcp4.Lease{})
	}
	d.setDNS(id, false, nil)
}

// route installs the routing of a lease, as for a static gateway: the main
// default route if the network owns it, its own table and rules otherwise
// too; and removes what the previous lease had that this one has not.
func (d *dhcpClients) route(c *dhcpClient, l dhcp4.Lease) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var routes []netconf.Route
	var rules []netconf.Rule
	if l.Bound && l.Router.IsValid() && !dhcp4.UsableRouter(l) {
		// A gateway the kernel would refuse (outside the subnet) or that
		// cannot be one: the lease is kept without it, loudly, its name
		// servers included.
		d.log.Warn("ignoring a DHCP router that cannot be the gateway of the lease", zap.String("link", c.link),
			zap.Stringer("router", l.Router), zap.Stringer("address", l.Address))
		if d.record != nil && c.ignoredRouter != l.Router {
			d.record("warning", "DHCP_ROUTER_IGNORED", "DHCP lease "+l.Address.String()+" on "+c.link+": router "+l.Router.String()+
				" is outside the leased subnet or not a unicast host; no gateway from this lease")
		}
		c.ignoredRouter = l.Router
		l.Router = netip.Addr{}
	}
	if l.Bound {
		var unreachable []dhcp4.Route
		routes, rules, unreachable = leaseRouting(c.link, l, c.owner)
		for _, r := range unreachable {
			d.log.Warn("ignoring a classless static route whose router is outside the leased subnet",
				zap.String("link", c.link), zap.Stringer("dst", r.Dst), zap.Stringer("router", r.Router), zap.Stringer("address", l.Address))
		}
	}
	var plan netconf.Plan
	for _, r := range c.routes {
		if !slices.Contains(routes, r) {
			plan = append(plan, netconf.Step{Op: netconf.OpRouteDel, Link: r.Link, Route: r})
		}
	}
	for _, r := range c.rules {
		if !slices.Contains(rules, r) {
			plan = append(plan, netconf.Step{Op: netconf.OpRuleDel, Rule: r})
		}
	}
	for _, r := range routes {
		plan = append(plan, netconf.Step{Op: netconf.OpRouteAdd, Link: r.Link, Route: r})
	}
	for _, r := range rules {
		plan = append(plan, netconf.Step{Op: netconf.OpRuleAdd, Rule: r})
	}
	if _, err := d.applier.Apply(context.Background(), plan); err != nil {
		// The address is installed whatever its routes do: its name
		// servers and its events are still the lease's.
		d.log.Error("installing the routing of a DHCP lease", zap.String("link", c.link), zap.Error(err))
	} else {
		c.routes, c.rules = routes, rules
	}
	d.setDNS(c.id, l.Bound, l.DNS)
	if l.Bound != c.bound && d.record != nil {
		if l.Bound {
			d.record("normal", "DHCP_LEASE_ACQUIRED", "DHCP lease "+l.Address.String()+" on "+c.link)
		} else {
			d.record("warning", "DHCP_LEASE_LOST", "DHCP lease on "+c.link+" lost or released")
		}
	}
	c.bound = l.Bound
	if l.Bound {
		d.log.Info("DHCP lease", zap.String("link", c.link), zap.Stringer("address", l.Address), zap.Stringer("router", l.Router),
			zap.Int("static_routes", len(l.Routes)))
	}
}

// leaseRouting is the routing of a bound DHCPv4 lease on link: the
// gateway's, as for a static gateway, and option 121's classless static
// routes through link, in the main table and, when the network has its own
// table, there too, since the rules send the traffic of its subnet to that
// table first. A route through a router outside the leased subnet is
// returned apart: the kernel would refuse it. The leased subnet itself is
// the kernel's connected route already.
func leaseRouting(link string, l dhcp4.Lease, owner bool) (routes []netconf.Route, rules []netconf.Rule, unreachable []dhcp4.Route) {
	subnet := l.Address.Masked()
	var table int
	if l.Router.IsValid() {
		routes, rules = netconf.GatewayRouting(link, l.Address, l.Router, owner)
		table = netconf.SourceRouteTable(link)
	}
	for _, r := range l.Routes {
		if r.Dst == subnet {
			continue
		}
		if r.Router.IsValid() && !subnet.Contains(r.Router) {
			unreachable = append(unreachable, r)
			continue
		}
		routes = append(routes, netconf.Route{Dst: r.Dst, Gateway: r.Router, Link: link, Table: netconf.MainTable})
		if table != 0 {
			routes = append(routes, netconf.Route{Dst: r.Dst, Gateway: r.Router, Link: link, Table: table})
		}
	}
	return routes, rules, unreachable
}

func (d *dhcpClients) setDNS(key string, bound bool, dns []netip.Addr) {
	d.metrics.lease(key, bound)
	d.dnsMu.Lock()
	defer d.dnsMu.Unlock()
	if !bound {
		dns = nil
	}
	d.dns[key] = dns
}

// active reports whether any client runs.
func (d *dhcpClients) active() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.clients) > 0
}

// leaseDNS is the name servers of an attachment's current leases, IPv4's
// first.
func (d *dhcpClients) leaseDNS(id string) []netip.Addr {
	d.dnsMu.Lock()
	defer d.dnsMu.Unlock()
	return append(slices.Clone(d.dns[id]), d.dns[id+"-v6"]...)
}

// closeAll stops every client without releasing: a restarted hostnetd
// takes its leases over from the lease files.
func (d *dhcpClients) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id := range d.clients {
		d.stop(id, false)
	}
}

// reconcileDHCP runs the DHCP clients the running configuration needs. It
// reads the kernel (for the NICs' MACs) only when there is something to
// reconcile: most transactions on most hosts involve no DHCP.
func (e *Engine) reconcileDHCP(ctx context.Context) {
	nets, running := e.snapshot()
	if !e.dhcp.active() && !usesDHCP(running) {
		return
	}
	st, err := e.readState()
	if err != nil {
		e.log.Error("cannot start DHCP clients", zap.Error(err))
		return
	}
	e.dhcp.reconcile(ctx, running, nets, st)
}

func usesDHCP(cfg *netconf.Config) bool {
	return slices.ContainsFunc(cfg.Attachments, func(at netconf.Attachment) bool {
		return at.IPv4.Method == netconf.BootDHCP || at.IPv6.Method == netconf.BootDHCP || at.IPv6.Method == netconf.BootPolyDHCPAutoconf
	})
}
