package integration

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
	"go.uber.org/zap"
)

// TestAsyncSetupNetworksAnswersAtOnceAndAppliesInTheBackground: with
// <async>true</async> a valid setupnetworks is answered 202 in_progress
// before the kernel is touched; while it applies, another write is refused
// as busy and reads are served; it then lands completely, is committed,
// and its outcome is an event. A bad async request is refused at once,
// like a synchronous one, and changes nothing.
func TestAsyncSetupNetworksAnswersAtOnceAndAppliesInTheBackground(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 2 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	// Each kernel write waits, so the transaction is still running when
	// the answer comes and while the test looks.
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.PauseBeforeEachStep(engine.NamespaceKernel{Namespace: o.Namespace}, zap.NewNop(), 100*time.Millisecond)
		o.WriteWait = 50 * time.Millisecond
	})
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	before := dump(t, host)

	bad := `<action><async>true</async><modified_network_attachments><network_attachment><network><name>vmnet</name></network>` +
		`<host_nic><name>eth9</name></host_nic></network_attachment></modified_network_attachments></action>`
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(bad), "Content-Type: application/xml")
	if r.Status < 400 || r.Status >= 500 || !strings.Contains(string(r.Body), "<code>") {
		t.Fatalf("async request on a missing NIC: %d; want a 4xx fault\n%s", r.Status, r.Body)
	}
	if after := dump(t, host); after != before {
		t.Fatalf("a refused async request changed the host:\n%s", after)
	}

	good := `<action><async>true</async><commit_on_success>true</commit_on_success><modified_network_attachments><network_attachment>` +
		`<network><name>vmnet</name></network><host_nic><name>eth0</name></host_nic><ip_address_assignments><ip_address_assignment>` +
		`<assignment_method>static</assignment_method><ip><address>192.0.2.10</address><netmask>255.255.255.0</netmask></ip>` +
		`</ip_address_assignment></ip_address_assignments></network_attachment></modified_network_attachments></action>`
	r = ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(good), "Content-Type: application/xml")
	if r.Status != http.StatusAccepted {
		t.Fatalf("async setupnetworks: %d; want 202\n%s", r.Status, r.Body)
	}
	if got := text(parseXML(t, r), "status"); got != "in_progress" {
		t.Fatalf("async setupnetworks status = %q; want in_progress\n%s", got, r.Body)
	}
	if w := r.Header.Get("X-Hostnetd-Kernel-Writes"); w != "" {
		t.Errorf("an accepted request reports %s kernel writes; it has made none yet", w)
	}
	action := followAction(t, ag, r)
	if st, _ := actionStatus(t, ag, action); st != "in_progress" {
		t.Errorf("the action while it applies: %s; want in_progress", st)
	}

	// Still applying: writes are busy, reads are served.
	busy := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified()), "Content-Type: application/xml")
	if busy.Status != http.StatusConflict {
		t.Errorf("a write during the async transaction: %d; want 409\n%s", busy.Status, busy.Body)
	}
	if g := ag.Get(t, ag.HostPath()+"/nics"); g.Status != http.StatusOK {
		t.Errorf("a read during the async transaction: %d", g.Status)
	}

	waitEventWithin(t, ag, "NETWORK_CHANGE_APPLIED", "", 30*time.Second)
	if st, body := waitAction(t, ag, action); st != "complete" || !strings.Contains(body, "<name>vmnet</name>") {
		t.Errorf("the action once applied: %s; want complete, echoing the request\n%s", st, body)
	}
	_, master, _ := linkState(t, host, "eth0")
	_, _, addrs := linkState(t, host, "vmnet")
	if master != "vmnet" || len(addrs) != 1 || addrs[0] != "192.0.2.10/24" {
		t.Errorf("after the async transaction: eth0 master %q, vmnet addresses %v; want vmnet, [192.0.2.10/24]", master, addrs)
	}
	if g := ag.Get(t, ag.HostPath()+"/networkattachments"); !strings.Contains(string(g.Body), "192.0.2.10") {
		t.Errorf("the attachment is not in the configuration:\n%s", g.Body)
	}
	// The writer slot is free again.
	if writes := setup(t, ag, good[:len("<action>")]+good[len("<action><async>true</async>"):]); writes != 0 {
		t.Errorf("the same request, synchronous, after the async one made %d writes; want 0", writes)
	}
}

// TestStopWaitsForAnAsyncSetupNetworks: a stop that comes while an async
// transaction runs lets it finish, as for a synchronous one; the host is
// left with the whole change, never half of it.
func TestStopWaitsForAnAsyncSetupNetworks(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.PauseBeforeEachStep(engine.NamespaceKernel{Namespace: o.Namespace}, zap.NewNop(), 100*time.Millisecond)
	})
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><async>true</async>`+
		`<modified_network_attachments><network_attachment><network><name>vmnet</name></network><host_nic><name>eth0</name></host_nic>`+
		`</network_attachment></modified_network_attachments></action>`), "Content-Type: application/xml")
	if r.Status != http.StatusAccepted {
		t.Fatalf("async setupnetworks: %d; want 202\n%s", r.Status, r.Body)
	}
	if _, master, _ := linkState(t, host, "eth0"); master == "vmnet" {
		t.Fatal("the change was complete before the stop; the test proves nothing")
	}
	ag.Stop()
	if _, master, _ := linkState(t, host, "eth0"); master != "vmnet" {
		t.Errorf("after the stop eth0's master is %q; want vmnet (the async transaction finished)", master)
	}
}

// TestAsyncSetupNetworksFailureIsReportedOnItsAction: an async change the
// kernel refuses is rolled back, and the action named by the 202 says
// failed, with the fault a synchronous request would have answered. An
// action id nobody was given is not found.
func TestAsyncSetupNetworksFailureIsReportedOnItsAction(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return i == 1 })
	})
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	before := dump(t, host)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(`<action><async>true</async>`+
		`<modified_network_attachments><network_attachment><network><name>vmnet</name></network><host_nic><name>eth0</name></host_nic>`+
		`</network_attachment></modified_network_attachments></action>`), "Content-Type: application/xml")
	if r.Status != http.StatusAccepted {
		t.Fatalf("async setupnetworks: %d; want 202\n%s", r.Status, r.Body)
	}
	action := followAction(t, ag, r)
	st, body := waitAction(t, ag, action)
	if st != "failed" || !strings.Contains(body, "<fault>") || !strings.Contains(body, "<code>") {
		t.Errorf("the action of a refused change: %s; want failed with its fault\n%s", st, body)
	}
	if after := dump(t, host); after != before {
		t.Errorf("a failed async change left the host changed:\n%s", after)
	}
	if g := ag.Get(t, ag.HostPath()+"/setupnetworks/00000000-0000-0000-0000-000000000000"); g.Status != http.StatusNotFound {
		t.Errorf("an unknown action: %d; want 404\n%s", g.Status, g.Body)
	}
}

// followAction checks the 202 of an async setupnetworks names its action
// (id, href and the Location header, all agreeing) and returns the href.
func followAction(t *testing.T, ag *agenttest.Agent, accepted agenttest.Response) string {
	t.Helper()
	doc := parseXML(t, accepted)
	href, _ := doc.Attr("href")
	id, _ := doc.Attr("id")
	if id == "" || href != ag.HostPath()+"/setupnetworks/"+id || accepted.Header.Get("Location") != href {
		t.Fatalf("the 202 names its action as id %q, href %q, Location %q; want them to agree\n%s",
			id, href, accepted.Header.Get("Location"), accepted.Body)
	}
	return href
}

// actionStatus reads an async action's status.
func actionStatus(t *testing.T, ag *agenttest.Agent, href string) (string, string) {
	t.Helper()
	g := ag.Get(t, href)
	if g.Status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", href, g.Status, g.Body)
	}
	return text(parseXML(t, g), "status"), string(g.Body)
}

// waitAction waits for an async action to end and returns its status.
func waitAction(t *testing.T, ag *agenttest.Agent, href string) (string, string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st, body := actionStatus(t, ag, href)
		if st != "in_progress" || time.Now().After(deadline) {
			return st, body
		}
	}
}
