//go:build vmtest

package integration

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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

// Host network QoS on a kernel with HFSC: each test drives hostnetd through
// the HTTP API and reads the result back with tc, the tool an administrator
// would use.

const qosPath = "/ovirt-engine/api/datacenters/" + xmlapi.DataCenterID + "/qoss"

// tc runs tc inside ns and returns its output.
func tc(t *testing.T, ns *kernel.Namespace, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.Name, "tc"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// wantTC fails unless tc's output for args matches every pattern.
func wantTC(t *testing.T, ns *kernel.Namespace, args string, patterns ...string) {
	t.Helper()
	out := tc(t, ns, strings.Fields(args)...)
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			t.Errorf("tc %s: no match for %q in\n%s", args, p, out)
		}
	}
}

// qosDump is the traffic control of the devices, for before/after
// comparisons.
func qosDump(t *testing.T, ns *kernel.Namespace, devs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range devs {
		for _, what := range []string{"qdisc", "class", "filter"} {
			out := tc(t, ns, what, "show", "dev", d)
			if what == "class" { // one line a class, listed in hash order
				lines := strings.Split(out, "\n")
				slices.Sort(lines)
				out = strings.Join(lines, "\n")
			}
			b.WriteString(out)
		}
	}
	return b.String()
}

// addQoS creates a QoS of the catalogue and returns its id.
func (e *vmEnv) addQoS(name string, ls, ul, rt int) string {
	e.t.Helper()
	body := `<qos><name>` + name + `</name><type>hostnetwork</type>` + qosValuesXML(ls, ul, rt) + `</qos>`
	r := e.must(http.MethodPost, qosPath, body, http.StatusCreated)
	id, _ := parseXML(e.t, r).Attr("id")
	return id
}

func qosValuesXML(ls, ul, rt int) string {
	out := fmt.Sprintf(`<outbound_average_linkshare>%d</outbound_average_linkshare>`, ls)
	if ul > 0 {
		out += fmt.Sprintf(`<outbound_average_upperlimit>%d</outbound_average_upperlimit>`, ul)
	}
	if rt > 0 {
		out += fmt.Sprintf(`<outbound_average_realtime>%d</outbound_average_realtime>`, rt)
	}
	return out
}

// qosAttachment attaches a network to a NIC with an inline QoS (ls 0: none).
func qosAttachment(netID, nic string, ls, ul, rt int) string {
	q := ""
	if ls > 0 {
		q = `<qos><type>hostnetwork</type>` + qosValuesXML(ls, ul, rt) + `</qos>`
	}
	return `<network_attachment><network id="` + netID + `"/><host_nic><name>` + nic + `</name></host_nic>` + q + `</network_attachment>`
}

// TestVMQoSLifecycle: a QoS of the catalogue on a VLAN network and an
// override on another become VDSM's HFSC classes and filters on their NIC,
// steer the VLAN's frames to its class, are re-applied with no kernel
// write, shown in a dry run, reported with the engine's names when changed
// behind hostnetd's back (tc class change: a drift event at once, and on
// the attachment) and synchronised, follow a
// change of the catalogue entry, and leave nothing behind when the
// networks go (ovirt-engine#707).
func TestVMQoSLifecycle(t *testing.T) {
	e := vmStart(t, 2)
	gold := e.addQoS("gold", 50, 100, 40)
	r := e.must(http.MethodGet, "/ovirt-engine/api/datacenters", "", http.StatusOK)
	if !strings.Contains(string(r.Body), xmlapi.DataCenterID) {
		t.Fatalf("GET /datacenters does not list the data center:\n%s", r.Body)
	}
	e.network(vmNetA, "qnet", `<vlan id="100"/><qos id="`+gold+`"/>`)
	e.network(vmNetB, "qnet2", `<vlan id="200"/>`)
	if q := parseXML(t, e.must(http.MethodGet, "/ovirt-engine/api/networks/"+vmNetA, "", http.StatusOK)).Child("qos"); q == nil {
		t.Fatal("the network does not show its QoS")
	}
	body := `<action><modified_network_attachments>` +
		vmAttachment(vmNetA, "eth0", vmStatic4("192.0.2.1", "255.255.255.0", "")) +
		qosAttachment(vmNetB, "eth0", 10, 20, 0) + `</modified_network_attachments></action>`
	e.changed(e.setup(body))
	wantTC(t, e.ns, "qdisc show dev eth0", `qdisc hfsc 1389: root .*default 1388`, `qdisc fq_codel 64: parent 1389:64`,
		`qdisc fq_codel c8: parent 1389:c8`, `qdisc fq_codel 1388: parent 1389:1388`)
	wantTC(t, e.ns, "class show dev eth0",
		`class hfsc 1389:64 parent 1389: .*rt m1 0bit d 0us m2 40Mbit ls m1 0bit d 0us m2 400bit ul m1 0bit d 0us m2 100Mbit`,
		`class hfsc 1389:c8 parent 1389: .*ls m1 0bit d 0us m2 80bit ul m1 0bit d 0us m2 20Mbit`,
		`class hfsc 1389:1388 parent 1389: .*ls m1 0bit d 0us m2 400bit`)
	wantTC(t, e.ns, "filter show dev eth0", `pref 100 basic`, `meta\(vlan eq 100\)`, `flowid 1389:64`,
		`meta\(vlan eq 200\)`, `flowid 1389:c8`, `pref 5000 u32`, `flowid 1389:1388`)
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)

	// Frames of VLAN 100 go through its class: a datagram to a neighbour
	// of its subnet sends ARP requests, tagged 100, out of eth0.
	sendUDP(t, e.ns, "192.0.2.2:9")
	sent := regexp.MustCompile(`Sent \d+ bytes ([1-9]\d*) pkt`)
	for deadline := time.Now().Add(eventWait); !sent.MatchString(tc(t, e.ns, "-s", "class", "show", "dev", "eth0", "classid", "1389:64")); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no frame of VLAN 100 went through class 1389:64:\n%s", tc(t, e.ns, "-s", "class", "show", "dev", "eth0"))
		}
	}

	// A dry run shows the tc commands of a change.
	change := `<action><modified_network_attachments>` + qosAttachment(vmNetB, "eth0", 20, 20, 0) + `</modified_network_attachments></action>`
	dry := e.must(http.MethodPost, e.host("/setupnetworks")+"?dry_run=true", change, http.StatusOK)
	if !strings.Contains(string(dry.Body), "tc class change dev eth0 parent 1389: classid 1389:c8 hfsc ls m2 160bit ul m2 20000000bit") {
		t.Errorf("the dry run does not show the class change:\n%s", dry.Body)
	}

	// Drift: a class changed by hand.
	tc(t, e.ns, "class", "change", "dev", "eth0", "parent", "1389:", "classid", "1389:64", "hfsc", "ls", "m2", "800bit", "ul", "m2", "100Mbit", "rt", "m2", "40Mbit")
	e.driftExpected = true
	// The drift watcher follows tc's notifications: an event, unasked.
	for deadline := time.Now().Add(eventWait); !strings.Contains(string(e.ag.Get(t, e.host("/events")).Body), netconf.ReportedQoSLinkshare); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no drift event names %s:\n%s", netconf.ReportedQoSLinkshare, e.ag.Get(t, e.host("/events")).Body)
		}
	}
	att := e.attachment(vmNetA)
	if r := reported(att, netconf.ReportedQoSLinkshare); r == nil || text(r, "in_sync") != "false" ||
		text(r, "expected_value") != "50" || text(r, "actual_value") != "100" {
		t.Fatalf("a class changed by tc is not reported as outAverageLinkShare drift:\n%s", att.Canonical())
	}
	for _, name := range []string{netconf.ReportedQoSUpperlimit, netconf.ReportedQoSRealtime} {
		if r := reported(att, name); r == nil || text(r, "in_sync") != "true" {
			t.Errorf("%s not reported in sync:\n%s", name, att.Canonical())
		}
	}
	e.must(http.MethodPost, e.host("/syncallnetworks"), `<action/>`, http.StatusOK)
	wantTC(t, e.ns, "class show dev eth0", `class hfsc 1389:64 parent 1389: .*ls m1 0bit d 0us m2 400bit`)
	checkAllInSync(t, e.ag)
	e.driftExpected = false

	// The catalogue entry changes: so does the class of every network
	// naming it.
	r = e.must(http.MethodPut, qosPath+"/"+gold, `<qos>`+qosValuesXML(60, 0, 0)+`</qos>`, http.StatusOK)
	e.changed(r)
	wantTC(t, e.ns, "class show dev eth0", `class hfsc 1389:64 parent 1389: .*ls m1 0bit d 0us m2 480bit ul m1 0bit d 0us m2 100Mbit`)
	checkAllInSync(t, e.ag)
	e.must(http.MethodDelete, qosPath+"/"+gold, "", http.StatusConflict)

	// Removing the networks removes their classes, then the root qdisc.
	e.changed(e.setup(`<action><removed_network_attachments><network_attachment><network id="` + vmNetB +
		`"/></network_attachment></removed_network_attachments></action>`))
	if out := tc(t, e.ns, "class", "show", "dev", "eth0"); strings.Contains(out, "1389:c8") {
		t.Errorf("the removed network's class is left:\n%s", out)
	}
	if out := tc(t, e.ns, "filter", "show", "dev", "eth0"); strings.Contains(out, "vlan eq 200") {
		t.Errorf("the removed network's filter is left:\n%s", out)
	}
	e.changed(e.setup(`<action><removed_network_attachments><network_attachment><network id="` + vmNetA +
		`"/></network_attachment></removed_network_attachments></action>`))
	if out := tc(t, e.ns, "qdisc", "show", "dev", "eth0"); strings.Contains(out, "hfsc") || strings.Contains(out, "1389") {
		t.Errorf("hostnetd's qdiscs are left on eth0 after its last network went:\n%s", out)
	}
}

// sendUDP sends a datagram from inside ns.
func sendUDP(t *testing.T, ns *kernel.Namespace, addr string) {
	t.Helper()
	err := ns.Do(func() error {
		c, err := net.Dial("udp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("qos"))
		return err
	})
	if err != nil {
		t.Fatalf("sending to %s: %v", addr, err)
	}
}

// TestVMQoSRollback: a change that alters a class, adds a network's class,
// queue and filter on a shaped NIC and shapes a second NIC is failed at its
// first traffic control step, its middle one, its last one, and at the
// plan's last step, after all of them; every time the traffic control and
// the namespace are exactly as before, and the stored attachments
// unchanged. (Each failure costs a rollback under emulation: a failure at
// every step would take minutes.)
func TestVMQoSRollback(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 2 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	e := &vmEnv{t: t, ns: host, peer: peer, ag: ag}
	e.network(vmNetA, "qa", `<vlan id="10"/>`)
	e.network(vmNetB, "qb", `<vlan id="11"/>`)
	e.network(vmNetC, "qc", `<vlan id="12"/>`)
	e.setup(`<action><modified_network_attachments>` + qosAttachment(vmNetA, "eth0", 30, 50, 10) + `</modified_network_attachments></action>`)
	request := `<action><modified_network_attachments>` + qosAttachment(vmNetA, "eth0", 40, 60, 10) +
		qosAttachment(vmNetB, "eth0", 20, 0, 0) + qosAttachment(vmNetC, "eth1", 10, 30, 0) + `</modified_network_attachments></action>`
	var qosSteps []int
	steps := parseXML(t, e.must(http.MethodPost, e.host("/setupnetworks")+"?dry_run=true", request, http.StatusOK)).Child("plan").Child("steps").All("step")
	for i, st := range steps {
		if strings.HasPrefix(text(st, "op"), "qos-") {
			qosSteps = append(qosSteps, i)
		}
	}
	if len(qosSteps) < 10 || qosSteps[len(qosSteps)-1] == len(steps)-1 {
		t.Fatalf("the plan has %d traffic control steps of %d, the last at %d; want 10 or more, then another step", len(qosSteps), len(steps), qosSteps[len(qosSteps)-1])
	}
	before, beforeTC := dump(t, host), qosDump(t, host, "eth0", "eth1")
	beforeAtts := string(ag.Get(t, ag.HostPath()+"/networkattachments").Body)
	for _, i := range []int{qosSteps[0], qosSteps[len(qosSteps)/2], qosSteps[len(qosSteps)-1], len(steps) - 1} {
		failAt.Store(int64(i))
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request))
		expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
		if got := qosDump(t, host, "eth0", "eth1"); got != beforeTC {
			t.Fatalf("after a failure at step %d (%s) the traffic control differs:\n--- before\n%s\n--- after\n%s", i, text(steps[i], "command"), beforeTC, got)
		}
		if got := dump(t, host); got != before {
			t.Fatalf("after a failure at step %d the namespace differs:\n--- before\n%s\n--- after\n%s", i, before, got)
		}
		if got := string(ag.Get(t, ag.HostPath()+"/networkattachments").Body); got != beforeAtts {
			t.Fatalf("after a failure at step %d the stored attachments changed", i)
		}
	}
	failAt.Store(-1)
	e.changed(e.setup(request))
	wantTC(t, host, "class show dev eth1", `class hfsc 1389:c parent 1389: .*ls m1 0bit d 0us m2 80bit ul m1 0bit d 0us m2 30Mbit`)
}

// TestVMQoSRestoredAtBoot: a committed QoS comes back at boot, after the
// kernel lost every qdisc; an uncommitted one does not.
func TestVMQoSRestoredAtBoot(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 2 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	dir := t.TempDir()
	withRunDir := func(run string) func(*agent.Options) {
		return func(o *agent.Options) { o.RunDir = filepath.Join(dir, run) }
	}
	first := agenttest.StartWith(t, host, dir, withRunDir("boot1"))
	e := &vmEnv{t: t, ns: host, peer: peer, ag: first}
	e.network(vmNetA, "kept", `<vlan id="30"/>`)
	e.network(vmNetB, "dropped", `<vlan id="31"/>`)
	e.setup(`<action><commit_on_success>true</commit_on_success><modified_network_attachments>` +
		qosAttachment(vmNetA, "eth0", 25, 80, 0) + `</modified_network_attachments></action>`)
	e.setup(`<action><modified_network_attachments>` + qosAttachment(vmNetB, "eth1", 5, 0, 0) + `</modified_network_attachments></action>`)
	first.Stop()

	// A reboot: the VLAN devices are gone and the NICs have their
	// default qdiscs.
	for _, dev := range []string{"eth0.30", "eth1.31"} {
		if l, err := host.Handle.LinkByName(dev); err == nil {
			if err := host.Handle.LinkDel(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, dev := range []string{"eth0", "eth1"} {
		tc(t, host, "qdisc", "del", "dev", dev, "root")
	}
	second := agenttest.StartWith(t, host, dir, withRunDir("boot2"))
	wantTC(t, host, "class show dev eth0", `class hfsc 1389:1e parent 1389: .*ls m1 0bit d 0us m2 200bit ul m1 0bit d 0us m2 80Mbit`)
	wantTC(t, host, "filter show dev eth0", `meta\(vlan eq 30\)`)
	if out := tc(t, host, "qdisc", "show", "dev", "eth1"); strings.Contains(out, "hfsc") {
		t.Errorf("the uncommitted QoS came back on eth1:\n%s", out)
	}
	checkAllInSync(t, second)
}

// TestVMQoSOnABond: a bond carrying shaped VLAN networks gets the classes,
// made in the same transaction as the bond; a second network changes them
// in place; the bond's slaves carry none; the bond's removal with its
// networks takes them with it, and the NICs keep their default qdiscs.
func TestVMQoSOnABond(t *testing.T) {
	e := vmStart(t, 2)
	e.network(vmNetA, "ba", `<vlan id="40"/>`)
	e.network(vmNetB, "bb", `<vlan id="41"/>`)
	e.changed(e.setup(`<action><modified_bonds>` + vmBond("bond0", "mode=1 miimon=100", "eth0", "eth1") +
		`</modified_bonds><modified_network_attachments>` + qosAttachment(vmNetA, "bond0", 30, 200, 0) +
		`</modified_network_attachments></action>`))
	wantTC(t, e.ns, "class show dev bond0", `class hfsc 1389:28 parent 1389: .*ls m1 0bit d 0us m2 240bit ul m1 0bit d 0us m2 200Mbit`)
	wantTC(t, e.ns, "filter show dev bond0", `meta\(vlan eq 40\)`)
	body := `<action><modified_network_attachments>` + qosAttachment(vmNetB, "bond0", 10, 0, 0) + `</modified_network_attachments></action>`
	e.changed(e.setup(body))
	wantTC(t, e.ns, "class show dev bond0", `class hfsc 1389:29 parent 1389: .*ls m1 0bit d 0us m2 80bit`, `class hfsc 1389:28 `)
	e.again(http.MethodPost, e.host("/setupnetworks"), body, http.StatusOK)
	for _, dev := range []string{"eth0", "eth1"} {
		if out := tc(t, e.ns, "qdisc", "show", "dev", dev); strings.Contains(out, "hfsc") {
			t.Errorf("bond slave %s is shaped:\n%s", dev, out)
		}
	}
	e.changed(e.setup(`<action><removed_bonds><host_nic><name>bond0</name></host_nic></removed_bonds><removed_network_attachments>` +
		`<network_attachment><network id="` + vmNetA + `"/></network_attachment><network_attachment><network id="` + vmNetB + `"/></network_attachment>` +
		`</removed_network_attachments></action>`))
	e.gone("bond0")
	for _, dev := range []string{"eth0", "eth1"} {
		if out := tc(t, e.ns, "qdisc", "show", "dev", dev); strings.Contains(out, "1389") {
			t.Errorf("%s has hostnetd's qdisc after the bond went:\n%s", dev, out)
		}
	}
}

// TestVMQoSKilledMidApplyRollsBackOnRestart kills hostnetd with SIGKILL at
// several points of a plan that changes a class, adds classes, queues and
// filters on a shaped NIC and shapes another; each time the restarted
// daemon rolls the traffic control and the namespace back to exactly what
// they were, from its journal, before it serves.
func TestVMQoSKilledMidApplyRollsBackOnRestart(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 2 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	dir := t.TempDir()
	const delay = 60 * time.Millisecond
	d := startDaemon(t, host, dir, "--test-step-delay", delay.String())
	for _, n := range []struct{ id, vlan string }{{vmNetA, "20"}, {vmNetB, "21"}, {vmNetC, "22"}} {
		if code, err := d.post("/networks", `<network id="`+n.id+`"><name>k`+n.vlan+`</name><vlan id="`+n.vlan+`"/></network>`); err != nil || code != http.StatusCreated {
			t.Fatalf("POST network: %d %v", code, err)
		}
	}
	hostID := hostIDOf(t, dir)
	first := `<action><modified_network_attachments>` + qosAttachment(vmNetA, "eth0", 30, 50, 0) + `</modified_network_attachments></action>`
	if code, err := d.post("/hosts/"+hostID+"/setupnetworks", first); err != nil || code != http.StatusOK {
		t.Fatalf("the first setupnetworks: %d %v\n%s", code, err, d.log)
	}
	request := `<action><modified_network_attachments>` + qosAttachment(vmNetA, "eth0", 40, 60, 0) +
		qosAttachment(vmNetB, "eth0", 20, 0, 0) + qosAttachment(vmNetC, "eth1", 10, 30, 0) + `</modified_network_attachments></action>`
	before, beforeTC := dump(t, host), qosDump(t, host, "eth0", "eth1")
	journal := filepath.Join(dir, "state", "journal.json")
	const killPoints = 4
	recovered := 0
	for k := range killPoints {
		cur := d
		go func() { _, _ = cur.post("/hosts/"+hostID+"/setupnetworks", request) }()
		waitJournal(t, journal, k, cur)
		// The plan's traffic control steps come after its links'.
		time.Sleep(delay*6 + time.Duration(k)*delay*3)
		d.kill()
		d = startDaemon(t, host, dir, "--test-step-delay", delay.String())
		if got := qosDump(t, host, "eth0", "eth1"); got != beforeTC {
			t.Fatalf("kill point %d: after the restart the traffic control differs:\n--- before\n%s\n--- after\n%s\n--- log\n%s", k, beforeTC, got, d.log)
		}
		if got := dump(t, host); got != before {
			t.Fatalf("kill point %d: after the restart the namespace differs:\n--- before\n%s\n--- after\n%s", k, before, got)
		}
		if strings.Contains(d.log.String(), "interrupted transaction was rolled back") {
			recovered++
		}
	}
	checkRecovered(t, recovered, killPoints)
	if code, err := d.post("/hosts/"+hostID+"/setupnetworks", request); err != nil || code != http.StatusOK {
		t.Fatalf("the transaction after the crashes: %d %v\n%s", code, err, d.log)
	}
	wantTC(t, host, "class show dev eth1", `class hfsc 1389:16 parent 1389: .*ls m1 0bit d 0us m2 80bit ul m1 0bit d 0us m2 30Mbit`)
}
