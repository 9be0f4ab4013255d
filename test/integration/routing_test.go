package integration

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

func staticWithGateway(network, nic, addr, gw string) string {
	return `<network_attachment><network><name>` + network + `</name></network><host_nic><name>` + nic + `</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>
<ip><address>` + addr + `</address><netmask>24</netmask><gateway>` + gw + `</gateway></ip></ip_address_assignment></ip_address_assignments></network_attachment>`
}

// routesOf lists "table dst via gw dev" for the non-kernel IPv4 routes.
func routesOf(t *testing.T, ns *kernel.Namespace) []string {
	t.Helper()
	st, err := kernel.ReadState(ns)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range st.Routes {
		if r.Protocol == netconf.ProtoKernel || !r.Dst.Addr().Is4() {
			continue
		}
		gw := ""
		if r.Gateway.IsValid() {
			gw = " via " + r.Gateway.String()
		}
		out = append(out, strconv.Itoa(r.Table)+" "+r.Dst.String()+gw+" dev "+r.Link)
	}
	return out
}

func hasRule(t *testing.T, ns *kernel.Namespace, src bool, prefix string, table int) bool {
	t.Helper()
	rules, err := ns.Handle.RuleList(unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		n := r.Dst
		if src {
			n = r.Src
		}
		if r.Priority == netconf.SourceRoutePriority && r.Table == table && n != nil && n.String() == prefix {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDefaultRouteAndSourceRouting: the default_route network owns the
// main table's default route; every network with a static gateway gets its
// own table and from/to rules; a gateway elsewhere never touches the main
// default route; giving default_route to another network moves it.
func TestDefaultRouteAndSourceRouting(t *testing.T) {
	host, ag := engineHost(t)
	mgmt := addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage><usage>default_route</usage></usages></network>`)
	storage := addNetwork(t, ag, `<network><name>storage</name></network>`)
	setup(t, ag, modified(staticWithGateway("mgmt", "eth0", "192.0.2.10", "192.0.2.1"), staticWithGateway("storage", "eth1", "198.51.100.10", "198.51.100.1")))

	tMgmt, tStorage := netconf.SourceRouteTable("mgmt"), netconf.SourceRouteTable("eth1")
	routes := routesOf(t, host)
	for _, want := range []string{
		"254 0.0.0.0/0 via 192.0.2.1 dev mgmt",
		strconv.Itoa(tMgmt) + " 0.0.0.0/0 via 192.0.2.1 dev mgmt",
		strconv.Itoa(tMgmt) + " 192.0.2.0/24 dev mgmt",
		strconv.Itoa(tStorage) + " 0.0.0.0/0 via 198.51.100.1 dev eth1",
		strconv.Itoa(tStorage) + " 198.51.100.0/24 dev eth1",
	} {
		if !contains(routes, want) {
			t.Errorf("missing route %q in %v", want, routes)
		}
	}
	if contains(routes, "254 0.0.0.0/0 via 198.51.100.1 dev eth1") {
		t.Error("a network without default_route installed a main-table default route")
	}
	for _, r := range []struct {
		src    bool
		prefix string
		table  int
	}{{true, "192.0.2.0/24", tMgmt}, {false, "192.0.2.0/24", tMgmt}, {true, "198.51.100.0/24", tStorage}, {false, "198.51.100.0/24", tStorage}} {
		if !hasRule(t, host, r.src, r.prefix, r.table) {
			t.Errorf("missing rule from=%v %s lookup %d", r.src, r.prefix, r.table)
		}
	}
	// The gateway of a non-default network is reported from its own table.
	eth1 := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth1"))
	if got := text(eth1, "ip", "gateway"); got != "198.51.100.1" {
		t.Errorf("eth1 gateway = %q; want 198.51.100.1 from its own table", got)
	}

	// default_route moves to storage: the main default route follows.
	r := ag.Do(t, "PUT", "/ovirt-engine/api/networks/"+storage, []byte(`<network><usages><usage>default_route</usage></usages></network>`))
	if r.Status != http.StatusOK {
		t.Fatalf("PUT storage usages: %d\n%s", r.Status, r.Body)
	}
	routes = routesOf(t, host)
	if !contains(routes, "254 0.0.0.0/0 via 198.51.100.1 dev eth1") || contains(routes, "254 0.0.0.0/0 via 192.0.2.1 dev mgmt") {
		t.Errorf("after moving default_route the main table has %v", routes)
	}
	if n := parseXML(t, ag.Get(t, "/ovirt-engine/api/networks/"+mgmt)); strings.Contains(n.Canonical(), "default_route") {
		t.Error("mgmt still has the default_route usage")
	}

	// Changing a gateway replaces the old one in the network's table.
	setup(t, ag, modified(staticWithGateway("storage", "eth1", "198.51.100.10", "198.51.100.254")))
	routes = routesOf(t, host)
	if contains(routes, strconv.Itoa(tStorage)+" 0.0.0.0/0 via 198.51.100.1 dev eth1") || !contains(routes, strconv.Itoa(tStorage)+" 0.0.0.0/0 via 198.51.100.254 dev eth1") {
		t.Errorf("after the gateway change: %v", routes)
	}

	// Going static → none (on mgmt, which no longer owns the default
	// route) removes its table's routes and its rules.
	setup(t, ag, modified(`<network_attachment><network><name>mgmt</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>none</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`))
	for _, r := range routesOf(t, host) {
		if strings.HasPrefix(r, strconv.Itoa(tMgmt)+" ") || strings.Contains(r, "dev mgmt") {
			t.Errorf("route left behind: %s", r)
		}
	}
	if hasRule(t, host, true, "192.0.2.0/24", tMgmt) || hasRule(t, host, false, "192.0.2.0/24", tMgmt) {
		t.Error("rule left behind")
	}
}
