package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// persistentNics lists the NICs of the persistent configuration's
// attachments, as stored.
func persistentNics(t *testing.T, ag *agenttest.Agent) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ag.StateDir, "persistent.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg netconf.Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, at := range cfg.Attachments {
		out = append(out, at.Nic)
	}
	return out
}

// TestLateNICKeepsItsAttachmentPending: a NIC missing at boot leaves its
// committed attachment pending, not dropped: it is served (out of sync,
// host_nic missing), an unrelated commit_on_success keeps it persistent,
// and when the NIC appears the attachment is applied without a request.
func TestLateNICKeepsItsAttachmentPending(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"eth0", "eth1"} {
		nstest.Veth(t, host, n, peer, "p"+n[3:])
	}
	dir := t.TempDir()
	commitTwoNetworks(t, agenttest.StartWith(t, host, dir, func(o *agent.Options) { o.RunDir = filepath.Join(dir, "boot1") }))

	wipeManaged(t, host, []string{"n0", "n1"}, []string{"eth0", "eth1"})
	if err := host.Handle.LinkDel(nstest.Link(t, host, "eth1")); err != nil { // late at boot
		t.Fatal(err)
	}
	ag := agenttest.StartWith(t, host, dir, func(o *agent.Options) { o.RunDir = filepath.Join(dir, "boot2") })
	if _, master, _ := linkState(t, host, "eth0"); master != "n0" {
		t.Errorf("eth0 master = %q; want n0 restored", master)
	}
	atts := parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment")
	if len(atts) != 2 {
		t.Fatalf("%d attachments served after restore; want 2, n1's pending", len(atts))
	}
	var pending bool
	for _, att := range atts {
		if text(att, "host_nic", "name") == "eth1" || strings.Contains(att.Canonical(), "eth1") {
			pending = text(att, "in_sync") == "false" && strings.Contains(att.Canonical(), "missing")
		}
	}
	if !pending {
		t.Errorf("n1's attachment is not reported pending (out of sync, host_nic missing):\n%s", ag.Get(t, ag.HostPath()+"/networkattachments").Body)
	}
	waitEvent(t, ag, engine.CodeAttachmentPending, "eth1")

	// An unrelated change, committed, keeps the pending attachment.
	addNetwork(t, ag, `<network><name>n2</name></network>`)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><commit_on_success>true</commit_on_success><modified_network_attachments>`+
		staticAttachment("n0", "eth0", "192.0.2.9", "24")+`</modified_network_attachments></action>`), "Content-Type: application/xml")
	if r.Status != http.StatusOK {
		t.Fatalf("an unrelated change while eth1 is missing: %d\n%s", r.Status, r.Body)
	}
	if got := strings.Join(persistentNics(t, ag), " "); !strings.Contains(got, "eth1") {
		t.Errorf("the persistent configuration lost the pending attachment: NICs %q", got)
	}
	// syncallnetworks with a pending attachment: the others, not a 400.
	if r := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`)); r.Status != http.StatusOK {
		t.Errorf("syncallnetworks while eth1 is missing: %d\n%s", r.Status, r.Body)
	}
	// A pending attachment can be removed.
	if r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(staticAttachment("n2", "eth0", "192.0.2.9", "24")))); r.Status == http.StatusOK {
		t.Errorf("n2 took eth0, which carries n0: %d", r.Status)
	}

	// The NIC appears: the attachment is applied without a request.
	nstest.Veth(t, host, "eth1", peer, "p1")
	deadline := time.Now().Add(eventWait)
	for {
		if linkExists(host, "n1") {
			if _, master, _ := linkState(t, host, "eth1"); master == "n1" {
				if _, _, addrs := linkState(t, host, "n1"); strings.Join(addrs, " ") == "192.0.2.2/24" {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("eth1 appeared, but n1 was not applied within 20 s; events %v", eventCodes(t, ag, ""))
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitEvent(t, ag, engine.CodePendingApplied, "eth1")
	checkAllInSync(t, ag)
}

// TestVanishedNICBlocksNoOtherChange: with a configured NIC gone (unplugged
// while running), unrelated changes and syncallnetworks still go through,
// and its attachment stays, pending.
func TestVanishedNICBlocksNoOtherChange(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"eth0", "eth1", "eth2"} {
		nstest.Veth(t, host, n, peer, "p"+n[3:])
	}
	ag := agenttest.Start(t, host)
	addNetwork(t, ag, `<network><name>n0</name></network>`)
	addNetwork(t, ag, `<network><name>n1</name></network>`)
	setup(t, ag, modified(staticAttachment("n0", "eth0", "192.0.2.1", "24"), staticAttachment("n1", "eth1", "198.51.100.1", "24")))
	if err := host.Handle.LinkDel(nstest.Link(t, host, "eth0")); err != nil {
		t.Fatal(err)
	}
	// Move n1 to eth2: unrelated to eth0.
	if r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(staticAttachment("n1", "eth2", "198.51.100.1", "24")))); r.Status != http.StatusOK {
		t.Fatalf("moving n1 while eth0 is gone: %d\n%s", r.Status, r.Body)
	}
	if _, _, addrs := linkState(t, host, "eth2"); strings.Join(addrs, " ") != "198.51.100.1/24" {
		t.Errorf("eth2 addresses %v; want n1's", addrs)
	}
	if r := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`)); r.Status != http.StatusOK {
		t.Errorf("syncallnetworks while eth0 is gone: %d\n%s", r.Status, r.Body)
	}
	if n := len(parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment")); n != 2 {
		t.Errorf("%d attachments; want 2, n0's pending", n)
	}
	// Naming the vanished NIC's attachment is still refused: its NIC is
	// gone (and it is out of sync for it).
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(staticAttachment("n0", "eth0", "192.0.2.2", "24"))))
	if r.Status != http.StatusConflict && r.Status != http.StatusBadRequest {
		t.Errorf("changing n0 on the vanished eth0: %d; want a refusal\n%s", r.Status, r.Body)
	}
	// Removing it works.
	setup(t, ag, `<action><removed_network_attachments><network_attachment><network><name>n0</name></network></network_attachment></removed_network_attachments></action>`)
	if n := len(parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment")); n != 1 {
		t.Errorf("%d attachments after removing the pending one; want 1", n)
	}
}
