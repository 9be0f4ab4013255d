package integration

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/netconf"
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
		o.FailStep = func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() }
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
	before, beforeAtts := dump(t, host), string(ag.Get(t, ag.HostPath()+"/networkattachments").Body)
	steps := 0
	for i := 0; ; i++ {
		failAt.Store(int64(i))
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request))
		if r.Status == http.StatusOK {
			steps = i
			break
		}
		expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
		if got := dump(t, host); got != before {
			t.Fatalf("after a failure at step %d the namespace differs:\n--- before\n%s\n--- after\n%s", i, before, got)
		}
		if got := string(ag.Get(t, ag.HostPath()+"/networkattachments").Body); got != beforeAtts {
			t.Fatalf("after a failure at step %d the stored attachments changed", i)
		}
		if i > 100 {
			t.Fatal("the transaction never succeeded")
		}
	}
	if steps < 10 {
		t.Errorf("the plan had only %d steps; the test wants a long one", steps)
	}
	t.Logf("failed and rolled back at each of %d steps", steps)
	if _, master, _ := linkState(t, host, "eth1"); master != "base" {
		t.Errorf("after the successful run eth1 master = %q; want base", master)
	}
}
