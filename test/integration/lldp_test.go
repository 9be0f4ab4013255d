package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/packet"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/lldptest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// lldpd is Debian's lldpd running in a peer (switch) namespace.
type lldpd struct {
	cmd  *exec.Cmd
	ctl  string
	ns   string
	done chan struct{}
}

// startLLDPD runs lldpd in the foreground in ns, sending every second on
// the given interfaces, with its own control socket, so that several can
// run at once.
func startLLDPD(t *testing.T, ns *kernel.Namespace, hostname, descr, mgmt string, ifaces ...string) *lldpd {
	t.Helper()
	if _, err := exec.LookPath("lldpd"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("lldpd is not installed (scripts/install-deps.sh installs it)")
		}
		t.Skip("lldpd is not installed")
	}
	// lldpd drops privileges: its directory must be open to its user.
	dir, err := os.MkdirTemp("", "hostnetd-lldpd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "lldpd.conf")
	body := "configure lldp tx-interval 1\nconfigure system hostname " + hostname + "\n"
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &lldpd{ctl: filepath.Join(dir, "ctl"), ns: ns.Name, done: make(chan struct{})}
	d.cmd = exec.Command("ip", "netns", "exec", ns.Name, "lldpd", "-d", "-u", d.ctl, "-O", conf,
		"-I", strings.Join(ifaces, ","), "-S", descr, "-m", mgmt)
	out, err := os.Create(filepath.Join(dir, "lldpd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout, d.cmd.Stderr = out, out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting lldpd: %v", err)
	}
	go func() {
		_ = d.cmd.Wait()
		out.Close()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.stop(syscall.SIGKILL)
		if t.Failed() {
			log, _ := os.ReadFile(out.Name())
			t.Logf("lldpd's log:\n%s", log)
		}
	})
	return d
}

// cli runs lldpcli against this lldpd.
func (d *lldpd) cli(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", d.ns, "lldpcli", "-u", d.ctl}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lldpcli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// freeze silences lldpd without a goodbye: its processes (the privileged
// monitor and the sender it forked, both in the namespace) are stopped
// first, so that none sees the other die and sends a shutdown LLDPDU.
func (d *lldpd) freeze(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "pids", d.ns).Output()
	if err != nil {
		t.Fatalf("ip netns pids %s: %v", d.ns, err)
	}
	pids := strings.Fields(string(out))
	if len(pids) == 0 {
		t.Fatalf("no process in %s", d.ns)
	}
	for _, sig := range []syscall.Signal{syscall.SIGSTOP, syscall.SIGKILL} {
		for _, p := range pids {
			var pid int
			fmt.Sscanf(p, "%d", &pid)
			_ = syscall.Kill(pid, sig)
		}
	}
}

func (d *lldpd) stop(sig syscall.Signal) {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// lldpElements is the LLDP information of a NIC as TLV name → the
// properties of each element of that name, "name=value" joined by "; ".
func lldpElements(t *testing.T, ag *agenttest.Agent, nic string) map[string][]string {
	t.Helper()
	r := ag.Get(t, ag.HostPath()+"/nics/"+nic+"/linklayerdiscoveryprotocolelements")
	if r.Status != 200 {
		t.Fatalf("GET the LLDP elements of %s: %d %s", nic, r.Status, r.Body)
	}
	doc := parseXML(t, r)
	if doc.Name != "link_layer_discovery_protocol_elements" {
		t.Fatalf("the LLDP elements of %s: %s", nic, doc.Canonical())
	}
	out := map[string][]string{}
	for _, e := range doc.All("link_layer_discovery_protocol_element") {
		var props []string
		if p := e.Child("properties"); p != nil {
			for _, prop := range p.All("property") {
				props = append(props, text(prop, "name")+"="+text(prop, "value"))
			}
		}
		key := text(e, "name") + " type=" + text(e, "type")
		if oui := text(e, "oui"); oui != "" {
			key += " oui=" + oui + " subtype=" + text(e, "subtype")
		}
		out[key] = append(out[key], strings.Join(props, "; "))
	}
	return out
}

// waitLLDP polls until cond holds for the NIC's elements.
func waitLLDP(t *testing.T, ag *agenttest.Agent, nic string, within time.Duration, what string, cond func(map[string][]string) bool) map[string][]string {
	t.Helper()
	deadline := time.Now().Add(max(within, eventWait))
	for {
		els := lldpElements(t, ag, nic)
		if cond(els) {
			return els
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; the elements of %s: %v", what, within, nic, els)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasProp(els map[string][]string, key, prop string) bool {
	for _, p := range els[key] {
		if strings.Contains(p, prop) {
			return true
		}
	}
	return false
}

// TestLLDPFromLLDPD: hostnetd reports what Debian's lldpd sends from the
// switch side of two veth NICs (one a bridge port), as the engine does, in
// XML and JSON, and nothing on the bridge; a
// change of the neighbour, its shutdown and its expiry after a kill are
// events, and the elements go with them.
func TestLLDPFromLLDPD(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	ag := agenttest.Start(t, host)
	// eth0 is the port of a VM network's bridge: the bridge does not
	// forward LLDP, and passes it to the port's own socket.
	addNetwork(t, ag, `<network><name>vmnet</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, modified(`<network_attachment><network><name>vmnet</name></network><host_nic><name>eth0</name></host_nic></network_attachment>`))
	sw := startLLDPD(t, peer, "switch-a", "Test switch OS 1.0", "192.0.2.7", "p0", "p1")

	els := waitLLDP(t, ag, "eth0", 15*time.Second, "lldpd's neighbour on eth0", func(els map[string][]string) bool {
		return hasProp(els, "System Name type=5", "system name=switch-a")
	})
	p0mac := nstest.Link(t, peer, "p0").Attrs().HardwareAddr.String()
	for key, want := range map[string]string{
		"Chassis ID type=1":                             "chassis ID subtype=MAC; chassis ID=",
		"Port ID type=2":                                "port ID subtype=",
		"Time to Live type=3":                           "time to live=",
		"System Description type=6":                     "system description=Test switch OS 1.0",
		"System Capabilities type=7":                    "system capabilities=",
		"Management Address type=8":                     "management address subtype=IPv4; management address=192.0.2.7; interface numbering subtype=",
		"Link Aggregation type=127 oui=32962 subtype=7": "Aggregation capable=",
	} {
		if !hasProp(els, key, want) {
			t.Errorf("%s: %q; want %q", key, els[key], want)
		}
	}
	t.Logf("lldpd's LLDPDU on eth0: %v", els)
	if !hasProp(els, "Port ID type=2", "p0") && !hasProp(els, "Port ID type=2", p0mac) {
		t.Errorf("port ID %q names neither p0 nor its MAC %s", els["Port ID type=2"], p0mac)
	}
	waitLLDP(t, ag, "eth1", 5*time.Second, "lldpd's neighbour on eth1", func(els map[string][]string) bool {
		return hasProp(els, "System Name type=5", "system name=switch-a")
	})
	waitEvent(t, ag, "LLDP_NEIGHBOR_DISCOVERED", "on eth0")
	if els := lldpElements(t, ag, "vmnet"); len(els) != 0 {
		t.Errorf("the bridge has LLDP elements: %v", els)
	}

	// JSON, as the SDKs read it.
	r := ag.Get(t, ag.HostPath()+"/nics/eth0/linklayerdiscoveryprotocolelements", "Accept: application/json")
	var doc struct {
		Elements []struct {
			Name       string `json:"name"`
			Type       int    `json:"type"`
			OUI        *int   `json:"oui"`
			Subtype    *int   `json:"subtype"`
			Properties struct {
				Property []struct{ Name, Value string } `json:"property"`
			} `json:"properties"`
		} `json:"link_layer_discovery_protocol_element"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil || len(doc.Elements) < 5 {
		t.Fatalf("JSON elements: %v\n%s", err, r.Body)
	}
	if e := doc.Elements[0]; e.Name != "Chassis ID" || e.Type != 1 || e.OUI != nil || len(e.Properties.Property) != 2 {
		t.Errorf("first JSON element: %+v", e)
	}
	for _, e := range doc.Elements {
		if e.Type == 127 && (e.OUI == nil || e.Subtype == nil) {
			t.Errorf("organisational element without oui and subtype: %+v", e)
		}
	}

	// A loopback or an unknown NIC.
	if r := ag.Get(t, ag.HostPath()+"/nics/nosuch/linklayerdiscoveryprotocolelements"); r.Status != 404 {
		t.Errorf("an unknown NIC: %d", r.Status)
	}

	// A change of the neighbour is an event naming what changed. If the
	// kernel itself takes eth0's carrier away meanwhile (seen once on a
	// loaded CI machine), the neighbour is rightly lost and discovered
	// again instead: the test sees that flap on its own and tries again.
	for attempt := 1; ; attempt++ {
		name := fmt.Sprintf("switch-b%d", attempt)
		flaps := watchLink(t, host, "eth0")
		sw.cli(t, "configure", "system", "hostname", name)
		waitLLDP(t, ag, "eth0", 10*time.Second, "the new system name", func(els map[string][]string) bool {
			return hasProp(els, "System Name type=5", "system name="+name)
		})
		if changedEvent(t, ag, name, flaps.notUp) {
			break
		}
		if attempt == 3 {
			t.Fatalf("no LLDP_NEIGHBOR_CHANGED event naming the system name in 3 attempts, each broken by a link flap the kernel reported: %v", eventCodes(t, ag, ""))
		}
		t.Logf("eth0 went down while the neighbour changed (%v): trying again", flaps.stop())
	}

	// lldpd says goodbye (TTL 0) when it stops.
	sw.stop(syscall.SIGTERM)
	waitLLDP(t, ag, "eth0", 5*time.Second, "the neighbour gone after its shutdown", func(els map[string][]string) bool { return len(els) == 0 })
	waitEventWithin(t, ag, "LLDP_NEIGHBOR_LOST", "shut down", 5*time.Second)

	// Killed, it cannot: its information expires with its TTL.
	sw2 := startLLDPD(t, peer, "switch-c", "Test switch OS 1.0", "192.0.2.7", "p1")
	els = waitLLDP(t, ag, "eth1", 15*time.Second, "the second lldpd", func(els map[string][]string) bool {
		return hasProp(els, "System Name type=5", "system name=switch-c")
	})
	var ttl int
	fmt.Sscanf(strings.TrimPrefix(els["Time to Live type=3"][0], "time to live="), "%d", &ttl)
	if ttl < 1 || ttl > 30 {
		t.Fatalf("TTL %d", ttl)
	}
	sw2.freeze(t)
	killed := time.Now()
	waitLLDP(t, ag, "eth1", time.Duration(ttl+3)*time.Second, "the neighbour expired", func(els map[string][]string) bool { return len(els) == 0 })
	if d := time.Since(killed); d < time.Duration(ttl-2)*time.Second {
		t.Errorf("the neighbour went %v after the kill, before its TTL of %d s", d, ttl)
	}
	waitEventWithin(t, ag, "LLDP_NEIGHBOR_LOST", "expired", 3*time.Second)
}

// changedEvent waits for the LLDP_NEIGHBOR_CHANGED event of the neighbour
// now named name that names the system name as what changed. It gives up
// early, answering false, when flaps reports that the kernel took the link
// down meanwhile; it fails the test when neither comes within eventWait.
func changedEvent(t *testing.T, ag *agenttest.Agent, name string, flaps func() []string) bool {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		for _, e := range eventCodes(t, ag, "") {
			if strings.HasPrefix(e, "LLDP_NEIGHBOR_CHANGED:") && strings.Contains(e, `"`+name+`"`) && strings.Contains(e, "system name") {
				return true
			}
		}
		if len(flaps()) > 0 {
			return false
		}
		if time.Now().After(deadline) {
			t.Fatalf("no LLDP_NEIGHBOR_CHANGED event naming %q and its system name within %v, and the link did not go down: %v", name, eventWait, eventCodes(t, ag, ""))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sendFrames writes raw frames on a link of the peer namespace.
func sendFrames(t *testing.T, ns *kernel.Namespace, link string, frames ...[]byte) {
	t.Helper()
	l := nstest.Link(t, ns, link)
	var conn *packet.Conn
	err := ns.Do(func() error {
		var err error
		conn, err = packet.Listen(&net.Interface{Index: l.Attrs().Index, Name: link}, packet.Raw, kernel.EtherTypeLLDP, nil)
		return err
	})
	if err != nil {
		t.Fatalf("opening a raw socket on %s: %v", link, err)
	}
	defer conn.Close()
	for _, f := range frames {
		if _, err := conn.WriteTo(f, &packet.Addr{HardwareAddr: lldptest.Dest}); err != nil {
			t.Fatalf("sending a %d-byte frame on %s: %v", len(f), link, err)
		}
	}
}

// lldpBatch is how many frames sendCounted sends before it waits: far
// fewer than the receiving socket's buffer holds, so that the kernel
// drops none uncounted by hostnetd, however slowly hostnetd reads.
const lldpBatch = 8

// sendCounted sends frames a batch at a time, and before the next batch
// waits until hostnetd has counted every frame sent (malformed, oversized
// or accepted): however slow the machine, no burst overflows the socket.
func sendCounted(t *testing.T, ag *agenttest.Agent, ns *kernel.Namespace, link string, frames ...[]byte) {
	t.Helper()
	counted := func() float64 {
		m := lldpMetrics(t, ag)
		return m[`hostnetd_lldp_frames_total{result="malformed"}`] + m[`hostnetd_lldp_frames_total{result="oversized"}`] +
			m[`hostnetd_lldp_frames_total{result="accepted"}`]
	}
	start := counted()
	for i := 0; i < len(frames); i += lldpBatch {
		end := min(i+lldpBatch, len(frames))
		sendFrames(t, ns, link, frames[i:end]...)
		deadline := time.Now().Add(eventWait)
		for counted()-start < float64(end) {
			if time.Now().After(deadline) {
				t.Fatalf("hostnetd counted %v of the %d frames sent", counted()-start, end)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func lldpMetrics(t *testing.T, ag *agenttest.Agent) map[string]float64 {
	t.Helper()
	return parseMetrics(t, string(ag.Get(t, "/metrics").Body))
}

// TestLLDPHandCrafted: every TLV hostnetd names, from a hand-made LLDPDU;
// malformed, oversized and random frames are counted and dropped without
// touching what is known or growing the heap; more neighbours than kept are counted too; TTL 0
// removes a neighbour at once.
func TestLLDPHandCrafted(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	for _, l := range []struct {
		ns   *kernel.Namespace
		name string
	}{{host, "eth0"}, {peer, "p0"}} {
		if err := l.ns.Handle.LinkSetMTU(nstest.Link(t, l.ns, l.name), 9000); err != nil {
			t.Fatal(err)
		}
	}
	ag := agenttest.Start(t, host)
	src := nstest.Link(t, peer, "p0").Attrs().HardwareAddr
	chassis := net.HardwareAddr{0x00, 0x01, 0x30, 0xf9, 0xad, 0xa0}
	good := lldptest.Frame(src,
		lldptest.ChassisMAC(chassis), lldptest.PortName("1/1"), lldptest.TTL(120),
		lldptest.String(4, "Summit300-48-Port 1001"), lldptest.String(5, "Summit300-48"),
		lldptest.String(6, "Summit300-48 - Version 7.4e.1"),
		lldptest.TLV(7, []byte{0, 0x14, 0, 0x14}),
		lldptest.MgmtIPv4(net.IPv4(192, 0, 2, 1), 1001),
		lldptest.PortVLAN(488), lldptest.VLANName(488, "v2-0488-03-0505"), lldptest.VLANName(100, "storage"),
		lldptest.LinkAgg8023(true, true, 600), lldptest.MTU(9018),
		lldptest.Org(0x0012bb, 5, []byte{0xca, 0xfe}), lldptest.TLV(20, []byte{7}),
		lldptest.End())
	// Sent until seen, as a switch repeats it: hostnetd opens its socket
	// shortly after it starts.
	deadline := time.Now().Add(eventWait)
	for len(lldpElements(t, ag, "eth0")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the hand-made LLDPDU is not seen")
		}
		sendFrames(t, peer, "p0", good)
		time.Sleep(100 * time.Millisecond)
	}
	want := map[string][]string{
		"Chassis ID type=1":                                     {"chassis ID subtype=MAC; chassis ID=00:01:30:f9:ad:a0"},
		"Port ID type=2":                                        {"port ID subtype=Ifname; port ID=1/1"},
		"Time to Live type=3":                                   {"time to live=120"},
		"Port Description type=4":                               {"port description=Summit300-48-Port 1001"},
		"System Name type=5":                                    {"system name=Summit300-48"},
		"System Description type=6":                             {"system description=Summit300-48 - Version 7.4e.1"},
		"System Capabilities type=7":                            {"system capabilities=Bridge, Router; enabled capabilities=Bridge, Router"},
		"Management Address type=8":                             {"management address subtype=IPv4; management address=192.0.2.1; interface numbering subtype=Ifindex; interface numbering=1001"},
		"Port VLAN ID type=127 oui=32962 subtype=1":             {"Port VLAN ID=488"},
		"VLAN Name type=127 oui=32962 subtype=3":                {"VLAN ID=488; VLAN Name=v2-0488-03-0505", "VLAN ID=100; VLAN Name=storage"},
		"Link Aggregation type=127 oui=32962 subtype=7":         {"Aggregation capable=True; Currently aggregated=True; Aggregated Port ID=600"},
		"MTU type=127 oui=4623 subtype=4":                       {"mtu=9018"},
		"Organizationally Specific type=127 oui=4795 subtype=5": {"value=cafe"},
		"Unknown type=20":                                       {"value=07"},
	}
	got := waitLLDP(t, ag, "eth0", 5*time.Second, "the hand-made LLDPDU", func(els map[string][]string) bool { return len(els) > 0 })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("elements:\n got %v\nwant %v", got, want)
	}

	// Broken frames: each counted, none changes what is known.
	before := lldpMetrics(t, ag)
	c, p, ttl := lldptest.ChassisMAC(src), lldptest.PortName("x"), lldptest.TTL(60)
	malformed := [][]byte{
		lldptest.Frame(src, p, c, ttl, lldptest.End()),
		lldptest.Frame(src, c, p, lldptest.End()),
		lldptest.Frame(src, c, p, ttl),
		lldptest.Frame(src, c, p, ttl, lldptest.Org(0x0080c2, 3, []byte{0, 1}), lldptest.End()),
		lldptest.Frame(src, c, p, ttl, lldptest.TLV(8, []byte{255, 1, 1, 2, 3, 4, 2, 0, 0, 0, 1, 0}), lldptest.End()),
		append(lldptest.Frame(src, c, p, ttl), 0x0b, 0xff, 1, 2),
	}
	oversized := lldptest.Frame(src, c, p, ttl)
	for len(oversized) < 4000 {
		oversized = append(oversized, lldptest.String(6, strings.Repeat("z", 500))...)
	}
	oversized = append(oversized, lldptest.End()...)
	rng := rand.New(rand.NewPCG(1, 2))
	var random [][]byte
	for range 2000 {
		f := lldptest.Frame(src)
		for range rng.IntN(300) {
			f = append(f, byte(rng.UintN(256)))
		}
		random = append(random, f)
	}
	var mem0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem0)
	sendCounted(t, ag, peer, "p0", append(append(malformed, oversized), random...)...)
	deadline = time.Now().Add(eventWait)
	for {
		m := lldpMetrics(t, ag)
		bad := m[`hostnetd_lldp_frames_total{result="malformed"}`] - before[`hostnetd_lldp_frames_total{result="malformed"}`]
		big := m[`hostnetd_lldp_frames_total{result="oversized"}`] - before[`hostnetd_lldp_frames_total{result="oversized"}`]
		ok := m[`hostnetd_lldp_frames_total{result="accepted"}`] - before[`hostnetd_lldp_frames_total{result="accepted"}`]
		if bad >= float64(len(malformed)) && big == 1 && bad+ok+big == float64(len(malformed)+1+len(random)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d malformed, 1 oversized and %d random frames: malformed +%v, oversized +%v, accepted +%v",
				len(malformed), len(random), bad, big, ok)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := lldpElements(t, ag, "eth0"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the broken frames changed the elements:\n%v", got)
	}
	// Nothing of a dropped frame is kept (the test's logger keeps a line
	// of each, some 300 KB).
	var mem1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem1)
	grown := int64(mem1.HeapAlloc) - int64(mem0.HeapAlloc)
	t.Logf("heap %+d KiB over the dropped frames", grown>>10)
	if grown > 4<<20 {
		t.Errorf("the heap grew by %d KiB over %d dropped frames", grown>>10, len(malformed)+1+len(random))
	}

	// More neighbours than kept: the first ones stay, the others are counted.
	var many [][]byte
	for i := range 10 {
		many = append(many, lldptest.Frame(src, lldptest.ChassisMAC(net.HardwareAddr{2, 0, 0, 0, 1, byte(i)}), p, ttl, lldptest.End()))
	}
	sendFrames(t, peer, "p0", many...)
	deadline = time.Now().Add(eventWait)
	for lldpMetrics(t, ag)[`hostnetd_lldp_frames_total{result="too_many_neighbors"}`] != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("too_many_neighbors = %v; want 3 (8 kept, 1 known before, 10 sent)", lldpMetrics(t, ag)[`hostnetd_lldp_frames_total{result="too_many_neighbors"}`])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(lldpElements(t, ag, "eth0")["Chassis ID type=1"]); n != 8 {
		t.Errorf("%d neighbours kept; want 8", n)
	}
	if m := lldpMetrics(t, ag); m["hostnetd_lldp_neighbors"] != 8 {
		t.Errorf("hostnetd_lldp_neighbors = %v", m["hostnetd_lldp_neighbors"])
	}

	// TTL 0: the neighbour is gone at once.
	sendFrames(t, peer, "p0", lldptest.Frame(src, lldptest.ChassisMAC(chassis), lldptest.PortName("1/1"), lldptest.TTL(0), lldptest.End()))
	waitLLDP(t, ag, "eth0", 2*time.Second, "the neighbour that shut down gone", func(els map[string][]string) bool {
		return len(els["Chassis ID type=1"]) == 7 && len(els["System Name type=5"]) == 0
	})
	waitEvent(t, ag, "LLDP_NEIGHBOR_LOST", `"Summit300-48" (chassis 00:01:30:f9:ad:a0, port 1/1) on eth0 is gone: it shut down`)

	// An LLDPDU to another agent's address (nearest customer bridge) is
	// not this agent's neighbour.
	other := lldptest.Frame(src, lldptest.ChassisMAC(net.HardwareAddr{2, 0, 0, 0, 9, 9}), p, ttl, lldptest.End())
	copy(other, []byte{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00})
	sendFrames(t, peer, "p0", other)
	deadline = time.Now().Add(eventWait)
	for lldpMetrics(t, ag)[`hostnetd_lldp_frames_total{result="not_nearest_bridge"}`] != 1 {
		if time.Now().After(deadline) {
			t.Fatal("an LLDPDU to 01:80:c2:00:00:00 is not counted as not_nearest_bridge")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(lldpElements(t, ag, "eth0")["Chassis ID type=1"]); n != 7 {
		t.Errorf("%d neighbours after an LLDPDU to another agent; want 7", n)
	}

	// A link that goes down loses its neighbours; they come back with the
	// next LLDPDU.
	if err := peer.Handle.LinkSetDown(nstest.Link(t, peer, "p0")); err != nil {
		t.Fatal(err)
	}
	waitLLDP(t, ag, "eth0", 3*time.Second, "no neighbour on a link without carrier", func(els map[string][]string) bool { return len(els) == 0 })
	waitEvent(t, ag, "LLDP_NEIGHBOR_LOST", "on eth0 is gone: the link went down")
	nstest.SetUp(t, peer, "p0")
	deadline = time.Now().Add(eventWait)
	for len(lldpElements(t, ag, "eth0")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no neighbour after the link came back")
		}
		sendFrames(t, peer, "p0", good)
		time.Sleep(100 * time.Millisecond)
	}

	// A removed link takes its neighbours with it.
	if err := host.Handle.LinkDel(nstest.Link(t, host, "eth0")); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ag, "LLDP_NEIGHBOR_LOST", "the link was removed")
	if m := lldpMetrics(t, ag); m["hostnetd_lldp_neighbors"] != 0 {
		t.Errorf("hostnetd_lldp_neighbors = %v after the link went", m["hostnetd_lldp_neighbors"])
	}
}
