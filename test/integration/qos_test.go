//go:build !vmtest

package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// TestQoSRefusedWithoutHFSC: on a kernel without the HFSC scheduler (the
// development kernel; the VM's has it, see qos_vm_test.go), a network with
// a host network QoS, from the catalogue or inline, is refused before the
// first kernel write, dry run included, with the engine's code and the
// reason, and the namespace is left as it was. The catalogue itself works.
func TestQoSRefusedWithoutHFSC(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	if err := kernel.QoSSupported(host); err == nil {
		t.Skip("this kernel shapes with HFSC: the refusal is for one that does not")
	}
	ag := agenttest.Start(t, host)
	qoss := "/ovirt-engine/api/datacenters/" + xmlapi.DataCenterID + "/qoss"
	r := ag.Do(t, "POST", qoss, []byte(`<qos><name>gold</name><type>hostnetwork</type><outbound_average_linkshare>50</outbound_average_linkshare></qos>`), "Content-Type: application/xml")
	if r.Status != http.StatusCreated {
		t.Fatalf("POST qoss: %d\n%s", r.Status, r.Body)
	}
	gold, _ := parseXML(t, r).Attr("id")
	addNetwork(t, ag, `<network><name>shaped</name><qos id="`+gold+`"/></network>`)
	addNetwork(t, ag, `<network><name>inline</name></network>`)
	before := dump(t, host)
	for _, action := range []string{
		modified(`<network_attachment><network><name>shaped</name></network><host_nic><name>eth0</name></host_nic></network_attachment>`),
		modified(`<network_attachment><network><name>inline</name></network><host_nic><name>eth0</name></host_nic>` +
			`<qos><type>hostnetwork</type><outbound_average_linkshare>10</outbound_average_linkshare></qos></network_attachment>`),
	} {
		for _, path := range []string{"/setupnetworks?dry_run=true", "/setupnetworks"} {
			r := ag.Do(t, "POST", ag.HostPath()+path, []byte(action), "Content-Type: application/xml")
			expectFault(t, r, http.StatusBadRequest, netconf.CodeQoSNotSupported)
			if d := text(parseXML(t, r), "detail"); !strings.Contains(d, "HFSC") {
				t.Errorf("the fault does not say what the kernel lacks: %s", d)
			}
			if got := dump(t, host); got != before {
				t.Fatalf("a refused QoS changed the namespace:\n--- before\n%s\n--- after\n%s", before, got)
			}
		}
	}
	if n := len(parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment")); n != 0 {
		t.Errorf("%d attachments after the refusals; want none", n)
	}
}

// TestQoSCatalogue: the data center's QoS catalogue as the engine's:
// created, listed, changed, validated with the engine's codes, and not
// removed while a network names it.
func TestQoSCatalogue(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	ag := agenttest.Start(t, host)
	qoss := "/ovirt-engine/api/datacenters/" + xmlapi.DataCenterID + "/qoss"
	post := func(body string) agenttest.Response {
		return ag.Do(t, "POST", qoss, []byte(body), "Content-Type: application/xml")
	}
	for body, code := range map[string]string{
		`<qos><name>a</name><type>hostnetwork</type><outbound_average_upperlimit>10</outbound_average_upperlimit></qos>`:                                                                                                                  netconf.CodeQoSMissingValues,
		`<qos><name>a</name><type>hostnetwork</type><outbound_average_linkshare>101</outbound_average_linkshare></qos>`:                                                                                                                   netconf.CodeQoSOutOfRange,
		`<qos><name>a</name><type>hostnetwork</type><outbound_average_linkshare>1</outbound_average_linkshare><outbound_average_upperlimit>5</outbound_average_upperlimit><outbound_average_realtime>6</outbound_average_realtime></qos>`: netconf.CodeQoSInconsistentValues,
		`<qos><name>a</name><type>storage</type><outbound_average_linkshare>1</outbound_average_linkshare></qos>`:                                                                                                                         netconf.CodeQoSTypeNotSupported,
	} {
		expectFault(t, post(body), http.StatusBadRequest, code)
	}
	r := post(`<qos><name>gold</name><description>first</description><type>hostnetwork</type><outbound_average_linkshare>50</outbound_average_linkshare></qos>`)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST: %d\n%s", r.Status, r.Body)
	}
	id, _ := parseXML(t, r).Attr("id")
	expectFault(t, post(`<qos><name>gold</name><outbound_average_linkshare>5</outbound_average_linkshare></qos>`), http.StatusConflict, netconf.CodeQoSNameInUse)
	r = ag.Do(t, "PUT", qoss+"/"+id, []byte(`<qos><outbound_average_upperlimit>100</outbound_average_upperlimit></qos>`), "Content-Type: application/xml")
	if q := parseXML(t, r); r.Status != http.StatusOK || text(q, "outbound_average_linkshare") != "50" || text(q, "outbound_average_upperlimit") != "100" || text(q, "description") != "first" {
		t.Fatalf("PUT merges: %d\n%s", r.Status, r.Body)
	}
	list := parseXML(t, ag.Get(t, qoss)).All("qos")
	if len(list) != 1 || text(list[0], "type") != "hostnetwork" {
		t.Fatalf("list: %d entries", len(list))
	}
	netID := addNetwork(t, ag, `<network><name>shaped</name><qos id="`+id+`"/></network>`)
	if q := parseXML(t, ag.Get(t, "/ovirt-engine/api/networks/"+netID)).Child("qos"); q == nil {
		t.Fatal("the network does not show its QoS")
	}
	r = ag.Do(t, "POST", "/ovirt-engine/api/networks", []byte(`<network><name>bad</name><qos id="nope"/></network>`), "Content-Type: application/xml")
	expectFault(t, r, http.StatusBadRequest, netconf.CodeQoSNotFound)
	expectFault(t, ag.Do(t, "DELETE", qoss+"/"+id, nil), http.StatusConflict, netconf.CodeQoSInUse)
	if r := ag.Do(t, "PUT", "/ovirt-engine/api/networks/"+netID, []byte(`<network><qos/></network>`), "Content-Type: application/xml"); r.Status != http.StatusOK {
		t.Fatalf("removing a network's QoS: %d\n%s", r.Status, r.Body)
	}
	if r := ag.Do(t, "DELETE", qoss+"/"+id, nil); r.Status != http.StatusOK {
		t.Fatalf("DELETE: %d\n%s", r.Status, r.Body)
	}
}
