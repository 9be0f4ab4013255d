package integration

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// dryPlan is a dry run's answer: the commands of its steps, the links it
// would take down, and the document itself.
type dryPlan struct {
	commands, linksDown []string
	doc                 *xmlapi.Node
}

// dryRun posts a setupnetworks with ?dry_run=true and checks the answer's
// shape: complete, no kernel write, kernel_writes the number of steps,
// steps numbered from 1.
func dryRun(t *testing.T, ag *agenttest.Agent, action string) dryPlan {
	t.Helper()
	return dryAnswer(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks?dry_run=true", []byte(action), "Content-Type: application/xml"))
}

func dryAnswer(t *testing.T, r agenttest.Response) dryPlan {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("dry run: %d\n%s", r.Status, r.Body)
	}
	if w := r.Header.Get("X-Hostnetd-Kernel-Writes"); w != "0" {
		t.Errorf("a dry run reports X-Hostnetd-Kernel-Writes %q; want 0", w)
	}
	doc := parseXML(t, r)
	if text(doc, "status") != "complete" {
		t.Errorf("dry run status = %q; want complete", text(doc, "status"))
	}
	var p dryPlan
	p.doc = doc.Child("plan")
	for i, s := range p.doc.Child("steps").All("step") {
		if text(s, "index") != strconv.Itoa(i+1) || text(s, "op") == "" {
			t.Errorf("step %d: %s", i+1, s.Canonical())
		}
		p.commands = append(p.commands, text(s, "command"))
	}
	for _, l := range p.doc.Child("links_down").All("link") {
		p.linksDown = append(p.linksDown, l.Text)
	}
	if n := text(p.doc, "kernel_writes"); n != strconv.Itoa(len(p.commands)) {
		t.Errorf("kernel_writes = %s for %d steps", n, len(p.commands))
	}
	return p
}

// hostImage is everything a dry run must leave as it is: the kernel (its
// canonical dump and the IPv6 settings of the named devices), every file
// of the state directory, and the event log.
func hostImage(t *testing.T, ns *kernel.Namespace, ag *agenttest.Agent, devs ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(dump(t, ns))
	v, err := kernel.ReadIPv6Sysctls(ns, devs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		b.WriteString(d + " ipv6 " + strings.Join(sortedPairs(v[d]), " ") + "\n")
	}
	err = filepath.WalkDir(ag.StateDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		b.WriteString("--- " + path + "\n" + string(data) + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("--- events\n" + string(ag.Get(t, ag.HostPath()+"/events").Body))
	return b.String()
}

func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// stepRecorder records the steps each transaction applies, through the
// FailStep test hook (which sees every step and fails none here).
type stepRecorder struct {
	mu    sync.Mutex
	steps []string
}

func (s *stepRecorder) hook(_ int, step netconf.Step) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, step.String())
	return false
}

// take returns the steps recorded since the last take.
func (s *stepRecorder) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.steps
	s.steps = nil
	return out
}

// TestDryRunPlansWithoutChangingAnything: a dry run of a bridged network
// with a static address and a gateway returns its plan and leaves the
// kernel, the stores and the events byte for byte as they were; the real
// request then applies exactly the planned steps; a dry run of the removal
// names the link that would go down.
func TestDryRunPlansWithoutChangingAnything(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	rec := &stepRecorder{}
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, rec.hook)
	})
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>9000</mtu><usages><usage>vm</usage><usage>default_route</usage></usages></network>`)
	action := modified(staticWithGateway("vmnet", "eth0", "192.0.2.10", "192.0.2.1"))

	before := hostImage(t, host, ag, "eth0", "eth1")
	plan := dryRun(t, ag, action)
	for _, want := range []string{
		"ip link set eth0 mtu 9000",
		"ip link add vmnet address ", // the bridge takes its port's MAC
		"ip link set eth0 master vmnet",
		"ip addr add 192.0.2.10/24 dev vmnet",
		"ip route add default via 192.0.2.1 dev vmnet",
		"ip rule add priority 3200 from 192.0.2.0/24",
	} {
		if !slices.ContainsFunc(plan.commands, func(c string) bool { return strings.HasPrefix(c, want) }) {
			t.Errorf("the plan has no %q:\n%s", want, strings.Join(plan.commands, "\n"))
		}
	}
	if len(plan.linksDown) != 0 {
		t.Errorf("links down = %v; enslaving a NIC to a bridge takes nothing down", plan.linksDown)
	}
	if after := hostImage(t, host, ag, "eth0", "eth1"); after != before {
		t.Fatalf("the dry run changed the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("the dry run applied steps: %v", got)
	}

	// The JSON answer has the same content.
	rj := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks?dry_run=true", []byte(action), "Accept: application/json")
	doc, err := xmlapi.ParseJSON(rj.Body, "action")
	if err != nil || rj.Status != http.StatusOK {
		t.Fatalf("JSON dry run: %d %v\n%s", rj.Status, err, rj.Body)
	}
	if got, want := doc.Child("plan").Canonical(), plan.doc.Canonical(); got != want {
		t.Errorf("JSON plan:\n%s\nXML plan:\n%s", got, want)
	}

	writes := setup(t, ag, action)
	if applied := rec.take(); !slices.Equal(applied, plan.commands) {
		t.Errorf("the transaction applied:\n%s\nthe dry run planned:\n%s", strings.Join(applied, "\n"), strings.Join(plan.commands, "\n"))
	}
	if writes != len(plan.commands) {
		t.Errorf("the transaction made %d kernel writes; the dry run planned %d", writes, len(plan.commands))
	}
	if again := dryRun(t, ag, action); len(again.commands) != 0 {
		t.Errorf("a dry run of what already runs plans %v", again.commands)
	}

	removal := `<action><removed_network_attachments><network_attachment><network><name>vmnet</name></network></network_attachment></removed_network_attachments></action>`
	before = hostImage(t, host, ag, "eth0", "eth1", "vmnet")
	plan = dryRun(t, ag, removal)
	if !slices.Equal(plan.linksDown, []string{"vmnet"}) {
		t.Errorf("removing the network takes down %v; want [vmnet]\n%s", plan.linksDown, strings.Join(plan.commands, "\n"))
	}
	if after := hostImage(t, host, ag, "eth0", "eth1", "vmnet"); after != before {
		t.Fatalf("the dry run changed the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
	setup(t, ag, removal)
	if applied := rec.take(); !slices.Equal(applied, plan.commands) {
		t.Errorf("the transaction applied:\n%s\nthe dry run planned:\n%s", strings.Join(applied, "\n"), strings.Join(plan.commands, "\n"))
	}
}

// TestDryRunFaultsAreTheRealOnes: a request the transaction refuses gets
// the same status and fault with dry_run, and nothing changes either way.
func TestDryRunFaultsAreTheRealOnes(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(staticAttachment("vmnet", "eth1", "192.0.2.20", "24")))
	before := hostImage(t, host, ag, "eth0", "eth1")
	bad := []struct{ name, action string }{
		{"bad-address", modified(staticAttachment("vmnet", "eth0", "192.0.2.300", "24"))},
		{"unknown-network", modified(staticAttachment("nosuch", "eth0", "192.0.2.10", "24"))},
		{"unknown-nic", modified(staticAttachment("vmnet", "eth9", "192.0.2.10", "24"))},
		{"one-slave-bond", `<action><modified_bonds><host_nic><name>bond0</name><bonding><slaves><host_nic><name>eth2</name></host_nic></slaves></bonding></host_nic></modified_bonds></action>`},
		{"unknown-synced-attachment", `<action><synchronized_network_attachments><network_attachment id="nosuch"/></synchronized_network_attachments></action>`},
		{"malformed", `<action><modified_network_attachments>`},
		// The query parameter is the contract: in the body it is an
		// unknown element, refused rather than applied for real.
		{"dry-run-in-the-body", `<action><dry_run>true</dry_run></action>`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			real := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(tt.action))
			dry := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks?dry_run=true", []byte(tt.action))
			if real.Status < 400 {
				t.Fatalf("the request was accepted: %d\n%s", real.Status, real.Body)
			}
			if dry.Status != real.Status || string(dry.Body) != string(real.Body) {
				t.Errorf("dry run: %d\n%s\nreal: %d\n%s", dry.Status, dry.Body, real.Status, real.Body)
			}
		})
	}
	expectFault(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks?dry_run=maybe", []byte(modified())), http.StatusBadRequest, agent.CodeInvalidValue)
	// Only setupnetworks has a dry run: other writes refuse to pretend.
	r := ag.Do(t, "POST", ag.HostPath()+"/nics/eth0/networkattachments?dry_run=true",
		[]byte(`<network_attachment><network><name>vmnet</name></network></network_attachment>`))
	expectFault(t, r, http.StatusBadRequest, agent.CodeInvalidValue)
	if after := hostImage(t, host, ag, "eth0", "eth1"); after != before {
		t.Fatalf("the host changed:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

// TestDryRunWaitsForTheRunningWrite: a dry run plans between writes. While
// a change waits for its connectivity check (the kernel has it, the
// running configuration not yet) a dry run waits as long as a write would,
// then gets the same 409; one waiting when the change commits plans
// against it.
func TestDryRunWaitsForTheRunningWrite(t *testing.T) {
	host, _ := managerHost(t)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) { o.WriteWait = 2 * time.Second })
	addNetwork(t, ag, `<network><name>mgmt</name><usages><usage>vm</usage></usages></network>`)
	done := make(chan agenttest.Response, 1)
	go func() { done <- ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(checkedAction(30))) }()
	for deadline := time.Now().Add(eventWait); !linkExists(host, "mgmt"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the checked change was not applied within 10 s")
		}
	}
	removal := `<action><removed_network_attachments><network_attachment><network><name>mgmt</name></network></network_attachment></removed_network_attachments></action>`
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks?dry_run=true", []byte(removal))
	expectFault(t, r, http.StatusConflict, engine.CodeOperationInProgress)

	planned := make(chan agenttest.Response, 1)
	go func() { planned <- ag.Do(t, "POST", ag.HostPath()+"/setupnetworks?dry_run=true", []byte(removal)) }()
	time.Sleep(200 * time.Millisecond)
	if r := ag.Do(t, "POST", ag.HostPath()+"/confirmconnectivity", []byte(`<action/>`)); r.Status != http.StatusOK {
		t.Fatalf("confirmconnectivity: %d\n%s", r.Status, r.Body)
	}
	if r := <-done; r.Status != http.StatusOK {
		t.Fatalf("the checked change: %d\n%s", r.Status, r.Body)
	}
	// Planned against the committed change: the attachment exists, and
	// removing it deletes the bridge.
	if p := dryAnswer(t, <-planned); !slices.Contains(p.commands, "ip link del mgmt") {
		t.Errorf("the dry run planned:\n%s", strings.Join(p.commands, "\n"))
	}
}

// TestDryRunOfLeavingDHCP: a change that stops a DHCP client releases its
// lease before the plan runs; the dry run says so, plans as if it had
// (no step removes the lease's address or routes), and the transaction
// then applies exactly that plan.
func TestDryRunOfLeavingDHCP(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	startDnsmasq(t, peer, "p0")
	rec := &stepRecorder{}
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, rec.hook)
	})
	addNetwork(t, ag, `<network><name>dyn</name><usages><usage>default_route</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>dyn</name></network><host_nic><name>eth0</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>dhcp</assignment_method></ip_address_assignment></ip_address_assignments></network_attachment>`))
	lease := waitLease(t, ag, host, "eth0")
	rec.take()

	static := modified(staticWithGateway("dyn", "eth0", "192.0.3.250", "192.0.3.1"))
	before := hostImage(t, host, ag, "eth0")
	plan := dryRun(t, ag, static)
	leases := plan.doc.Child("released_leases").All("lease")
	if len(leases) != 1 || text(leases[0], "device") != "eth0" || text(leases[0], "address") != lease {
		t.Errorf("released leases: %s; want eth0 %s", plan.doc.Child("released_leases").Canonical(), lease)
	}
	// Word by word: 192.0.3.25 is in "192.0.3.250/24" as a substring.
	leaseIP, _, _ := strings.Cut(lease, "/")
	for _, c := range plan.commands {
		for _, word := range strings.Fields(c) {
			if ip, _, _ := strings.Cut(word, "/"); ip == leaseIP {
				t.Errorf("the plan touches the lease the client releases: %q", c)
			}
		}
	}
	if after := hostImage(t, host, ag, "eth0"); after != before {
		t.Fatalf("the dry run changed the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
	if got := waitAddr(t, host, "eth0"); got != lease {
		t.Fatalf("the lease changed to %s", got)
	}
	setup(t, ag, static)
	if applied := rec.take(); !slices.Equal(applied, plan.commands) {
		t.Errorf("the transaction applied:\n%s\nthe dry run planned:\n%s", strings.Join(applied, "\n"), strings.Join(plan.commands, "\n"))
	}
}
