package integration

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestFailureAtEveryStepRollsBackExactly fails a multi-step transaction at
// each step of its plan in turn and checks, each time, that the namespace is
// byte-for-byte what it was and the stored configuration unchanged; then
// lets it through.
func TestFailureAtEveryStepRollsBackExactly(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"eth0", "eth1", "eth2", "eth3"} {
		nstest.Veth(t, host, n, peer, "p"+n[3:])
	}
	// A foreign address and MTU the transaction must take away and give back.
	addAddr(t, host.Handle, nstest.Link(t, host, "eth2"), "203.0.113.5/24", 0)
	addAddr(t, host.Handle, nstest.Link(t, host, "eth3"), "198.51.100.9/24", 600)
	if err := host.Handle.LinkSetMTU(nstest.Link(t, host, "eth3"), 1400); err != nil {
		t.Fatal(err)
	}
	// A route through eth3's gateway, which the kernel drops with the address.
	_, dst, _ := net.ParseCIDR("10.9.0.0/16")
	if err := host.Handle.RouteAdd(&netlink.Route{LinkIndex: nstest.Link(t, host, "eth3").Attrs().Index, Dst: dst, Gw: net.ParseIP("198.51.100.1")}); err != nil {
		t.Fatal(err)
	}
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>base</name><mtu>1600</mtu><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>vm1</name><mtu>9000</mtu><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>vm2</name><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>plain</name></network>`)
	setup(t, ag, modified(staticAttachment("base", "eth0", "192.0.2.1", "24")))

	request := modified(
		staticAttachment("base", "eth1", "192.0.2.1", "24"), // moves base from eth0 to eth1
		staticAttachment("vm1", "eth2", "192.0.2.11", "24"),
		staticAttachment("vm2", "eth0", "192.0.2.12", "24"),
		staticAttachment("plain", "eth3", "192.0.2.13", "24"),
	)
	steps := failAtEveryStep(t, host, ag, &failAt, request)
	if steps < 10 {
		t.Errorf("the plan had only %d steps; the test wants a long one", steps)
	}
	if _, master, _ := linkState(t, host, "eth1"); master != "base" {
		t.Errorf("after the successful run eth1 master = %q; want base", master)
	}
}

// failAtEveryStep sends request once per step of its plan, failing that
// step, and checks each time that the namespace and the stored attachments
// are exactly as before; then lets it through and returns its step count.
func failAtEveryStep(t *testing.T, host *kernel.Namespace, ag *agenttest.Agent, failAt *atomic.Int64, request string) int {
	t.Helper()
	before, beforeAtts := dump(t, host), string(ag.Get(t, ag.HostPath()+"/networkattachments").Body)
	for i := 0; ; i++ {
		failAt.Store(int64(i))
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request))
		if r.Status == http.StatusOK {
			failAt.Store(-1)
			t.Logf("failed and rolled back at each of %d steps", i)
			return i
		}
		if i > 60 {
			t.Fatalf("the transaction never succeeded; the last answer:\n%s", r.Body)
		}
		expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
		if got := dump(t, host); got != before {
			t.Fatalf("after a failure at step %d the namespace differs:\n--- before\n%s\n--- after\n%s", i, before, got)
		}
		if got := string(ag.Get(t, ag.HostPath()+"/networkattachments").Body); got != beforeAtts {
			t.Fatalf("after a failure at step %d the stored attachments changed", i)
		}
	}
}

// TestRollbackRestoresTheDefaultRouteAndRules moves addresses and gateways
// between networks, failing at every step: the main default route, the
// source-routing tables and the rules must come back each time.
func TestRollbackRestoresTheDefaultRouteAndRules(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"eth0", "eth1", "eth2"} {
		nstest.Veth(t, host, n, peer, "p"+n[3:])
	}
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage><usage>default_route</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>storage</name></network>`)
	setup(t, ag, modified(staticWithGateway("mgmt", "eth0", "192.0.2.10", "192.0.2.1"), staticWithGateway("storage", "eth1", "198.51.100.10", "198.51.100.1")))
	steps := failAtEveryStep(t, host, ag, &failAt, modified(
		staticWithGateway("mgmt", "eth2", "192.0.2.20", "192.0.2.254"),
		staticWithGateway("storage", "eth1", "198.51.100.11", "198.51.100.254")))
	if steps < 8 {
		t.Errorf("the plan had only %d steps", steps)
	}
}
