package integration

import (
	"net/http"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

// TestImpossibleStaticAddressingIsRefusedUpFront: a dry run and a
// transaction both refuse an address or gateway no host can use with 400
// BAD_ADDR_INVALID and no kernel write, where they were planned (dry run
// 200) and then failed (FAILED_IFUP) or were installed.
func TestImpossibleStaticAddressingIsRefusedUpFront(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>n0</name></network>`)
	before := dump(t, host)
	for _, c := range []struct{ addr, mask, gw string }{
		{"0.0.0.0", "24", ""}, {"192.0.2.10", "24", "198.51.100.1"}, {"192.0.2.10", "24", "0.0.0.0"},
		{"127.0.0.2", "8", ""}, {"192.0.2.10", "0", ""}, {"192.0.2.10", "24", "192.0.2.10"},
	} {
		body := modified(`<network_attachment><network><name>n0</name></network><host_nic><name>eth0</name></host_nic><ip_address_assignments>` +
			ipAssignmentXML("static", "v4", c.addr, c.mask, c.gw) + `</ip_address_assignments></network_attachment>`)
		for _, path := range []string{"/setupnetworks?dry_run=true", "/setupnetworks"} {
			r := ag.Do(t, "POST", ag.HostPath()+path, []byte(body), "Content-Type: application/xml")
			expectFault(t, r, http.StatusBadRequest, netconf.CodeBadAddr)
		}
	}
	if got := dump(t, host); got != before {
		t.Errorf("the namespace changed:\n--- before\n%s\n--- after\n%s", before, got)
	}
}
