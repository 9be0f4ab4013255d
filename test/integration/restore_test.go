package integration

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// wipeManaged simulates what a reboot does to the kernel: the bridges
// hostnetd created are gone and the NICs are back to their defaults.
func wipeManaged(t *testing.T, ns *kernel.Namespace, bridges []string, nics []string) {
	t.Helper()
	for _, b := range bridges {
		if l, err := ns.Handle.LinkByName(b); err == nil {
			if err := ns.Handle.LinkDel(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, n := range nics {
		l := nstest.Link(t, ns, n)
		if err := ns.Handle.LinkSetMTU(l, 1500); err != nil {
			t.Fatal(err)
		}
		addrs, _ := ns.Handle.AddrList(l, 0)
		for _, a := range addrs {
			if !a.IP.IsLinkLocalUnicast() {
				if err := ns.Handle.AddrDel(l, &a); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func TestCommitThenRebootRestoresTheCommittedConfiguration(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"eth0", "eth1", "eth2"} {
		nstest.Veth(t, host, n, peer, "p"+n[3:])
	}
	dir := t.TempDir()
	withRunDir := func(run string) func(*agent.Options) {
		return func(o *agent.Options) { o.RunDir = filepath.Join(dir, run) }
	}
	first := agenttest.StartWith(t, host, dir, withRunDir("boot1"))
	addNetwork(t, first, `<network><name>kept</name><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, first, `<network><name>dropped</name></network>`)
	setup(t, first, `<action><commit_on_success>true</commit_on_success><modified_network_attachments>`+
		staticAttachment("kept", "eth0", "192.0.2.10", "24")+`</modified_network_attachments></action>`)
	if got := text(parseXML(t, first.Get(t, first.HostPath())), "net_config_dirty"); got != "false" {
		t.Errorf("net_config_dirty after commit_on_success = %q; want false", got)
	}
	setup(t, first, modified(staticAttachment("dropped", "eth1", "198.51.100.1", "24")))
	if got := text(parseXML(t, first.Get(t, first.HostPath())), "net_config_dirty"); got != "true" {
		t.Errorf("net_config_dirty after an uncommitted change = %q; want true", got)
	}
	first.Stop()

	// A restart within the same boot keeps the running configuration.
	again := agenttest.StartWith(t, host, dir, withRunDir("boot1"))
	if _, _, addrs := linkState(t, host, "eth1"); strings.Join(addrs, " ") != "198.51.100.1/24" {
		t.Errorf("a restart in the same boot changed eth1: %v", addrs)
	}
	again.Stop()

	wipeManaged(t, host, []string{"kept"}, []string{"eth0", "eth1"})
	second := agenttest.StartWith(t, host, dir, withRunDir("boot2"))
	if !linkExists(host, "kept") {
		t.Fatal("the committed bridge was not restored")
	}
	if mtu, master, _ := linkState(t, host, "eth0"); mtu != 2000 || master != "kept" {
		t.Errorf("eth0: mtu %d master %q; want 2000 and a port of kept", mtu, master)
	}
	if _, _, addrs := linkState(t, host, "kept"); strings.Join(addrs, " ") != "192.0.2.10/24" {
		t.Errorf("kept addrs = %v; want 192.0.2.10/24", addrs)
	}
	if _, _, addrs := linkState(t, host, "eth1"); len(addrs) != 0 {
		t.Errorf("the uncommitted network came back: eth1 addrs %v", addrs)
	}
	atts := parseXML(t, second.Get(t, second.HostPath()+"/networkattachments")).All("network_attachment")
	if len(atts) != 1 {
		t.Errorf("%d attachments after restore; want the 1 committed", len(atts))
	}
	if got := text(parseXML(t, second.Get(t, second.HostPath())), "net_config_dirty"); got != "false" {
		t.Errorf("net_config_dirty after restore = %q; want false", got)
	}
}

// commitTwoNetworks attaches n0 to eth0 and n1 to eth1, with addresses,
// commits them and stops the agent.
func commitTwoNetworks(t *testing.T, ag *agenttest.Agent) {
	t.Helper()
	addNetwork(t, ag, `<network><name>n0</name><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>n1</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, `<action><commit_on_success>true</commit_on_success><modified_network_attachments>`+
		staticAttachment("n0", "eth0", "192.0.2.1", "24")+staticAttachment("n1", "eth1", "192.0.2.2", "24")+
		`</modified_network_attachments></action>`)
	ag.Stop()
}

func TestRestoreSkipsAMissingNICAndRestoresTheRest(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"eth0", "eth1"} {
		nstest.Veth(t, host, n, peer, "p"+n[3:])
	}
	dir := t.TempDir()
	commitTwoNetworks(t, agenttest.StartWith(t, host, dir, func(o *agent.Options) { o.RunDir = filepath.Join(dir, "boot1") }))

	wipeManaged(t, host, []string{"n0", "n1"}, []string{"eth0", "eth1"})
	if err := host.Handle.LinkDel(nstest.Link(t, host, "eth1")); err != nil { // the NIC disappeared
		t.Fatal(err)
	}
	second := agenttest.StartWith(t, host, dir, func(o *agent.Options) { o.RunDir = filepath.Join(dir, "boot2") })
	if _, master, _ := linkState(t, host, "eth0"); master != "n0" {
		t.Errorf("eth0 master = %q; want n0 restored despite eth1 missing", master)
	}
	if linkExists(host, "n1") {
		t.Error("n1 was restored without its NIC")
	}
	if r := second.Get(t, second.HostPath()); r.Status != http.StatusOK {
		t.Errorf("the agent does not serve after a partial restore: %d", r.Status)
	}
}

func TestCommitNetConfig(t *testing.T) {
	_, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>n0</name></network>`)
	setup(t, ag, modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")))
	r := ag.Do(t, "POST", ag.HostPath()+"/commitnetconfig", []byte(`<action></action>`))
	if r.Status != http.StatusOK || text(parseXML(t, r), "status") != "complete" {
		t.Fatalf("commitnetconfig: %d\n%s", r.Status, r.Body)
	}
	if got := text(parseXML(t, ag.Get(t, ag.HostPath())), "net_config_dirty"); got != "false" {
		t.Errorf("net_config_dirty after commitnetconfig = %q; want false", got)
	}
}
