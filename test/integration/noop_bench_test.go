package integration

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// BenchmarkNoopReapply times a setupnetworks that changes nothing,
// through the agent's HTTP API: the request that built a veth analog of
// the scale benchmark's S(N) (N NICs, each with a bridged network and a
// static address), sent again. make bench measures the same in the VM
// against the apply; this one shows where the time and the allocations
// go (-cpuprofile, -memprofile) on this kernel.
func BenchmarkNoopReapply(b *testing.B) {
	eachSize(b, func(b *testing.B, ag *agenttest.Agent, apply []byte) {
		path := ag.HostPath() + "/setupnetworks"
		for b.Loop() {
			r := ag.Do(b, "POST", path, apply, "Content-Type: application/xml")
			if r.Status != http.StatusOK || r.Header.Get("X-Hostnetd-Kernel-Writes") != "0" {
				b.Fatalf("no-op setupnetworks: %d, %s kernel writes\n%.2000s", r.Status, r.Header.Get("X-Hostnetd-Kernel-Writes"), r.Body)
			}
		}
	})
}

// BenchmarkGetNics times GET /nics on the same host, through the API. The
// answer is read by the benchmark too: its allocations are in the
// figures, the daemon's own are in a -memprofile under serveHTTP.
func BenchmarkGetNics(b *testing.B) {
	eachSize(b, func(b *testing.B, ag *agenttest.Agent, _ []byte) {
		path := ag.HostPath() + "/nics"
		for b.Loop() {
			if r := ag.Get(b, path); r.Status != http.StatusOK {
				b.Fatalf("GET /nics: %d\n%.2000s", r.Status, r.Body)
			}
		}
	})
}

// eachSize runs bench on the veth analog of S(100) and S(1000), given the
// agent and the setupnetworks request that built it.
func eachSize(b *testing.B, bench func(b *testing.B, ag *agenttest.Agent, apply []byte)) {
	nstest.RequireRoot(b)
	for _, n := range []int{100, 1000} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			ag, apply := vethScenario(b, n)
			b.ReportAllocs()
			bench(b, ag, apply)
		})
	}
}

// vethScenario starts an agent on a namespace with n veth NICs, applies
// one bridged network with a static address on each, committed, and
// returns the agent and that setupnetworks request.
func vethScenario(b *testing.B, n int) (*agenttest.Agent, []byte) {
	b.Helper()
	host, peer := nstest.New(b), nstest.New(b)
	for i := range n {
		nstest.Veth(b, host, "e"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	ag := agenttest.Start(b, host)
	var req strings.Builder
	req.WriteString("<action><modified_network_attachments>")
	for i := range n {
		r := ag.Do(b, "POST", "/ovirt-engine/api/networks",
			[]byte(fmt.Sprintf("<network><name>n%d</name><usages><usage>vm</usage></usages></network>", i)), "Content-Type: application/xml")
		if r.Status != http.StatusCreated {
			b.Fatalf("POST /networks: %d\n%s", r.Status, r.Body)
		}
		fmt.Fprintf(&req, "<network_attachment><network><name>n%d</name></network><host_nic><name>e%d</name></host_nic>"+
			"<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>"+
			"<ip><address>10.%d.%d.1</address><netmask>255.255.255.0</netmask><version>v4</version></ip>"+
			"</ip_address_assignment></ip_address_assignments></network_attachment>", i, i, 100+i/256, i%256)
	}
	req.WriteString("</modified_network_attachments><commit_on_success>true</commit_on_success></action>")
	body := []byte(req.String())
	if r := ag.Do(b, "POST", ag.HostPath()+"/setupnetworks", body, "Content-Type: application/xml"); r.Status != http.StatusOK {
		b.Fatalf("setupnetworks: %d\n%.2000s", r.Status, r.Body)
	}
	return ag, body
}
