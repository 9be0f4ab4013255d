package integration

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestNetworkLabels: a label on a NIC attaches the networks with that
// label to it, whether the NIC or the network got the label first, through
// the label collections or a setupnetworks; moving the label moves them,
// removing it from either side detaches them; labels survive a restart.
func TestNetworkLabels(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"0", "1", "2"} {
		nstest.Veth(t, host, "eth"+n, peer, "p"+n)
	}
	dir := t.TempDir()
	boot := func(name string) func(*agent.Options) {
		return func(o *agent.Options) { o.RunDir = filepath.Join(dir, name) }
	}
	ag := agenttest.StartWith(t, host, dir, boot("boot1"))
	red := addNetwork(t, ag, `<network><name>red1</name><usages><usage>vm</usage></usages></network>`)
	blue := addNetwork(t, ag, `<network><name>blue1</name><usages><usage>vm</usage></usages></network>`)
	xml := "Content-Type: application/xml"
	post := func(path, body string, status int) agenttest.Response {
		t.Helper()
		r := ag.Do(t, "POST", path, []byte(body), xml)
		if r.Status != status {
			t.Fatalf("POST %s: %d; want %d\n%s", path, r.Status, status, r.Body)
		}
		return r
	}
	labels := func(path string) []string {
		t.Helper()
		var out []string
		for _, l := range parseXML(t, ag.Get(t, path)).All("network_label") {
			id, _ := l.Attr("id")
			out = append(out, id)
		}
		return out
	}
	wantPorts := func(bridge string, ports ...string) {
		t.Helper()
		var got []string
		if _, master, _ := linkState(t, host, "eth0"); master == bridge {
			got = append(got, "eth0")
		}
		for _, nic := range []string{"eth1", "eth2"} {
			if _, master, _ := linkState(t, host, nic); master == bridge {
				got = append(got, nic)
			}
		}
		if !slices.Equal(got, ports) {
			t.Errorf("ports of %s: %v; want %v", bridge, got, ports)
		}
	}
	nics := ag.HostPath() + "/nics/"

	// The network first, then the NIC: attached when the NIC gets it.
	post("/ovirt-engine/api/networks/"+red+"/networklabels", `<network_label id="red"/>`, http.StatusCreated)
	wantPorts("red1")
	post(nics+"eth1/networklabels", `<network_label id="red"/>`, http.StatusCreated)
	wantPorts("red1", "eth1")
	if got := labels(nics + "eth1/networklabels"); !slices.Equal(got, []string{"red"}) {
		t.Errorf("eth1 labels = %v", got)
	}
	if got := labels("/ovirt-engine/api/networks/" + red + "/networklabels"); !slices.Equal(got, []string{"red"}) {
		t.Errorf("red1 labels = %v", got)
	}
	checkAllInSync(t, ag)

	// The NIC first (in a setupnetworks, as Ansible sends it), then the
	// network.
	setup(t, ag, `<action><modified_labels><network_label id="blue"><host_nic><name>eth2</name></host_nic></network_label></modified_labels></action>`)
	wantPorts("blue1")
	post("/ovirt-engine/api/networks/"+blue+"/networklabels", `<network_label id="blue"/>`, http.StatusCreated)
	wantPorts("blue1", "eth2")

	// Moving a label moves its networks.
	setup(t, ag, `<action><modified_labels><network_label id="red"><host_nic><name>eth0</name></host_nic></network_label></modified_labels></action>`)
	wantPorts("red1", "eth0")
	if got := labels(nics + "eth1/networklabels"); len(got) != 0 {
		t.Errorf("eth1 labels after the move = %v", got)
	}
	// Re-sending changes nothing.
	if n := setup(t, ag, `<action><modified_labels><network_label id="red"><host_nic><name>eth0</name></host_nic></network_label></modified_labels></action>`); n != 0 {
		t.Errorf("re-sending a label made %d kernel writes", n)
	}

	// JSON, as any body.
	if r := ag.Do(t, "POST", nics+"eth1/networklabels", []byte(`{"id":"green"}`), "Content-Type: application/json", "Accept: application/json"); r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"id":"green"`) {
		t.Errorf("POST a label in JSON: %d %s", r.Status, r.Body)
	}
	if r := ag.Do(t, "DELETE", nics+"eth1/networklabels/green", nil); r.Status != http.StatusOK {
		t.Errorf("DELETE the JSON label: %d %s", r.Status, r.Body)
	}

	// Refusals.
	expectFault(t, ag.Do(t, "POST", nics+"eth1/networklabels", []byte(`<network_label id="no good"/>`), xml), http.StatusBadRequest, "NETWORK_LABEL_FORMAT_INVALID")
	expectFault(t, ag.Do(t, "POST", "/ovirt-engine/api/networks/"+red+"/networklabels", []byte(`<network_label id="green"/>`), xml), http.StatusConflict, "NETWORK_ALREADY_LABELED")
	expectFault(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><removed_labels><network_label id="green"/></removed_labels></action>`), xml),
		http.StatusBadRequest, "LABEL_NOT_EXIST_IN_HOST")
	expectFault(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><modified_labels><network_label id="green"><host_nic><name>eth9</name></host_nic></network_label></modified_labels></action>`), xml),
		http.StatusBadRequest, "INTERFACE_ON_NIC_LABEL_NOT_EXIST")
	expectFault(t, ag.Get(t, nics+"eth1/networklabels/red"), http.StatusNotFound, "ENTITY_NOT_FOUND")
	// A labelled network stays where its label is, as the engine's.
	expectFault(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(`<network_attachment><network id="`+red+`"/><host_nic><name>eth1</name></host_nic></network_attachment>`)), xml),
		http.StatusBadRequest, "NETWORK_SHOULD_BE_ATTACHED_VIA_LABEL_TO_ANOTHER_NIC")
	expectFault(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><removed_network_attachments><network_attachment><network id="`+red+`"/></network_attachment></removed_network_attachments></action>`), xml),
		http.StatusBadRequest, "ACTION_TYPE_FAILED_CANNOT_REMOVE_LABELED_NETWORK_FROM_NIC")
	// The label collection of a NIC does not move labels, as the engine's
	// LabelNic.
	expectFault(t, ag.Do(t, "POST", nics+"eth1/networklabels", []byte(`<network_label id="red"/>`), xml), http.StatusConflict, "OTHER_INTERFACE_ALREADY_LABELED")
	wantPorts("red1", "eth0")

	// Labels are configuration: committed, they and what they attached
	// are restored at boot.
	post(ag.HostPath()+"/commitnetconfig", `<action/>`, http.StatusOK)
	ag.Stop()
	wipeManaged(t, host, []string{"red1", "blue1"}, []string{"eth0", "eth1", "eth2"})
	ag = agenttest.StartWith(t, host, dir, boot("boot2"))
	if got := labels(nics + "eth0/networklabels"); !slices.Equal(got, []string{"red"}) {
		t.Errorf("eth0 labels after a reboot = %v", got)
	}
	wantPorts("red1", "eth0")
	wantPorts("blue1", "eth2")

	// Removing the label from the NIC, or from the network, detaches. As
	// Ansible's ovirt_host_network state: absent does it: the label and the
	// attachment it listed, by id, in one setupnetworks.
	attID := ""
	for _, at := range parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment") {
		if id, _ := at.Child("network").Attr("id"); id == red {
			attID, _ = at.Attr("id")
		}
	}
	setup(t, ag, `<action><removed_labels><network_label id="red"/></removed_labels>`+
		`<removed_network_attachments><network_attachment id="`+attID+`"><network id="`+red+`"/></network_attachment></removed_network_attachments></action>`)
	if _, err := host.Handle.LinkByName("red1"); err == nil {
		t.Error("red1's bridge is still there after its label left eth0")
	}
	if r := ag.Do(t, "DELETE", "/ovirt-engine/api/networks/"+blue+"/networklabels/blue", nil); r.Status != http.StatusOK {
		t.Fatalf("DELETE blue1's label: %d\n%s", r.Status, r.Body)
	}
	if _, err := host.Handle.LinkByName("blue1"); err == nil {
		t.Error("blue1's bridge is still there after it lost its label")
	}
	if got := labels(nics + "eth2/networklabels"); !slices.Equal(got, []string{"blue"}) {
		t.Errorf("eth2 keeps its label: %v", got)
	}

	// red1, still labelled red, attached by hand while no NIC has red:
	// the NIC's label collection refuses red elsewhere, a setupnetworks
	// moves it.
	setup(t, ag, modified(`<network_attachment><network id="`+red+`"/><host_nic><name>eth1</name></host_nic></network_attachment>`))
	expectFault(t, ag.Do(t, "POST", nics+"eth0/networklabels", []byte(`<network_label id="red"/>`), xml), http.StatusConflict, "LABELED_NETWORK_ATTACHED_TO_WRONG_INTERFACE")
	setup(t, ag, `<action><modified_labels><network_label id="red"><host_nic><name>eth0</name></host_nic></network_label></modified_labels></action>`)
	wantPorts("red1", "eth0")
	checkAllInSync(t, ag)
}
