package integration

import (
	"encoding/hex"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestUnmanagedNetworks: the bridges on the host that no attachment owns
// are listed as the engine's unmanaged networks, with their host and
// host_nic; a DELETE removes one in a transaction, which a failure rolls
// back exactly; the managed network's bridge is neither listed nor touched.
func TestUnmanagedNetworks(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"0", "1", "2"} {
		nstest.Veth(t, host, "eth"+n, peer, "p"+n)
	}
	h := host.Handle
	for _, name := range []string{"br0", "brempty"} {
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	br := nstest.SetUp(t, host, "br0")
	if err := h.LinkSetMaster(nstest.Link(t, host, "eth2"), br); err != nil {
		t.Fatal(err)
	}
	addAddr(t, h, br, "203.0.113.1/24", 0)
	waitOperUp(t, host, "br0")

	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")))

	path := ag.HostPath() + "/unmanagednetworks"
	list := func() []string {
		var names []string
		for _, u := range parseXML(t, ag.Get(t, path)).All("unmanaged_network") {
			names = append(names, text(u, "name"))
		}
		return names
	}
	if got := list(); !slices.Equal(got, []string{"br0", "brempty"}) {
		t.Fatalf("unmanaged networks = %v; want [br0 brempty] (not vmnet)", got)
	}
	us := parseXML(t, ag.Get(t, path)).All("unmanaged_network")
	id, _ := us[0].Attr("id")
	if id != hex.EncodeToString([]byte("br0")) {
		t.Errorf("br0's id = %q; want its name in hex", id)
	}
	eth2, _ := parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth2")).Attr("id")
	if nic, _ := us[0].Child("host_nic").Attr("id"); nic != eth2 {
		t.Errorf("br0's host_nic = %q; want eth2's %q", nic, eth2)
	}
	if hostID, _ := us[0].Child("host").Attr("id"); hostID != ag.HostID() {
		t.Errorf("br0's host = %q; want %q", hostID, ag.HostID())
	}
	if us[1].Child("host_nic") != nil {
		t.Errorf("a bridge without ports has a host_nic: %s", us[1].Canonical())
	}
	for _, key := range []string{id, "br0"} {
		if got := parseXML(t, ag.Get(t, path+"/"+key)); got.Canonical() != us[0].Canonical() {
			t.Errorf("GET %s = %s", key, got.Canonical())
		}
	}
	expectFault(t, ag.Get(t, path+"/vmnet"), http.StatusNotFound, agent.CodeNotFound)
	expectFault(t, ag.Do(t, "DELETE", path+"/eth1", nil), http.StatusNotFound, agent.CodeNotFound)

	// A failure after the bridge went down: rolled back, exactly.
	before := dump(t, host)
	failAt.Store(1)
	expectFault(t, ag.Do(t, "DELETE", path+"/"+id, nil), http.StatusBadRequest, netconf.CodeFailedIfup)
	failAt.Store(-1)
	waitOperUp(t, host, "br0")
	if after := dump(t, host); after != before {
		t.Errorf("a failed removal changed the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
	waitEvent(t, ag, netconf.CodeFailedIfup, "br0")

	r := ag.Do(t, "DELETE", path+"/"+id, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("DELETE br0: %d\n%s", r.Status, r.Body)
	}
	if w := r.Header.Get("X-Hostnetd-Kernel-Writes"); w != "2" {
		t.Errorf("kernel writes = %s; want 2 (down, delete)", w)
	}
	st, err := kernel.ReadState(host)
	if err != nil {
		t.Fatal(err)
	}
	if _, still := st.Link("br0"); still {
		t.Error("br0 is still there")
	}
	if l, _ := st.Link("eth2"); l == nil || l.Master != "" {
		t.Errorf("eth2 after its bridge went: %+v", l)
	}
	if l, _ := st.Link("vmnet"); l == nil || l.Kind != netconf.KindBridge {
		t.Error("the managed bridge vmnet is gone")
	}
	if got := list(); !slices.Equal(got, []string{"brempty"}) {
		t.Errorf("unmanaged networks = %v; want [brempty]", got)
	}
	waitEvent(t, ag, "UNMANAGED_NETWORK_REMOVED", "br0")
	expectFault(t, ag.Do(t, "DELETE", path+"/"+id, nil), http.StatusNotFound, agent.CodeNotFound)
	checkAllInSync(t, ag)
}

func waitOperUp(t *testing.T, ns *kernel.Namespace, name string) {
	t.Helper()
	for deadline := time.Now().Add(eventWait); nstest.Link(t, ns, name).Attrs().OperState != netlink.OperUp; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up within 5 s", name)
		}
	}
}
