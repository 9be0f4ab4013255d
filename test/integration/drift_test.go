package integration

import (
	"net/http"
	"testing"

	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
	"github.com/hostnetd/hostnetd/xmlapi"
)

func attachmentOf(t *testing.T, doc *xmlapi.Node) *xmlapi.Node {
	t.Helper()
	atts := doc.All("network_attachment")
	if len(atts) != 1 {
		t.Fatalf("%d attachments; want 1", len(atts))
	}
	return atts[0]
}

func reported(att *xmlapi.Node, name string) *xmlapi.Node {
	for _, r := range att.Child("reported_configurations").All("reported_configuration") {
		if text(r, "name") == name {
			return r
		}
	}
	return nil
}

// TestDriftIsReportedAndEachSyncFormRepairsIt: an MTU changed behind
// hostnetd's back is reported with expected and actual values, blocks a
// change that does not sync, and each sync form puts it back.
func TestDriftIsReportedAndEachSyncFormRepairsIt(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(staticWithGateway("vmnet", "eth0", "192.0.2.10", "192.0.2.1")))
	att := attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")))
	if text(att, "in_sync") != "true" {
		t.Fatalf("right after apply the attachment is out of sync:\n%s", att.Canonical())
	}
	id, _ := att.Attr("id")

	drift := func() {
		t.Helper()
		if err := host.Handle.LinkSetMTU(nstest.Link(t, host, "vmnet"), 1501); err != nil {
			t.Fatal(err)
		}
	}
	forms := []struct {
		name string
		sync func() agenttest.Response
	}{
		{"synchronized_network_attachments", func() agenttest.Response {
			return ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><synchronized_network_attachments><network_attachment id="`+id+`"/></synchronized_network_attachments></action>`))
		}},
		{"syncallnetworks", func() agenttest.Response {
			return ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`))
		}},
		{"override_configuration-query", func() agenttest.Response {
			return ag.Do(t, "PUT", ag.HostPath()+"/networkattachments/"+id+"?override_configuration=true", []byte(`<network_attachment/>`))
		}},
		{"override_configuration-element", func() agenttest.Response {
			return ag.Do(t, "PUT", ag.HostPath()+"/networkattachments/"+id, []byte(`<network_attachment><override_configuration>true</override_configuration></network_attachment>`))
		}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			drift()
			att := attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")))
			mtu := reported(att, "mtu")
			if text(att, "in_sync") != "false" || mtu == nil || text(mtu, "expected_value") != "2000" || text(mtu, "actual_value") != "1501" || text(mtu, "in_sync") != "false" {
				t.Fatalf("drift not reported exactly:\n%s", att.Canonical())
			}
			if text(parseXML(t, ag.Get(t, ag.HostPath()+"/nics/eth0")), "custom_configuration") != "true" {
				t.Error("eth0 custom_configuration is not true")
			}
			// A change that does not sync is refused, listing the difference.
			r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(staticWithGateway("vmnet", "eth0", "192.0.2.11", "192.0.2.1"))))
			expectFault(t, r, http.StatusConflict, "NETWORK_NOT_IN_SYNC")
			if r := f.sync(); r.Status != http.StatusOK {
				t.Fatalf("sync: %d\n%s", r.Status, r.Body)
			}
			if mtu, _, _ := linkState(t, host, "vmnet"); mtu != 2000 {
				t.Errorf("vmnet mtu after sync = %d; want 2000", mtu)
			}
			if text(attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments"))), "in_sync") != "true" {
				t.Error("still out of sync after the sync")
			}
		})
	}
}
