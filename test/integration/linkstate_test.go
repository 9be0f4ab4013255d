package integration

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestLinkStateIsVerifiedAndDrifts: a NIC set down while a change is
// applied fails verification (the change is rolled back), and a NIC set
// down later makes its attachment drift (link_state), which
// syncallnetworks clears by setting it up again.
func TestLinkStateIsVerifiedAndDrifts(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	var once sync.Once
	var sabotage atomic.Bool
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		// Called as the plan is handed to the kernel: the first time, an
		// administrator sets eth0 down just then.
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(int, netconf.Step) bool {
			if sabotage.Load() {
				once.Do(func() {
					if err := host.Handle.LinkSetDown(nstest.Link(t, host, "eth0")); err != nil {
						t.Error(err)
					}
				})
			}
			return false
		})
	})
	addNetwork(t, ag, `<network><name>n0</name><usages><usage>vm</usage></usages></network>`)
	request := modified(staticAttachment("n0", "eth0", "192.0.2.1", "24"))
	before := dump(t, host)
	sabotage.Store(true)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request), "Content-Type: application/xml")
	sabotage.Store(false)
	expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
	if !strings.Contains(string(r.Body), "eth0.state") {
		t.Errorf("the failure does not name eth0's state: %s", r.Body)
	}
	if got := dump(t, host); got != before {
		t.Errorf("after the rollback the namespace differs:\n--- before\n%s\n--- after\n%s", before, got)
	}

	setup(t, ag, request)
	if err := host.Handle.LinkSetDown(nstest.Link(t, host, "eth0")); err != nil {
		t.Fatal(err)
	}
	waitEventWithin(t, ag, "NETWORK_OUT_OF_SYNC", "link_state", 10*time.Second)
	att := attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")))
	if text(att, "in_sync") != "false" || !strings.Contains(att.Canonical(), "link_state") {
		t.Errorf("eth0 down: the attachment is not reported out of sync by link_state:\n%s", att.Canonical())
	}
	if r := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`)); r.Status != http.StatusOK {
		t.Fatalf("syncallnetworks: %d\n%s", r.Status, r.Body)
	}
	if l := nstest.Link(t, host, "eth0"); l.Attrs().RawFlags&1 == 0 {
		t.Error("syncallnetworks did not set eth0 up again")
	}
	checkAllInSync(t, ag)
}

// TestRollbackRecreatesABridgeOnAKernelWithoutVLANFiltering: a
// transaction that deletes a bridge and then fails re-creates it from its
// snapshot, which holds every bridge option read back, vlan_filtering 0
// included; a kernel built without bridge VLAN filtering (as this test
// machine's) refuses to be told vlan_filtering 0, and the bridge stayed
// gone. It is now left out of the creation (it is every bridge's default).
func TestRollbackRecreatesABridgeOnAKernelWithoutVLANFiltering(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	var fail atomic.Bool
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, s netconf.Step) bool { return fail.Load() && s.Op == netconf.OpAddrAdd })
	})
	addNetwork(t, ag, `<network><name>n0</name><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>n1</name></network>`)
	setup(t, ag, modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")))
	before := dump(t, host)
	fail.Store(true)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><removed_network_attachments><network_attachment><network><name>n0</name></network></network_attachment></removed_network_attachments>`+
		`<modified_network_attachments>`+staticAttachment("n1", "eth1", "198.51.100.1", "24")+`</modified_network_attachments></action>`), "Content-Type: application/xml")
	fail.Store(false)
	expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
	if !linkExists(host, "n0") {
		t.Fatalf("the rollback did not re-create bridge n0:\n%s", r.Body)
	}
	if got := dump(t, host); got != before {
		t.Errorf("after the rollback the namespace differs:\n--- before\n%s\n--- after\n%s", before, got)
	}
}
