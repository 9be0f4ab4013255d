package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safchain/ethtool"
	"github.com/vishvananda/netlink"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// offload reads an offload of a device in ns as ethtool -k shows it (on,
// off or mixed), through the ethtool library, not through hostnetd.
func offload(t *testing.T, ns *kernel.Namespace, dev, key string) string {
	t.Helper()
	m, err := kernel.ReadEthtool(ns, []string{dev})
	if err != nil || m[dev] == nil {
		t.Fatalf("reading the offloads of %s: %v", dev, err)
	}
	return m[dev].FeatureValue(key)
}

// setOffloads changes kernel features of a device behind hostnetd's back,
// with the ethtool library directly, as `ethtool -K` would.
func setOffloads(t *testing.T, ns *kernel.Namespace, dev string, features map[string]bool) {
	t.Helper()
	err := ns.Do(func() error {
		e, err := ethtool.NewEthtool()
		if err != nil {
			return err
		}
		defer e.Close()
		return e.Change(dev, features)
	})
	if err != nil {
		t.Fatalf("ethtool -K %s %v: %v", dev, features, err)
	}
}

// setOffloadGroup sets every changeable feature of an ethtool name (tso:
// all the TCP segmentation features) behind hostnetd's back.
func setOffloadGroup(t *testing.T, ns *kernel.Namespace, dev, key string, on bool) {
	t.Helper()
	m, err := kernel.ReadEthtool(ns, []string{dev})
	if err != nil || m[dev] == nil {
		t.Fatalf("reading the offloads of %s: %v", dev, err)
	}
	features := map[string]bool{}
	for _, f := range m[dev].FeatureMembers(key) {
		features[f] = on
	}
	setOffloads(t, ns, dev, features)
}

func ethtoolAttachment(network, nic, opts string) string {
	return fmt.Sprintf(`<network_attachment><network><name>%s</name></network><host_nic><name>%s</name></host_nic>
<ip_address_assignments><ip_address_assignment><assignment_method>static</assignment_method>
<ip><address>192.0.2.10</address><netmask>255.255.255.0</netmask></ip></ip_address_assignment></ip_address_assignments>
<properties><property><name>ethtool_opts</name><value>%s</value></property></properties></network_attachment>`, network, nic, opts)
}

func wantOffloads(t *testing.T, ns *kernel.Namespace, dev string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := offload(t, ns, dev, k); got != v {
			t.Errorf("%s %s = %s; want %s", dev, k, got, v)
		}
	}
}

// TestEthtoolOptsAppliedVerifiedAndReported: ethtool_opts on a veth NIC is
// applied, reported in sync, shown in a dry run as ethtool commands, and
// re-applied with zero kernel writes.
func TestEthtoolOptsAppliedVerifiedAndReported(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>storage</name></network>`)
	// veth starts with tso on and gro off.
	wantOffloads(t, host, "eth0", map[string]string{"tso": "on", "gro": "off", "tx": "on"})

	opts := "--offload eth0 tso off generic-receive-offload on"
	plan := dryRun(t, ag, modified(ethtoolAttachment("storage", "eth0", opts)))
	if !slices.Contains(plan.commands, "ethtool -K eth0 gro on tso off") {
		t.Errorf("the dry run shows no ethtool command: %q", plan.commands)
	}
	wantOffloads(t, host, "eth0", map[string]string{"tso": "on", "gro": "off"})

	if n := setup(t, ag, modified(ethtoolAttachment("storage", "eth0", opts))); n == 0 {
		t.Error("applying ethtool_opts made no kernel write")
	}
	wantOffloads(t, host, "eth0", map[string]string{"tso": "off", "gro": "on", "tx": "on"})
	att := attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")))
	r := reported(att, "ethtool_opts")
	if r == nil || text(r, "in_sync") != "true" || text(r, "expected_value") != "ethtool -K eth0 gro on tso off" {
		t.Fatalf("reported ethtool_opts:\n%s", att.Canonical())
	}
	if n := setup(t, ag, modified(ethtoolAttachment("storage", "eth0", opts))); n != 0 {
		t.Errorf("re-applying the same ethtool_opts made %d kernel writes; want 0", n)
	}
	if plan := dryRun(t, ag, modified(ethtoolAttachment("storage", "eth0", "-K * tx off"))); !slices.Contains(plan.commands, "ethtool -K eth0 tx off") {
		t.Errorf("the dry run of -K * tx off: %q", plan.commands)
	}
	// Changing the settings changes only what differs; settings no longer
	// named are left as they are.
	setup(t, ag, modified(ethtoolAttachment("storage", "eth0", "-K * tx off")))
	wantOffloads(t, host, "eth0", map[string]string{"tx": "off", "gro": "on"})
}

// TestEthtoolOptsValidatedBeforeAnyWrite: settings the device cannot
// take, devices the attachment does not own and ethtool options hostnetd
// does not apply are refused with the engine's custom-properties code, and
// nothing is written.
func TestEthtoolOptsValidatedBeforeAnyWrite(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>storage</name></network>`)
	before := dump(t, host)
	for _, opts := range []string{
		"-G eth0 rx 512",              // veth has no rings
		"-C eth0 rx-usecs 30",         // nor coalescing
		"-K eth0 no-such-feature off", // not a feature of the device
		"-K eth0 tso maybe",
		"-K eth1 tso off", // another NIC
		"--change eth0 speed 1000",
		"-K eth0",
		"tso off",
		"-K eth0 tso off tso on",
	} {
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(ethtoolAttachment("storage", "eth0", opts))))
		expectFault(t, r, http.StatusBadRequest, netconf.CodeBadCustomProperties)
		if w := r.Header.Get("X-Hostnetd-Kernel-Writes"); w != "" && w != "0" {
			t.Errorf("%q: %s kernel writes", opts, w)
		}
	}
	if got := dump(t, host); got != before {
		t.Errorf("refused requests changed the namespace")
	}
	wantOffloads(t, host, "eth0", map[string]string{"tso": "on", "gro": "off"})
}

// TestEthtoolOptsDriftAndSync: an offload changed behind hostnetd's back
// is reported (ethtool_opts out of sync, an event) and a sync puts it back.
func TestEthtoolOptsDriftAndSync(t *testing.T) {
	host, ag := engineHost(t)
	addNetwork(t, ag, `<network><name>storage</name></network>`)
	setup(t, ag, modified(ethtoolAttachment("storage", "eth0", "-K eth0 tso off")))

	setOffloadGroup(t, host, "eth0", "tso", true)
	att := attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")))
	r := reported(att, "ethtool_opts")
	if text(att, "in_sync") != "false" || r == nil || text(r, "in_sync") != "false" || !strings.Contains(text(r, "actual_value"), "tso on") && !strings.Contains(text(r, "actual_value"), "tso mixed") {
		t.Fatalf("an offload changed by hand is not reported:\n%s", att.Canonical())
	}
	deadline := time.Now().Add(eventWait)
	for !strings.Contains(string(ag.Get(t, ag.HostPath()+"/events").Body), "ethtool_opts") {
		if time.Now().After(deadline) {
			t.Fatalf("no drift event names ethtool_opts:\n%s", ag.Get(t, ag.HostPath()+"/events").Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`))
	if resp.Status != http.StatusOK {
		t.Fatalf("syncallnetworks: %d\n%s", resp.Status, resp.Body)
	}
	wantOffloads(t, host, "eth0", map[string]string{"tso": "off"})
	checkAllInSync(t, ag)
}

// TestEthtoolOptsRolledBackExactly fails a change of ethtool_opts at every
// step of its plan, among them the steps after its ethtool writes: each
// time the features are back exactly as they were, feature by feature.
func TestEthtoolOptsRolledBackExactly(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"eth0", "eth1"} {
		nstest.Veth(t, host, n, peer, "p"+n[3:])
	}
	var failAt atomic.Int64
	failAt.Store(-1)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(i int, _ netconf.Step) bool { return int64(i) == failAt.Load() })
	})
	addNetwork(t, ag, `<network><name>storage</name></network>`)
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(ethtoolAttachment("storage", "eth0", "-K eth0 tso off gro on")))
	// A partial state by hand on eth1: one TSO feature of the group off.
	setOffloads(t, host, "eth1", map[string]bool{"tx-tcp6-segmentation": false})
	features := func() string {
		m, err := kernel.ReadEthtool(host, []string{"eth0", "eth1"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, dev := range []string{"eth0", "eth1"} {
			for name, f := range m[dev].Features {
				out = append(out, fmt.Sprintf("%s %s %v", dev, name, f.Active))
			}
		}
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	before := features()
	// The kernel turns TSO off without checksumming: verification sees
	// it, and the rollback gives back what was asked for before.
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(ethtoolAttachment("storage", "eth0", "-K eth0 tso on tx off"))))
	expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
	if got := features(); got != before {
		t.Fatalf("after a failed verification the features differ:\n--- before\n%s\n--- after\n%s", before, got)
	}
	request := modified(
		ethtoolAttachment("storage", "eth0", "-K eth0 tso on gro off txvlan off"),
		`<network_attachment><network><name>vmnet</name></network><host_nic><name>eth1</name></host_nic>
<properties><property><name>ethtool_opts</name><value>-K * tso on rxvlan off gro on</value></property></properties></network_attachment>`)
	for i := 0; i < 40; i++ {
		failAt.Store(int64(i))
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request))
		if i == 39 {
			t.Fatalf("the change never succeeded:\n%s", r.Body)
		}
		if r.Status == http.StatusOK {
			failAt.Store(-1)
			if i < 3 {
				t.Errorf("the plan had only %d steps", i)
			}
			break
		}
		expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
		if got := features(); got != before {
			t.Fatalf("after a failure at step %d the features differ:\n--- before\n%s\n--- after\n%s", i, before, got)
		}
	}
	wantOffloads(t, host, "eth0", map[string]string{"tso": "on", "gro": "off", "txvlan": "off"})
	wantOffloads(t, host, "eth1", map[string]string{"tso": "on", "rxvlan": "off", "gro": "on"})
}

// TestEthtoolOptsRestoredAtBoot: committed ethtool_opts come back at the
// first start after a boot, which reset the NIC's offloads.
func TestEthtoolOptsRestoredAtBoot(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	dir := t.TempDir()
	withRunDir := func(run string) func(*agent.Options) {
		return func(o *agent.Options) { o.RunDir = filepath.Join(dir, run) }
	}
	first := agenttest.StartWith(t, host, dir, withRunDir("boot1"))
	addNetwork(t, first, `<network><name>storage</name></network>`)
	setup(t, first, `<action><commit_on_success>true</commit_on_success><modified_network_attachments>`+
		ethtoolAttachment("storage", "eth0", "-K eth0 tso off gro on")+`</modified_network_attachments></action>`)
	first.Stop()

	// The reboot: the driver's defaults again.
	setOffloadGroup(t, host, "eth0", "tso", true)
	setOffloadGroup(t, host, "eth0", "gro", false)
	wantOffloads(t, host, "eth0", map[string]string{"tso": "on", "gro": "off"})
	second := agenttest.StartWith(t, host, dir, withRunDir("boot2"))
	wantOffloads(t, host, "eth0", map[string]string{"tso": "off", "gro": "on"})
	checkAllInSync(t, second)
}

// TestEthtoolOptsKilledAfterTheirWriteRollBackOnRestart kills hostnetd
// right after it wrote ethtool settings, before the rest of the plan: the
// restarted daemon finds the journal and gives the NIC its offloads back.
func TestEthtoolOptsKilledAfterTheirWriteRollBackOnRestart(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	dir := t.TempDir()
	const delay = 100 * time.Millisecond
	d := startDaemon(t, host, dir, "--test-step-delay", delay.String())
	if code, err := d.post("/networks", `<network><name>storage</name></network>`); err != nil || code != http.StatusCreated {
		t.Fatalf("POST network: %d %v", code, err)
	}
	before := dump(t, host)
	wantOffloads(t, host, "eth0", map[string]string{"tso": "on", "gro": "off"})
	// The plan: sysctl, ethtool -K, addr-add; the daemon logs each pause
	// before a write, so the pause before step 2 means -K was written.
	go func() {
		_, _ = d.post("/hosts/"+hostIDOf(t, dir)+"/setupnetworks", modified(ethtoolAttachment("storage", "eth0", "-K eth0 tso off gro on")))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	if log, err := d.log.Wait(ctx, func(log string) bool { return strings.Contains(log, `"step": 2`) }); err != nil {
		t.Fatalf("the transaction did not reach its third step: %v\n%s", err, log)
	}
	d.kill()
	wantOffloads(t, host, "eth0", map[string]string{"tso": "off", "gro": "on"}) // written, not rolled back yet
	d = startDaemon(t, host, dir)
	if !strings.Contains(d.log.String(), "interrupted transaction was rolled back") {
		t.Errorf("the restarted daemon did not roll back:\n%s", d.log)
	}
	wantOffloads(t, host, "eth0", map[string]string{"tso": "on", "gro": "off"})
	if got := dump(t, host); got != before {
		t.Errorf("after the restart the namespace differs:\n--- before\n%s\n--- after\n%s", before, got)
	}
}

// coalescing reads a coalescing parameter of a device in ns.
func coalescing(t *testing.T, ns *kernel.Namespace, dev, key string) uint32 {
	t.Helper()
	m, err := kernel.ReadEthtool(ns, []string{dev})
	if err != nil || m[dev] == nil || m[dev].Coalesce == nil {
		t.Fatalf("reading the coalescing of %s: %v", dev, err)
	}
	return m[dev].Coalesce[key]
}

// TestEthtoolCoalescingThroughTheAPI: -C is applied, re-applied with no
// write, rolled back exactly after a failure after its step, reported when
// changed by hand and synchronised, on a tap device (the device here with
// a coalescing parameter: rx-frames, its batching).
func TestEthtoolCoalescingThroughTheAPI(t *testing.T) {
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("this kernel has no tun device")
	}
	host := nstest.New(t)
	err := host.Do(func() error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "tap0"
		tap := &netlink.Tuntap{LinkAttrs: attrs, Mode: netlink.TUNTAP_MODE_TAP}
		if err := netlink.LinkAdd(tap); err != nil {
			return err
		}
		for _, f := range tap.Fds {
			f.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var fail atomic.Bool
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, func(_ int, s netconf.Step) bool { return fail.Load() && s.Op == netconf.OpAddrAdd })
	})
	addNetwork(t, ag, `<network><name>storage</name></network>`)
	if got := coalescing(t, host, "tap0", "rx-frames"); got != 0 {
		t.Fatalf("tap0 rx-frames = %d at start; want 0", got)
	}
	request := func(frames int) string {
		return modified(ethtoolAttachment("storage", "tap0", fmt.Sprintf("--coalesce * rx-frames %d", frames)))
	}
	if plan := dryRun(t, ag, request(16)); !slices.Contains(plan.commands, "ethtool -C tap0 rx-frames 16") {
		t.Errorf("the dry run shows no ethtool -C: %q", plan.commands)
	}
	fail.Store(true) // the address comes after the coalescing
	expectFault(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request(16))), http.StatusBadRequest, netconf.CodeFailedIfup)
	if got := coalescing(t, host, "tap0", "rx-frames"); got != 0 {
		t.Errorf("after the rollback rx-frames = %d; want 0", got)
	}
	fail.Store(false)
	setup(t, ag, request(16))
	if got := coalescing(t, host, "tap0", "rx-frames"); got != 16 {
		t.Errorf("rx-frames = %d; want 16", got)
	}
	if n := setup(t, ag, request(16)); n != 0 {
		t.Errorf("re-applying made %d kernel writes", n)
	}
	fail.Store(true)
	expectFault(t, ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(
		strings.Replace(ethtoolAttachment("storage", "tap0", "-C tap0 rx-frames 32"), "192.0.2.10", "192.0.2.11", 1)))),
		http.StatusBadRequest, netconf.CodeFailedIfup)
	if got := coalescing(t, host, "tap0", "rx-frames"); got != 16 {
		t.Errorf("after the second rollback rx-frames = %d; want 16", got)
	}
	fail.Store(false)

	// A coalescing parameter the driver does not take (no kernel interface
	// tells which it takes before a write) is refused by the kernel: the
	// change fails and is rolled back.
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(modified(ethtoolAttachment("storage", "tap0", "-C tap0 rx-frames 8 tx-usecs 5"))))
	expectFault(t, r, http.StatusBadRequest, netconf.CodeFailedIfup)
	if got := coalescing(t, host, "tap0", "rx-frames"); got != 16 {
		t.Errorf("after a refused tx-usecs rx-frames = %d; want 16", got)
	}

	// By hand, as ethtool -C would, once the drift watcher's look after
	// the last transaction is over.
	time.Sleep(500 * time.Millisecond)
	plan := netconf.Plan{{Op: netconf.OpEthtoolCoalesce, Link: "tap0", Ethtool: &netconf.EthtoolSettings{Coalesce: map[string]uint32{"rx-frames": 4}}}}
	if _, err := kernel.Apply(t.Context(), host, plan); err != nil {
		t.Fatal(err)
	}
	// No link notification comes of it: the ethtool monitor has the drift
	// watcher look.
	deadline := time.Now().Add(eventWait)
	for !strings.Contains(string(ag.Get(t, ag.HostPath()+"/events").Body), "ethtool -C tap0 rx-frames 4") {
		if time.Now().After(deadline) {
			t.Fatalf("no drift event for a coalescing change by hand:\n%s", ag.Get(t, ag.HostPath()+"/events").Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	att := attachmentOf(t, parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")))
	if r := reported(att, "ethtool_opts"); r == nil || text(r, "in_sync") != "false" || text(r, "actual_value") != "ethtool -C tap0 rx-frames 4" {
		t.Fatalf("a coalescing change by hand is not reported:\n%s", att.Canonical())
	}
	if r := ag.Do(t, "POST", ag.HostPath()+"/syncallnetworks", []byte(`<action/>`)); r.Status != http.StatusOK {
		t.Fatalf("syncallnetworks: %d\n%s", r.Status, r.Body)
	}
	if got := coalescing(t, host, "tap0", "rx-frames"); got != 16 {
		t.Errorf("after the sync rx-frames = %d; want 16", got)
	}
}
