//go:build vmtest

package integration

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestLostConnectionRollsBackBondChanges reproduces VDSM's rollback tests:
// each change waits for a confirmation that never comes, and must be undone
// exactly, with the LOST_CONNECTION fault.
func TestLostConnectionRollsBackBondChanges(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 4 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>base</name><vlan id="10"/><mtu>1600</mtu><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>n1</name><vlan id="11"/><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>n2</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, `<action><modified_bonds><host_nic><name>bond0</name><bonding><options>
<option><name>mode</name><value>4</value></option><option><name>miimon</name><value>100</value></option></options>
<slaves><host_nic><name>eth0</name></host_nic><host_nic><name>eth1</name></host_nic></slaves></bonding></host_nic></modified_bonds>
<modified_network_attachments>`+staticAttachment("base", "bond0", "192.0.2.1", "24")+`</modified_network_attachments></action>`)
	unconfirmed := func(body string) string {
		return `<action><check_connectivity>true</check_connectivity><connectivity_timeout>1</connectivity_timeout>` + body + `</action>`
	}
	tests := []struct{ name, body string }{
		{"new-network-on-the-existing-bond", unconfirmed(`<modified_network_attachments>` +
			staticAttachment("n1", "bond0", "198.51.100.1", "24") + `</modified_network_attachments>`)},
		{"new-network-on-a-new-bond", unconfirmed(`<modified_bonds><host_nic><name>bond1</name><bonding><slaves>
<host_nic><name>eth2</name></host_nic><host_nic><name>eth3</name></host_nic></slaves></bonding></host_nic></modified_bonds>
<modified_network_attachments>` + staticAttachment("n2", "bond1", "203.0.113.1", "24") + `</modified_network_attachments>`)},
		{"mtu-edit-and-bond-mode-4-to-1", unconfirmed(`<modified_bonds><host_nic><name>bond0</name><bonding><options>
<option><name>mode</name><value>1</value></option></options></bonding></host_nic></modified_bonds>
<modified_network_attachments>` + staticAttachment("n1", "bond0", "198.51.100.1", "24") + `</modified_network_attachments>`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, host)
			r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(tt.body))
			expectFault(t, r, http.StatusBadRequest, engine.CodeLostConnection)
			if got := dump(t, host); got != before {
				t.Errorf("not rolled back exactly:\n--- before\n%s\n--- after\n%s", before, got)
			}
		})
	}
}
