package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestDHCPRouterOutsideTheSubnetKeepsTheLeaseAndItsDNS: a server whose
// router option is outside the leased subnet, and whose name servers
// include broadcast, multicast and loopback addresses: the lease is
// installed without a gateway (DHCP_ROUTER_IGNORED says why), and its sane
// name server still reaches resolv.conf, the others never.
func TestDHCPRouterOutsideTheSubnetKeepsTheLeaseAndItsDNS(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	addAddr(t, peer.Handle, nstest.Link(t, peer, "p0"), "192.0.3.1/24", 0)
	runDnsmasq(t, peer, "p0", "--dhcp-authoritative", "--no-ping", "--dhcp-range=192.0.3.10,192.0.3.200,2m",
		"--dhcp-option=3,198.51.100.1", "--dhcp-option=6,255.255.255.255,224.0.0.1,127.0.0.1,192.0.3.53")
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 9.9.9.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) { o.ResolvConf = resolv })
	addNetwork(t, ag, `<network><name>dyn</name><usages><usage>default_route</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>dyn</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`))
	waitEventWithin(t, ag, "DHCP_LEASE_ACQUIRED", " on eth0", 30*time.Second)
	waitEvent(t, ag, "DHCP_ROUTER_IGNORED", "198.51.100.1")
	for _, r := range routesOf(t, host) {
		if strings.Contains(r, "198.51.100.1") {
			t.Errorf("a route through the unreachable router: %s", r)
		}
	}
	var data []byte
	for deadline := time.Now().Add(eventWait); ; time.Sleep(20 * time.Millisecond) {
		data, _ = os.ReadFile(resolv)
		if strings.Contains(string(data), "192.0.3.53") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(string(data), "nameserver 192.0.3.53\n") {
		t.Errorf("the lease's sane name server is not in resolv.conf:\n%s", data)
	}
	for _, bad := range []string{"255.255.255.255", "224.0.0.1", "127.0.0.1"} {
		if strings.Contains(string(data), bad) {
			t.Errorf("resolv.conf has the hostile name server %s:\n%s", bad, data)
		}
	}
}
