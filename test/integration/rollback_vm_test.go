//go:build vmtest

package integration

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestFailureAtEveryStepOfABondAndVLANPlan is the fault-injection test on a
// kernel with bonding and 802.1q: a plan that changes a bond's mode, raises
// its MTU, creates a second bond and three bridged VLAN networks with
// addresses is failed at each of its steps in turn; every time, the
// namespace must be byte-identical to the state before.
func TestFailureAtEveryStepOfABondAndVLANPlan(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 4 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>base</name><vlan id="10"/><usages><usage>vm</usage></usages></network>`)
	for _, v := range []string{"100", "101", "102"} {
		addNetwork(t, ag, `<network><name>v`+v+`</name><vlan id="`+v+`"/><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`)
	}
	addNetwork(t, ag, `<network><name>other</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, `<action><modified_bonds><host_nic><name>bond0</name><bonding><options>
<option><name>mode</name><value>1</value></option><option><name>miimon</name><value>100</value></option></options>
<slaves><host_nic><name>eth0</name></host_nic><host_nic><name>eth1</name></host_nic></slaves></bonding></host_nic></modified_bonds>
<modified_network_attachments>`+staticAttachment("base", "bond0", "192.0.2.1", "24")+`</modified_network_attachments></action>`)

	request := `<action><modified_bonds>
<host_nic><name>bond0</name><bonding><options><option><name>mode</name><value>4</value></option><option><name>miimon</name><value>100</value></option></options></bonding></host_nic>
<host_nic><name>bond1</name><bonding><options><option><name>mode</name><value>1</value></option></options>
<slaves><host_nic><name>eth2</name></host_nic><host_nic><name>eth3</name></host_nic></slaves></bonding></host_nic>
</modified_bonds><modified_network_attachments>` +
		staticAttachment("v100", "bond0", "198.51.100.1", "24") + staticAttachment("v101", "bond0", "198.51.101.1", "24") +
		staticAttachment("v102", "bond0", "198.51.102.1", "24") + staticAttachment("other", "bond1", "203.0.113.1", "24") +
		`</modified_network_attachments></action>`
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
		if i > 200 {
			t.Fatal("the transaction never succeeded")
		}
	}
	t.Logf("failed and rolled back at each of %d steps", steps)
	if steps < 20 {
		t.Errorf("the plan had only %d steps", steps)
	}
	bond := nstest.Link(t, host, "bond0")
	if mode := bond.(interface{ Type() string }).Type(); mode != "bond" {
		t.Fatalf("bond0 is a %s", mode)
	}
	for _, dev := range []string{"bond0.100", "bond0.101", "bond0.102", "bond1", "v100", "other"} {
		if !linkExists(host, dev) {
			t.Errorf("%s missing after the successful run", dev)
		}
	}
	if mtu, _, _ := linkState(t, host, "bond0"); mtu != 2000 {
		t.Errorf("bond0 mtu = %d; want 2000, the largest of its networks", mtu)
	}
}
