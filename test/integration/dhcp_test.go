package integration

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// startDnsmasq serves DHCP for 192.0.3.0/24 (router 192.0.3.1) on iface of
// ns, the test's stand-in for the site's DHCP server.
func startDnsmasq(t *testing.T, ns *kernel.Namespace, iface string) {
	t.Helper()
	startDnsmasqOn(t, ns, iface, "192.0.3")
}

// startDnsmasqOn serves DHCP for NET.0/24, router NET.1, on iface of ns.
func startDnsmasqOn(t *testing.T, ns *kernel.Namespace, iface, subnet string) {
	t.Helper()
	addAddr(t, ns.Handle, nstest.Link(t, ns, iface), subnet+".1/24", 0)
	runDnsmasq(t, ns, iface, "--dhcp-authoritative", "--dhcp-option=3,"+subnet+".1", "--dhcp-option=6", "--no-ping",
		"--dhcp-range="+subnet+".10,"+subnet+".200,2m")
}

// runDnsmasq runs dnsmasq in ns, serving only iface, with no configuration
// file, no DNS service and nothing written to disk, until the test ends;
// its log is shown if the test fails.
func runDnsmasq(t *testing.T, ns *kernel.Namespace, iface string, args ...string) {
	t.Helper()
	base := []string{"netns", "exec", ns.Name, "dnsmasq", "--conf-file=/dev/null", "-p", "0", "-d",
		"--bind-dynamic", "-i", iface, "--user=root", "--pid-file=", "--leasefile-ro"}
	cmd := exec.Command("ip", append(base, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dnsmasq: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", out.String())
		}
	})
}

// waitAddr waits for a dynamic IPv4 address on dev and returns it.
func waitAddr(t *testing.T, ns *kernel.Namespace, dev string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if l, err := ns.Handle.LinkByName(dev); err == nil {
			addrs, _ := ns.Handle.AddrList(l, netlink.FAMILY_V4)
			for _, a := range addrs {
				if a.ValidLft > 0 && a.ValidLft < 1<<31 {
					return a.IPNet.String()
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no DHCP address on %s within 30 s", dev)
	return ""
}

// waitLease waits for a DHCPv4 lease on dev and returns its address, once
// the client has also installed the lease's routes: it does so just after
// the address, and records DHCP_LEASE_ACQUIRED after them.
func waitLease(t *testing.T, ag *agenttest.Agent, ns *kernel.Namespace, dev string) string {
	t.Helper()
	addr := waitAddr(t, ns, dev)
	waitEventWithin(t, ag, "DHCP_LEASE_ACQUIRED", addr+" on "+dev, 10*time.Second)
	return addr
}

func TestDHCPLeaseSurvivesBridgingAndIsReleased(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	startDnsmasq(t, peer, "p0")
	ag := agenttest.Start(t, host)
	id := addNetwork(t, ag, `<network><name>dyn</name><usages><usage>default_route</usage></usages></network>`)
	dhcp := modified(`<network_attachment><network><name>dyn</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`)
	setup(t, ag, dhcp) // returns before the lease: DHCP never blocks a transaction
	addr := waitAddr(t, host, "eth0")
	// The client installs the lease's routes just after its address.
	const defaultRoute = "254 0.0.0.0/0 via 192.0.3.1 dev eth0"
	for deadline := time.Now().Add(eventWait); !contains(routesOf(t, host), defaultRoute) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	nic := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0"))
	if text(nic, "boot_protocol") != "dhcp" || text(nic, "ip", "gateway") != "192.0.3.1" {
		t.Errorf("eth0 reports %s", nic.Canonical())
	}
	if !contains(routesOf(t, host), defaultRoute) {
		t.Errorf("the default-route network's lease did not install the default route: %v", routesOf(t, host))
	}
	if writes := setup(t, ag, dhcp); writes != 0 {
		t.Errorf("re-applying a DHCP attachment made %d kernel writes", writes)
	}

	// Bridged now: the bridge takes eth0's MAC, so the lease is the same.
	if r := ag.Do(t, "PUT", "/ovirt-engine/api/networks/"+id, []byte(`<network><usages><usage>vm</usage><usage>default_route</usage></usages></network>`)); r.Status != 200 {
		t.Fatalf("PUT network: %d\n%s", r.Status, r.Body)
	}
	if got := waitAddr(t, host, "dyn"); got != addr {
		t.Errorf("after bridging the lease is %s; want the same %s", got, addr)
	}

	setup(t, ag, `<action><removed_network_attachments><network_attachment><network><name>dyn</name></network></network_attachment></removed_network_attachments></action>`)
	time.Sleep(500 * time.Millisecond)
	for _, r := range routesOf(t, host) {
		if strings.Contains(r, "192.0.3.1") {
			t.Errorf("route left behind after release: %s", r)
		}
	}
	if _, _, addrs := linkState(t, host, "eth0"); len(addrs) != 0 {
		t.Errorf("eth0 addresses after removal: %v", addrs)
	}
}

// TestDHCPClasslessStaticRoutes: a server sending option 121 gets its
// routes installed through the network's device, in the main table and in
// the network's own table, and its default route replaces option 3's
// router (RFC 3442); a route through a router outside the subnet is left
// out; releasing the lease takes every route away.
func TestDHCPClasslessStaticRoutes(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	addAddr(t, peer.Handle, nstest.Link(t, peer, "p0"), "192.0.3.1/24", 0)
	runDnsmasq(t, peer, "p0", "--dhcp-authoritative", "--dhcp-option=6", "--no-ping", "--dhcp-range=192.0.3.10,192.0.3.200,2m",
		"--dhcp-option=3,192.0.3.1",
		"--dhcp-option=121,10.9.0.0/16,192.0.3.254,172.16.5.0/24,0.0.0.0,198.18.0.0/15,203.0.113.1,0.0.0.0/0,192.0.3.2")
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>cls</name><usages><usage>default_route</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>cls</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`))
	waitAddr(t, host, "eth0")

	table := strconv.Itoa(netconf.SourceRouteTable("eth0"))
	want := []string{
		"254 0.0.0.0/0 via 192.0.3.2 dev eth0",
		"254 10.9.0.0/16 via 192.0.3.254 dev eth0",
		"254 172.16.5.0/24 dev eth0",
		table + " 0.0.0.0/0 via 192.0.3.2 dev eth0",
		table + " 10.9.0.0/16 via 192.0.3.254 dev eth0",
		table + " 172.16.5.0/24 dev eth0",
		table + " 192.0.3.0/24 dev eth0",
	}
	var got []string
	for deadline := time.Now().Add(eventWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = routesOf(t, host); len(got) >= len(want) {
			break
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("routes of the lease:\n got %q\nwant %q", got, want)
	}
	if nic := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0")); text(nic, "ip", "gateway") != "192.0.3.2" {
		t.Errorf("eth0 reports gateway %q; want option 121's 192.0.3.2, not option 3's 192.0.3.1", text(nic, "ip", "gateway"))
	}

	setup(t, ag, `<action><removed_network_attachments><network_attachment><network><name>cls</name></network></network_attachment></removed_network_attachments></action>`)
	left := routesOf(t, host)
	for deadline := time.Now().Add(eventWait); len(left) != 0 && time.Now().Before(deadline); left = routesOf(t, host) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(left) != 0 {
		t.Errorf("routes left after the lease was released: %q", left)
	}
}

// TestDHCPAddressInUseIsDeclinedAndRecorded: the server's only address is
// held by another host on the link; the client declines it, never
// installs it, and the event log says which address, server and holder.
func TestDHCPAddressInUseIsDeclinedAndRecorded(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	p0 := nstest.Link(t, peer, "p0")
	addAddr(t, peer.Handle, p0, "192.0.3.1/24", 0)
	addAddr(t, peer.Handle, p0, "192.0.3.10/24", 0) // the other host
	runDnsmasq(t, peer, "p0", "--dhcp-authoritative", "--no-ping", "--dhcp-range=192.0.3.10,192.0.3.10,2m")
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>dyn</name></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>dyn</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`))
	waitEventWithin(t, ag, "DHCP_ADDRESS_CONFLICT", "offered 192.0.3.10 on eth0, which "+p0.Attrs().HardwareAddr.String(), 15*time.Second)
	if _, _, addrs := linkState(t, host, "eth0"); len(addrs) != 0 {
		t.Errorf("eth0 has %v; the address in use must not be installed", addrs)
	}
	metrics := ag.Get(t, "/metrics")
	if m := parseMetrics(t, string(metrics.Body)); m[`hostnetd_dhcp_lease_changes_total{change="declined",family="ipv4"}`] < 1 {
		t.Errorf("no declined offer counted in the metrics:\n%s", metrics.Body)
	}
}

// startRA advertises fdb3:84e5:4ff4:55e3::/64 for SLAAC on iface of ns.
func startRA(t *testing.T, ns *kernel.Namespace, iface string) {
	t.Helper()
	addAddr(t, ns.Handle, nstest.Link(t, ns, iface), "fdb3:84e5:4ff4:55e3::1/64", 0)
	runDnsmasq(t, ns, iface, "--enable-ra", "--dhcp-range=fdb3:84e5:4ff4:55e3::,slaac,64,2m", "--ra-param="+iface+",3")
}

// TestIPv6AutoconfGetsASLAACAddress: autoconf enables router
// advertisements and SLAAC on the network's device; the address that forms
// is reported with ipv6_boot_protocol autoconf.
func TestIPv6AutoconfGetsASLAACAddress(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	startRA(t, peer, "p0")
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>v6</name></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>v6</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>autoconf</assignment_method><ip><version>v6</version></ip></ip_address_assignment></ip_address_assignments></network_attachment>`))
	deadline := time.Now().Add(30 * time.Second)
	for {
		nic := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0"))
		if strings.HasPrefix(text(nic, "ipv6", "address"), "fdb3:84e5:4ff4:55e3:") {
			if got := text(nic, "ipv6_boot_protocol"); got != "autoconf" {
				t.Errorf("ipv6_boot_protocol = %q; want autoconf", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SLAAC address within 30 s:\n%s", nic.Canonical())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDHCPv6LeaseIsInstalledAndReported: an attachment with IPv6 dhcp gets
// an address from a DHCPv6 server, reported as ipv6_boot_protocol dhcp.
func TestDHCPv6LeaseIsInstalledAndReported(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	addAddr(t, peer.Handle, nstest.Link(t, peer, "p0"), "fdb3:84e5:4ff4:55e3::1/64", 0)
	runDnsmasq(t, peer, "p0", "--dhcp-range=fdb3:84e5:4ff4:55e3::a,fdb3:84e5:4ff4:55e3::64,2m", "--no-ping")
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>v6</name></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>v6</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method><ip><version>v6</version></ip></ip_address_assignment></ip_address_assignments></network_attachment>`))
	deadline := time.Now().Add(30 * time.Second)
	for {
		nic := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0"))
		if strings.HasPrefix(text(nic, "ipv6", "address"), "fdb3:84e5:4ff4:55e3::") {
			if got := text(nic, "ipv6_boot_protocol"); got != "dhcp" {
				t.Errorf("ipv6_boot_protocol = %q; want dhcp", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DHCPv6 address within 30 s:\n%s", nic.Canonical())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTwoDHCPNetworksOnlyTheOwnerHasTheDefaultRoute: both leases give a
// router; only the default-route network's becomes the main default route,
// the other's goes to its own table; then dhcp → static with the server
// still running releases the lease and keeps only the static address.
func TestTwoDHCPNetworksOnlyTheOwnerHasTheDefaultRoute(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	startDnsmasqOn(t, peer, "p0", "192.0.3")
	startDnsmasqOn(t, peer, "p1", "192.0.4")
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>default_route</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>data</name></network>`)
	dhcpOn := func(net, nic string) string {
		return `<network_attachment><network><name>` + net + `</name></network><host_nic><name>` + nic + `</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`
	}
	setup(t, ag, modified(dhcpOn("mgmt", "eth0"), dhcpOn("data", "eth1")))
	waitAddr(t, host, "eth0")
	waitAddr(t, host, "eth1")
	deadline := time.Now().Add(eventWait)
	table := strconv.Itoa(netconf.SourceRouteTable("eth1"))
	for {
		routes := routesOf(t, host)
		if contains(routes, "254 0.0.0.0/0 via 192.0.3.1 dev eth0") && contains(routes, table+" 0.0.0.0/0 via 192.0.4.1 dev eth1") {
			if contains(routes, "254 0.0.0.0/0 via 192.0.4.1 dev eth1") {
				t.Errorf("the network without default_route installed a main default route: %v", routes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("routes from the leases: %v", routes)
		}
		time.Sleep(50 * time.Millisecond)
	}

	setup(t, ag, modified(staticWithGateway("data", "eth1", "192.0.4.250", "192.0.4.1")))
	time.Sleep(300 * time.Millisecond)
	if _, _, addrs := linkState(t, host, "eth1"); strings.Join(addrs, " ") != "192.0.4.250/24" {
		t.Errorf("eth1 after dhcp → static: %v; want only the static address", addrs)
	}
	if text(parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth1")), "boot_protocol") != "static" {
		t.Error("eth1 is not reported static")
	}
}
