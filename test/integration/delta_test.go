package integration

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// A request is a delta: one that changes no device touches none, not even
// a device that drifted from its configuration (syncing is asked for
// explicitly). Such a request once planned for the whole host, and put the
// drifted device back.
func TestARequestThatChangesNothingLeavesDriftAlone(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>other</name></network>`)
	other := staticAttachment("other", "eth1", "198.51.100.1", "24")
	setup(t, ag, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24"), other))
	if err := host.Handle.LinkSetMTU(nstest.Link(t, host, "vmnet"), 1501); err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ name, body string }{
		{"an attachment sent back unchanged", modified(other)},
		{"an empty action", "<action/>"},
	} {
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(req.body), "Content-Type: application/xml")
		if r.Status != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", req.name, r.Status, r.Body)
		}
		if w := r.Header.Get("X-Hostnetd-Kernel-Writes"); w != strconv.Itoa(0) {
			t.Errorf("%s: X-Hostnetd-Kernel-Writes = %s; want 0", req.name, w)
		}
		if mtu, _, _ := linkState(t, host, "vmnet"); mtu != 1501 {
			t.Errorf("%s: the drifted bridge's MTU is %d; want 1501, untouched", req.name, mtu)
		}
	}
}
