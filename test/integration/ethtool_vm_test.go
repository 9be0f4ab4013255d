//go:build vmtest

package integration

import (
	"net/http"
	"strings"
	"testing"
)

// TestEthtoolOptsOnBondSlavesVM: -K * on a bond's attachment sets every
// slave, a slave added later gets the settings too, and a slave changed
// behind hostnetd's back is drift of the bond's network, which a sync
// repairs.
func TestEthtoolOptsOnBondSlavesVM(t *testing.T) {
	e := vmStart(t, 3)
	e.network(vmNetA, "bondnet", "")
	attachment := `<network_attachment><network id="` + vmNetA + `"/><host_nic><name>bond0</name></host_nic>` +
		`<properties><property><name>ethtool_opts</name><value>-K * tso off gro on</value></property></properties></network_attachment>`
	body := `<action><modified_bonds>` + vmBond("bond0", "mode=1 miimon=100", "eth0", "eth1") +
		`</modified_bonds><modified_network_attachments>` + attachment + `</modified_network_attachments></action>`
	e.changed(e.setup(body))
	for _, dev := range []string{"eth0", "eth1"} {
		wantOffloads(t, e.ns, dev, map[string]string{"tso": "off", "gro": "on"})
	}
	wantOffloads(t, e.ns, "eth2", map[string]string{"tso": "on", "gro": "off"})
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)

	e.changed(e.setup(vmBondAction("bond0", "mode=1 miimon=100", "eth0", "eth1", "eth2")))
	wantOffloads(t, e.ns, "eth2", map[string]string{"tso": "off", "gro": "on"})

	setOffloadGroup(t, e.ns, "eth1", "gro", false)
	att := e.attachment(vmNetA)
	r := reported(att, "ethtool_opts")
	if r == nil || text(r, "in_sync") != "false" || !strings.Contains(text(r, "actual_value"), "ethtool -K eth1 gro off tso off") {
		t.Fatalf("a slave's offload changed by hand is not reported:\n%s", att.Canonical())
	}
	e.must(http.MethodPost, e.host("/syncallnetworks"), `<action/>`, http.StatusOK)
	wantOffloads(t, e.ns, "eth1", map[string]string{"tso": "off", "gro": "on"})
	checkAllInSync(t, e.ag)
}
