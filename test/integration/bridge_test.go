package integration

import (
	"net/http"
	"testing"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

func bridgeOptions(t *testing.T, ns *kernel.Namespace, name string) map[string]string {
	t.Helper()
	opts, err := kernel.ReadBridgeOptions(ns, []string{name})
	if err != nil {
		t.Fatal(err)
	}
	return opts[name]
}

// TestBridgeOptions: STP as the network says, bridge_opts from the
// attachment, both changed in place on an existing bridge.
func TestBridgeOptions(t *testing.T) {
	host, ag := engineHost(t)
	id := addNetwork(t, ag, `<network><name>vmnet</name><stp>true</stp><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>vmnet</name></network><host_nic><name>eth0</name></host_nic>
<properties><property><name>bridge_opts</name><value>multicast_snooping=0 multicast_router=0 priority=1</value></property></properties></network_attachment>`))
	got := bridgeOptions(t, host, "vmnet")
	for k, v := range map[string]string{"stp_state": "1", "multicast_snooping": "0", "multicast_router": "0", "priority": "1"} {
		if got[k] != v {
			t.Errorf("vmnet %s = %q; want %q", k, got[k], v)
		}
	}
	index := linkIndex(t, host, "vmnet")

	r := ag.Do(t, "PUT", "/ovirt-engine/api/networks/"+id, []byte(`<network><stp>false</stp></network>`))
	if r.Status != http.StatusOK {
		t.Fatalf("PUT network: %d\n%s", r.Status, r.Body)
	}
	setup(t, ag, modified(`<network_attachment><network><name>vmnet</name></network>
<properties><property><name>bridge_opts</name><value>priority=4096 forward_delay=400</value></property></properties></network_attachment>`))
	got = bridgeOptions(t, host, "vmnet")
	for k, v := range map[string]string{"stp_state": "0", "priority": "4096", "forward_delay": "400"} {
		if got[k] != v {
			t.Errorf("after the change vmnet %s = %q; want %q", k, got[k], v)
		}
	}
	if linkIndex(t, host, "vmnet") != index {
		t.Error("the bridge was re-created to change its options")
	}
}

func linkIndex(t *testing.T, ns *kernel.Namespace, name string) int {
	t.Helper()
	l, err := ns.Handle.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Index
}
