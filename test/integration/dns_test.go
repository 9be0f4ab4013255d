package integration

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestNameserversOfTheDefaultRouteNetwork: its name servers go to the top
// of resolv.conf, ahead of the host's own, which are kept; removing them
// gives the file back as it was.
func TestNameserversOfTheDefaultRouteNetwork(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	original := "search example.org\nnameserver 9.9.9.9\n"
	if err := os.WriteFile(resolv, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.ResolvConf = resolv
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>default_route</usage></usages></network>`)
	withDNS := func(servers ...string) string {
		dns := ""
		for _, s := range servers {
			dns += "<name_server>" + s + "</name_server>"
		}
		return modified(`<network_attachment><network><name>mgmt</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>
<ip><address>192.0.2.10</address><netmask>24</netmask><gateway>192.0.2.1</gateway></ip></ip_address_assignment></ip_address_assignments>
<dns_resolver_configuration><name_servers>` + dns + `</name_servers></dns_resolver_configuration></network_attachment>`)
	}
	setup(t, ag, withDNS("192.0.2.53", "2001:db8::53"))
	data, _ := os.ReadFile(resolv)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var servers []string
	for _, l := range lines {
		if strings.HasPrefix(l, "nameserver ") {
			servers = append(servers, strings.TrimPrefix(l, "nameserver "))
		}
	}
	if strings.Join(servers, " ") != "192.0.2.53 2001:db8::53 9.9.9.9" {
		t.Errorf("name servers in order = %v; want the network's first, then the host's\n%s", servers, data)
	}
	if !strings.Contains(string(data), "search example.org") {
		t.Errorf("the host's search line was lost:\n%s", data)
	}
	// A change of name servers and address that fails and is rolled back
	// leaves resolv.conf as it was.
	failAt.Store(0)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(strings.Replace(withDNS("192.0.2.99"), "192.0.2.10", "192.0.2.11", 1)))
	expectFault(t, r, 400, netconf.CodeFailedIfup)
	failAt.Store(-1)
	if after, _ := os.ReadFile(resolv); string(after) != string(data) {
		t.Errorf("a rolled-back change altered resolv.conf:\n%s", after)
	}
	setup(t, ag, withDNS())
	if data, _ := os.ReadFile(resolv); string(data) != original {
		t.Errorf("after removing the name servers resolv.conf is\n%s\nwant it as it was\n%s", data, original)
	}
}
