package integration

import (
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestHostInterfaceInAVMBridgeIsDrift: a NIC enslaved by hand to a VM
// network's bridge bridges its traffic into the network. The attachment is
// reported out of sync (bridge_ports), and a sync takes the NIC out again,
// leaving the bridge's own port.
func TestHostInterfaceInAVMBridgeIsDrift(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")))
	if err := host.Handle.LinkSetMaster(nstest.Link(t, host, "eth1"), nstest.Link(t, host, "vmnet")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		att := attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")))
		r := reported(att, "bridge_ports")
		if text(att, "in_sync") == "false" && r != nil && text(r, "expected_value") == "eth0" && text(r, "actual_value") == "eth0 eth1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stray port is not reported:\n%s", att.Canonical())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`)); r.Status != 200 {
		t.Fatalf("syncallnetworks: %d\n%s", r.Status, r.Body)
	}
	if _, master, _ := linkState(t, host, "eth1"); master != "" {
		t.Errorf("eth1 master after the sync = %q; want none", master)
	}
	if _, master, _ := linkState(t, host, "eth0"); master != "vmnet" {
		t.Errorf("eth0 master after the sync = %q; want vmnet", master)
	}
	checkAllInSync(t, ag)
}
