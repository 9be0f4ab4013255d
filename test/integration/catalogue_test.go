//go:build !vmtest

package integration

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// The bad-input catalogue: several hundred malformed or hostile requests
// (catalogue_cases_test.go), across every write endpoint, each of which
// must be refused with its status and stable code and change nothing —
// neither the namespace (its canonical dump) nor the stored configuration
// (GET networks and attachments, and the state files).
//
// Bad input is refused before any kernel write, so veth NICs suffice and
// the catalogue runs on this machine's kernel only (not in the VM, where
// it would repeat the same refusals slowly). Cases that need a bond or a
// VLAN device in the kernel are in the VM's rules suite
// (rules_vm_test.go).

// The catalogue host's networks, by id.
const (
	catNetA    = "cat-net-a"    // net_a: VM network on eth0, static 192.0.2.10/24
	catMgmt    = "cat-mgmt"     // mgmt: management and default route on eth1, static with a gateway
	catFree    = "cat-free"     // free: untagged, not attached
	catVM2     = "cat-vm2"      // vm2: VM network, not attached
	catV100    = "cat-v100"     // v100: VLAN 100, not attached
	catJumbo   = "cat-jumbo"    // jumbo: MTU 2000, not attached
	catDflt    = "cat-dflt"     // dflt: default route, not attached
	catSmall   = "cat-small"    // small: MTU 1000, not attached
	catNICNet  = "cat-nic-net"  // eth5: a VM network named like a NIC, not attached
	catBondNet = "cat-bond-net" // bond3: a VM network named like a bond, not attached
)

// catHost is the host the catalogue runs against:
//
//	eth0: net_a (VM network, bridge net_a)   eth1: mgmt (default route)
//	eth2, eth3, eth4, eth5: free             br9, bondbr: unmanaged bridges
type catHost struct {
	ns    *kernel.Namespace
	ag    *agenttest.Agent
	attA  string // the attachment ids
	attM  string
	nicID map[string]string // NIC ids by name
}

func newCatHost(t *testing.T) *catHost {
	t.Helper()
	ns, peer := nstest.New(t), nstest.New(t)
	for i := range 6 {
		nstest.Veth(t, ns, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	for _, br := range []string{"br9", "bondbr"} {
		if err := ns.Handle.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: br}}); err != nil {
			t.Fatal(err)
		}
	}
	h := &catHost{ns: ns, ag: agenttest.Start(t, ns)}
	vm := `<usages><usage>vm</usage></usages>`
	for _, n := range []struct{ id, name, inner string }{
		{catNetA, "net_a", vm},
		{catMgmt, "mgmt", `<usages><usage>management</usage><usage>default_route</usage></usages>`},
		{catFree, "free", ""},
		{catVM2, "vm2", vm},
		{catV100, "v100", `<vlan id="100"/>`},
		{catJumbo, "jumbo", `<mtu>2000</mtu>`},
		{catDflt, "dflt", `<usages><usage>default_route</usage></usages>`},
		{catSmall, "small", `<mtu>1000</mtu>`},
		{catNICNet, "eth5", vm},
		{catBondNet, "bond3", vm},
	} {
		h.must(t, http.MethodPost, "/ovirt-engine/api/networks", `<network id="`+n.id+`"><name>`+n.name+`</name>`+n.inner+`</network>`, http.StatusCreated)
	}
	h.must(t, http.MethodPost, h.ag.HostPath()+"/setupnetworks", `<action><modified_network_attachments>`+
		catAttachment(catNetA, "eth0", catStatic("192.0.2.10", "24", ""))+
		catAttachment(catMgmt, "eth1", catStatic("198.51.100.10", "255.255.255.0", "198.51.100.1"))+
		`</modified_network_attachments></action>`, http.StatusOK)
	for _, a := range parseXML(t, h.ag.Get(t, h.ag.HostPath()+"/networkattachments")).All("network_attachment") {
		id, _ := a.Attr("id")
		switch net, _ := a.Child("network").Attr("id"); net {
		case catNetA:
			h.attA = id
		case catMgmt:
			h.attM = id
		}
	}
	h.nicID = map[string]string{}
	for name, nic := range nicsByName(t, parseXML(t, h.ag.Get(t, h.ag.HostPath()+"/nics"))) {
		h.nicID[name], _ = nic.Attr("id")
	}
	if h.attA == "" || h.attM == "" || h.nicID["eth2"] == "" {
		t.Fatalf("the catalogue host is incomplete: %+v", h)
	}
	return h
}

func (h *catHost) must(t *testing.T, method, path, body string, status int) {
	t.Helper()
	r := h.ag.Do(t, method, path, []byte(body), "Content-Type: application/xml")
	if r.Status != status {
		t.Fatalf("setting up the catalogue host: %s %s: %d, want %d\n%s", method, path, r.Status, status, r.Body)
	}
}

// state is everything a refused request must leave alone: the namespace's
// canonical dump, the stored configuration as the API shows it, and the
// state files as they are on disk.
func (h *catHost) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(dump(t, h.ns))
	for _, p := range []string{"/ovirt-engine/api/networks", h.ag.HostPath() + "/networkattachments"} {
		b.WriteString("--- GET " + p + "\n" + parseXML(t, h.ag.Get(t, p)).Canonical())
	}
	for _, f := range []string{"networks.json", "running.json", "persistent.json", "journal.json"} {
		data, err := os.ReadFile(filepath.Join(h.ag.StateDir, f))
		if errors.Is(err, fs.ErrNotExist) {
			data = []byte("(absent)")
		} else if err != nil {
			t.Fatal(err)
		}
		b.WriteString("--- " + f + "\n" + string(data) + "\n")
	}
	return b.String()
}

// badCase is one request the API must refuse.
type badCase struct {
	name         string
	method, path string
	body         string
	ctype        string // Content-Type; application/xml when empty
	accept       string // Accept; none when empty
	status       int
	code         string
}

func TestBadInputCatalogue(t *testing.T) {
	host := newCatHost(t)
	cases := catalogue(host)
	if len(cases) < 200 {
		t.Fatalf("the catalogue has %d cases; it should have at least 200", len(cases))
	}
	seen := map[string]bool{}
	for i, c := range catalogue(host) {
		if seen[c.name] {
			t.Fatalf("two cases are named %s", c.name)
		}
		seen[c.name] = true
		if c.name != cases[i].name {
			t.Fatalf("the catalogue is built in another order each time: case %d is %s, then %s", i, cases[i].name, c.name)
		}
	}
	t.Logf("%d bad requests", len(cases))
	before := host.state(t)
	for i := range cases {
		c := cases[i]
		dirty := false
		t.Run(c.name, func(t *testing.T) {
			ctype := c.ctype
			if ctype == "" {
				ctype = "application/xml"
			}
			headers := []string{"Content-Type: " + ctype}
			if c.accept != "" {
				headers = append(headers, "Accept: "+c.accept)
			}
			r := host.ag.Do(t, c.method, c.path, []byte(c.body), headers...)
			after := host.state(t)
			dirty = after != before || r.Status < 400
			if after != before {
				t.Errorf("the refused request changed the host\n--- before\n%s\n--- after\n%s", before, after)
			}
			if r.Status != c.status || !strings.Contains(string(r.Body), "<code>"+c.code+"</code>") {
				t.Errorf("%s %s: %d; want %d %s\n%s\nrequest (%s):\n%.2000s", c.method, c.path, r.Status, c.status, c.code, r.Body, ctype, c.body)
				return
			}
			expectFault(t, r, c.status, c.code)
		})
		if dirty {
			// Start the next case from a known host again.
			host = newCatHost(t)
			before = host.state(t)
			cases = catalogue(host) // cases name ids of the host they were made for

		}
	}
}

// jsonTwin is the JSON form of an XML request body: the same tree, so the
// same refusal is expected.
func jsonTwin(body string) string {
	n, err := xmlapi.ParseXML([]byte(body))
	if err != nil {
		panic("a catalogue body is not XML: " + err.Error() + "\n" + body)
	}
	markRepeated(n)
	return string(xmlapi.MarshalJSON(n))
}

// markRepeated makes elements that occur more than once under a parent
// JSON arrays, so the JSON rendering keeps them all.
func markRepeated(n *xmlapi.Node) {
	count := map[string]int{}
	for _, c := range n.Children {
		count[c.Name]++
	}
	for _, c := range n.Children {
		c.Repeated = c.Repeated || count[c.Name] > 1
		markRepeated(c)
	}
}
