//go:build bench

package bench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// getRepeats is how many GET /nics are timed per size (a p99 of fewer
// than a hundred is only their slowest), ipRepeats how many runs of
// ip -j -d addr show, reapplyRepeats how many no-op re-applies.
const (
	getRepeats     = 100
	ipRepeats      = 5
	reapplyRepeats = 7
)

// TestBench measures S(N) for every N of $HOSTNETD_BENCH_N (default
// 100,300,1000) in this one VM run and writes the table and results.json.
func TestBench(t *testing.T) {
	sizes := benchSizes(t)
	out := outDir(t)
	peers := peersWanted(t)
	// A peer that did not finish a size within peerLimit is not tried at
	// the larger ones.
	givenUp := map[string]bool{}
	res := &results{Kernel: kernelRelease(), CPUs: cpuCount(), Version: os.Getenv("HOSTNETD_BENCH_VERSION"), Started: time.Now().UTC()}
	for _, n := range sizes {
		t.Run("N="+strconv.Itoa(n), func(t *testing.T) {
			s := scenario{n: n}
			r, afterApply, afterRemove := runSize(t, s, out)
			for _, name := range peers {
				if givenUp[name] {
					continue
				}
				// Each peer in a subtest of its own: a peer that fails
				// (a command of its refused) fails its subtest, not the
				// size, whose figures are kept.
				started := time.Now()
				pr := peerResult{Peer: newPeer(name).name(), Unfinished: "failed (see the test's output and the peer's log)"}
				t.Run(name, func(t *testing.T) { pr = runPeer(t, name, s, out, afterApply, afterRemove) })
				t.Logf("N=%d, %s (%s): %+v", n, name, time.Since(started).Round(time.Second), pr)
				if pr.Unfinished != "" {
					givenUp[name] = true
				}
				r.Peers = append(r.Peers, pr)
			}
			res.Sizes = append(res.Sizes, r)
			t.Logf("N=%d: %+v", n, r)
		})
	}
	res.evaluate()
	table := res.table()
	os.Stdout.WriteString("\n" + table + "\n")
	writeFile(t, filepath.Join(out, "table.txt"), table)
	writeFile(t, filepath.Join(out, "results.json"), res.json(t))
	t.Logf("results in %s", out)
	for _, c := range res.Targets {
		if !c.Met {
			t.Logf("target not met: %s", c.Name)
		}
	}
}

// runSize measures one size: apply, re-apply, GET /nics, memory and
// removal against the ip -batch baseline, then restore at boot of the
// committed S(N) into an empty namespace. It returns the baseline's end
// states after the apply and after the removal, which the peers must
// reach too.
func runSize(t *testing.T, s scenario, out string) (sizeResult, endState, endState) {
	r := sizeResult{N: s.n}
	applyBatch, removeBatch := s.applyBatch(), s.removeBatch()
	r.ApplyIPCommands, r.RemoveIPCommands = batchLines(applyBatch), batchLines(removeBatch)

	base := newHost(t)
	ipv6OffByDefault(t, base)
	host := newHost(t)
	dir := t.TempDir()
	profile := ""
	if os.Getenv("HOSTNETD_BENCH_CPU_PROFILE") != "" {
		profile = filepath.Join(out, "hostnetd-"+strconv.Itoa(s.n)+".pprof")
	}
	d := startDaemon(t, host, dir, profile)
	for i := range s.n {
		d.must("POST", "/networks", s.networkXML(i))
	}

	// Apply: the baseline first, then hostnetd, each on a settled machine.
	wait := settle(t, host, base)
	r.ApplyIPSeconds = ipBatch(t, base, applyBatch).Seconds()
	wait += settle(t, host, base)
	seen := d.transactions()
	a := d.must("POST", d.host("/setupnetworks"), s.applyXML())
	r.ApplySeconds, r.ApplyWrites = a.elapsed.Seconds(), a.writes(t)
	r.ApplyPhases = d.transaction(seen)
	r.RSSBytes, r.HWMBytes = d.rss()
	sameEndState(t, "after apply", host, base)
	afterApply := captureEndState(t, base)

	// The same request again changes nothing (the median of a few).
	var reapplies []time.Duration
	wait += settle(t, host, base)
	for range reapplyRepeats {
		a = d.must("POST", d.host("/setupnetworks"), s.applyXML())
		reapplies = append(reapplies, a.elapsed)
		r.ReapplyWrites = max(r.ReapplyWrites, a.writes(t))
	}
	r.ReapplySeconds = percentile(reapplies, 0.5).Seconds()

	// Reads with everything in place.
	// Both sides' answers are read into one buffer, grown once: 13 MB of
	// garbage per read at 4000 would have this process collect while
	// the next read is timed, on the same two CPUs.
	var gets []time.Duration
	var buf bytes.Buffer
	wait += settle(t, host, base)
	for range getRepeats {
		elapsed, size := d.read(d.host("/nics"), &buf)
		gets = append(gets, elapsed)
		r.GetNicsSeconds = append(r.GetNicsSeconds, elapsed.Seconds())
		r.GetNicsBytes = size
	}
	r.GetNicsMedianSeconds, r.GetNicsP99Seconds = percentile(gets, 0.5).Seconds(), percentile(gets, 0.99).Seconds()
	var ipRuns []time.Duration
	wait += settle(t, host, base)
	for range ipRepeats {
		elapsed, size := ipAddrShow(t, host, &buf)
		ipRuns = append(ipRuns, elapsed)
		r.IPAddrShowBytes = size
	}
	r.IPAddrShowSeconds = percentile(ipRuns, 0.5).Seconds()

	// The committed S(N), as a reboot would find it.
	restoreDir := t.TempDir()
	copyDir(t, filepath.Join(dir, "state"), filepath.Join(restoreDir, "state"))

	// Removal: the baseline first, then hostnetd.
	wait += settle(t, host, base)
	r.RemoveIPSeconds = ipBatch(t, base, removeBatch).Seconds()
	wait += settle(t, host, base)
	// The removal's phases, not the apply's: until its line is in the
	// log, the apply's is the last one there (run N's at 100).
	seen = d.transactions()
	a = d.must("POST", d.host("/setupnetworks"), s.removeXML())
	r.RemoveSeconds, r.RemoveWrites = a.elapsed.Seconds(), a.writes(t)
	r.RemovePhases = d.transaction(seen)
	sameEndState(t, "after removal", host, base)
	afterRemove := captureEndState(t, base)
	d.stop()
	writeFile(t, filepath.Join(out, "hostnetd-"+strconv.Itoa(s.n)+".log"), d.log.String())

	// Restore at boot into an empty namespace (the NICs only), with the
	// state directory of the committed S(N) and a fresh run directory.
	boot := newHost(t)
	profile = ""
	if os.Getenv("HOSTNETD_BENCH_CPU_PROFILE") != "" {
		profile = filepath.Join(out, "hostnetd-restore-"+strconv.Itoa(s.n)+".pprof")
	}
	wait += settle(t, boot)
	rd := startDaemon(t, boot, restoreDir, profile)
	r.RestoreSeconds = rd.ready.Sub(rd.started).Seconds()
	r.RestoreLoggedSeconds = rd.restoreDuration().Seconds()
	r.RestorePhases = rd.transaction(0)
	r.RSSAfterRestoreBytes, _ = rd.rss()
	if got, want := len(readState(t, boot).Links), 2*s.n+4; got != want { // lo, 2 NICs, bond, N VLANs, N bridges
		t.Errorf("after restore the namespace has %d links; want %d", got, want)
	}
	rd.stop()
	// The log starts with when the process was started and when it said
	// READY=1, to place its own lines between the two.
	writeFile(t, filepath.Join(out, "hostnetd-restore-"+strconv.Itoa(s.n)+".log"),
		"# started "+rd.started.UTC().Format(time.RFC3339Nano)+", READY=1 "+rd.ready.UTC().Format(time.RFC3339Nano)+"\n"+rd.log.String())
	ipBatch(t, boot, removeBatch) // empty namespaces are freed quickly
	r.SettleSeconds = wait.Seconds()
	return r, afterApply, afterRemove
}

// newHost creates a namespace with the scenario's NICs: veths whose peers
// sit in a second namespace, up, with fixed MACs.
func newHost(t *testing.T) *kernel.Namespace {
	t.Helper()
	ns, peer := nstest.New(t), nstest.New(t)
	for _, nic := range nics {
		link := nstest.Veth(t, ns, nic.name, peer, nic.peer)
		mac, err := parseMAC(nic.mac)
		if err != nil {
			t.Fatal(err)
		}
		if err := ns.Handle.LinkSetHardwareAddr(link, mac); err != nil {
			t.Fatalf("setting the MAC of %s: %v", nic.name, err)
		}
	}
	return ns
}

// ipv6OffByDefault makes IPv6 off on the baseline's NICs and on every
// device created later, which is the end state hostnetd reaches by writing
// disable_ipv6 device by device (ip cannot write sysctls).
func ipv6OffByDefault(t *testing.T, ns *kernel.Namespace) {
	t.Helper()
	err := ns.Do(func() error {
		for _, dev := range []string{"default", nics[0].name, nics[1].name} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+dev+"/disable_ipv6", []byte("1"), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ipBatch runs ip -n NS -batch FILE and returns the wall time of the
// whole process.
func ipBatch(t *testing.T, ns *kernel.Namespace, batch string) time.Duration {
	t.Helper()
	file := filepath.Join(t.TempDir(), "batch")
	writeFile(t, file, batch)
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", file)
	start := time.Now()
	outp, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("ip -batch: %v\n%s", err, outp)
	}
	return elapsed
}

// ipAddrShow times one run of ip -j -d addr show in the namespace, its
// output read into buf.
func ipAddrShow(t *testing.T, ns *kernel.Namespace, buf *bytes.Buffer) (time.Duration, int) {
	t.Helper()
	buf.Reset()
	cmd := exec.Command("ip", "-n", ns.Name, "-j", "-d", "addr", "show")
	cmd.Stdout = buf
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("ip addr show: %v", err)
	}
	return elapsed, buf.Len()
}

// sameEndState fails unless hostnetd's namespace and the baseline's have
// the same canonical dump (links, kinds, MTUs, MACs, masters, admin states,
// VLANs, bonds, addresses, routes) and the same IPv6 settings on the
// scenario's devices: the baseline is measured doing exactly the work
// hostnetd did.
func sameEndState(t *testing.T, when string, host, base *kernel.Namespace) {
	t.Helper()
	hs, bs := readState(t, host), readState(t, base)
	if h, b := hs.Dump(), bs.Dump(); h != b {
		t.Fatalf("%s, hostnetd's namespace and the baseline's differ:\n%s", when, firstDiff(h, b))
	}
	var names []string
	for _, l := range hs.Links {
		if l.Name != "lo" && !(when == "after removal" && slices.ContainsFunc(nics, func(n struct{ name, peer, mac string }) bool { return n.name == l.Name })) {
			names = append(names, l.Name)
		}
	}
	hv, err := kernel.ReadIPv6Sysctls(host, names)
	if err != nil {
		t.Fatal(err)
	}
	bv, err := kernel.ReadIPv6Sysctls(base, names)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if hv[name]["disable_ipv6"] != bv[name]["disable_ipv6"] {
			t.Fatalf("%s, disable_ipv6 of %s: hostnetd %q, baseline %q", when, name, hv[name]["disable_ipv6"], bv[name]["disable_ipv6"])
		}
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  hostnetd: " + x + "\n  baseline: " + y
		}
	}
	return ""
}
