//go:build bench

package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// peerLimit is how long a peer may take for one phase of one size before
// it is given up on: the 10 minutes, or
// $HOSTNETD_BENCH_PEER_LIMIT (a duration) while developing.
var peerLimit = func() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("HOSTNETD_BENCH_PEER_LIMIT")); err == nil && d > 0 {
		return d
	}
	return 10 * time.Minute
}()

// peer is another network configuration daemon measured on S(N): started
// on a namespace holding the NICs only, then given S(N)'s configuration
// and told to reload it (create), told to reload it again unchanged
// (no-op), and given the configuration without S(N) (removal). Each peer
// runs alone in its namespace, with its own configuration, runtime and
// state directories.
type peer interface {
	name() string
	// start runs the daemon on ns, logging to log, and returns once it
	// serves its bus.
	start(t *testing.T, ns *kernel.Namespace, log string)
	// configure writes the configuration of S(N) (or, with none set,
	// the NICs alone), untimed.
	configure(t *testing.T, s scenario, none bool)
	// reload has the daemon read its configuration again; it returns when
	// the daemon's own command returns.
	reload(t *testing.T)
	// create is reload, plus what the daemon needs to apply a changed
	// configuration to a device it already configured (NetworkManager
	// keeps an active device on the profile it activated).
	create(t *testing.T)
	// remove makes the kernel changes the configuration without S(N)
	// asks for that a reload does not (networkd leaves netdevs behind);
	// it runs before that reload.
	remove(t *testing.T, s scenario)
	stop(t *testing.T)
}

// peerResult are a peer's figures for one size, as hostnetd's: create and
// removal from the reload to the kernel holding the end state, the no-op
// from the reload to its command's return, with the kernel changes it made
// counted from the notifications.
type peerResult struct {
	Peer           string
	ApplySeconds   float64
	ReapplySecs    float64
	ReapplyChanges int // changes of the kernel's view (notifications) during the no-op
	RemoveSeconds  float64
	// ApplyDiff and RemoveDiff are the first difference of the peer's end
	// state from the baseline's canonical dump (empty: the same).
	ApplyDiff, RemoveDiff string
	// Unfinished names the phase that did not finish within peerLimit.
	Unfinished string `json:",omitempty"`
}

// peersWanted are the peers $HOSTNETD_BENCH_PEERS names (default both;
// "none" for none). They run only in the VM of test/vm: never on the
// machine that runs the tests, whose own network they would configure.
func peersWanted(t *testing.T) []string {
	t.Helper()
	spec := os.Getenv("HOSTNETD_BENCH_PEERS")
	if spec == "none" {
		return nil
	}
	if cmdline, _ := os.ReadFile("/proc/cmdline"); !strings.Contains(string(cmdline), "hostnetd.mode=") {
		t.Log("not in the VM of test/vm: the peers are not run")
		return nil
	}
	if spec == "" {
		spec = "networkd,networkmanager"
	}
	var out []string
	for _, name := range strings.Split(spec, ",") {
		if newPeer(strings.TrimSpace(name)) == nil {
			t.Fatalf("HOSTNETD_BENCH_PEERS=%q: peers are networkd and networkmanager", spec)
		}
		out = append(out, strings.TrimSpace(name))
	}
	return out
}

// newPeer is a fresh peer by its $HOSTNETD_BENCH_PEERS name, nil for none.
func newPeer(name string) peer {
	switch name {
	case "networkd":
		return &networkd{}
	case "networkmanager":
		return &networkManager{}
	}
	return nil
}

// endState is what a peer must reach: the baseline's canonical dump and
// its links, for the event-driven wait.
type endState struct {
	dump  string
	state *netconf.State
	ipv6  map[string]map[string]string
}

func captureEndState(t *testing.T, ns *kernel.Namespace) endState {
	t.Helper()
	st := readState(t, ns)
	v6, err := kernel.ReadIPv6Sysctls(ns, linkNames(st))
	if err != nil {
		t.Fatal(err)
	}
	return endState{dump: st.Dump(), state: st, ipv6: v6}
}

func linkNames(st *netconf.State) []string {
	var names []string
	for _, l := range st.Links {
		if l.Name != "lo" {
			names = append(names, l.Name)
		}
	}
	return names
}

// runPeer measures one peer on S(N) in a fresh namespace and leaves its
// log in out.
func runPeer(t *testing.T, name string, s scenario, out string, afterApply, afterRemove endState) peerResult {
	t.Helper()
	p := newPeer(name)
	r := peerResult{Peer: p.name()}
	ns := newHost(t)
	ipv6OffByDefault(t, ns) // as for the baseline: IPv6 off on every new device
	log := filepath.Join(t.TempDir(), name+".log")
	p.configure(t, s, true)
	p.start(t, ns, log)
	defer func() {
		p.stop(t)
		if data, err := os.ReadFile(log); err == nil {
			writeFile(t, filepath.Join(out, fmt.Sprintf("%s-%d.log", name, s.n)), string(data))
		}
	}()
	// phase runs act and waits for the kernel to hold want: its time
	// from act's start.
	phase := func(act func(), want *netconf.State) (float64, bool) {
		settle(t, ns)
		w := watch(t, ns)
		defer w.close()
		start := time.Now()
		act()
		at, ok := w.until(want, start.Add(peerLimit))
		return at.Sub(start).Seconds(), ok
	}
	if _, up := phase(func() {}, afterRemove.state); !up {
		t.Fatalf("%s did not bring the NICs up", p.name())
	}

	t.Logf("%s: NICs up; creating S(%d)", p.name(), s.n)
	p.configure(t, s, false)
	var ok bool
	if r.ApplySeconds, ok = phase(func() { p.create(t) }, afterApply.state); !ok {
		r.Unfinished = "create"
		return r
	}
	r.ApplyDiff = compareEndState(t, ns, afterApply)

	settle(t, ns)
	w := watch(t, ns)
	start := time.Now()
	p.reload(t)
	r.ReapplySecs = time.Since(start).Seconds()
	r.ReapplyChanges = w.changes()
	w.close()

	p.configure(t, s, true)
	if r.RemoveSeconds, ok = phase(func() { p.remove(t, s); p.reload(t) }, afterRemove.state); !ok {
		r.Unfinished = "removal"
		return r
	}
	r.RemoveDiff = compareEndState(t, ns, afterRemove)
	return r
}

// compareEndState is the first difference between the namespace's
// canonical dump and IPv6 settings and the baseline's, or "".
func compareEndState(t *testing.T, ns *kernel.Namespace, want endState) string {
	t.Helper()
	got := captureEndState(t, ns)
	if got.dump != want.dump {
		return firstDiff(got.dump, want.dump)
	}
	for name, v := range want.ipv6 {
		if got.ipv6[name]["disable_ipv6"] != v["disable_ipv6"] {
			return fmt.Sprintf("disable_ipv6 of %s: %q, baseline %q", name, got.ipv6[name]["disable_ipv6"], v["disable_ipv6"])
		}
	}
	return ""
}

// watcher follows a namespace's kernel notifications (hostnetd's own
// monitor, which keeps a view current from them), so that a peer's end
// state is waited for on events, not by polling.
type watcher struct {
	m      *kernel.Monitor
	kick   chan struct{}
	cancel context.CancelFunc
	n      atomic.Int64 // view changes seen
}

func watch(t *testing.T, ns *kernel.Namespace) *watcher {
	t.Helper()
	w := &watcher{kick: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := kernel.StartMonitor(ctx, ns, func() {
		w.n.Add(1)
		select {
		case w.kick <- struct{}{}:
		default:
		}
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	w.m, w.cancel = m, cancel
	return w
}

func (w *watcher) close() { w.cancel(); <-w.m.Done() }

// changes is the number of changes of the view so far, every notification
// queued included.
func (w *watcher) changes() int {
	_, _ = w.m.Sync()
	return int(w.n.Load())
}

// until waits until every link of want exists with its admin state,
// master and addresses, and no other link does, or until the deadline; it
// returns when it saw that. MACs and bond options are not waited for (a
// peer may set them otherwise; the canonical dump compared afterwards
// says so).
func (w *watcher) until(want *netconf.State, deadline time.Time) (time.Time, bool) {
	limit := time.After(time.Until(deadline))
	// A check converts the whole view: under a burst of notifications it
	// waits for a quiet spell at least twice as long as the last check
	// took, so that checking never takes more than a third of a CPU.
	var lastCheck time.Duration
	for {
		if _, err := w.m.Sync(); err == nil {
			if st, err := w.m.State(); err == nil {
				began := time.Now()
				done := reached(st, want)
				lastCheck = time.Since(began)
				if done {
					return began, true
				}
			}
		}
		select {
		case <-w.kick:
		case <-limit:
			return time.Now(), false
		}
		quiet := max(20*time.Millisecond, 2*lastCheck)
		for settled := false; !settled; {
			select {
			case <-w.kick:
			case <-time.After(quiet):
				settled = true
			case <-limit:
				return time.Now(), false
			}
		}
	}
}

// reached tells whether st has want's links, admin states, masters and
// addresses, and no other link.
func reached(st, want *netconf.State) bool {
	if len(st.Links) != len(want.Links) {
		return false
	}
	for i := range want.Links {
		w := &want.Links[i]
		l, ok := st.Link(w.Name)
		if !ok || l.AdminUp != w.AdminUp || l.Master != w.Master || len(globalAddrs(l)) != len(globalAddrs(w)) {
			return false
		}
		for j, a := range globalAddrs(w) {
			if globalAddrs(l)[j] != a {
				return false
			}
		}
	}
	return true
}

func globalAddrs(l *netconf.Link) []string {
	var out []string
	for _, a := range l.Addrs {
		if !a.LinkLocal {
			out = append(out, a.Prefix.String())
		}
	}
	return out
}

// bus is a private D-Bus daemon for the peers (networkctl and nmcli speak
// to their daemons over it), started once per run in the VM.
type bus struct {
	cmd     *exec.Cmd
	address string
}

var theBus *bus

func peerBus(t *testing.T) *bus {
	t.Helper()
	if theBus != nil {
		return theBus
	}
	dir, err := os.MkdirTemp("", "bench-dbus")
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "socket")
	// A session-type bus that lets any user (networkd drops to
	// systemd-network) own any name and call anything: it serves only the
	// peers under test.
	conf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=` + socket + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`
	writeFile(t, filepath.Join(dir, "bus.conf"), conf)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &bus{address: "unix:path=" + socket}
	b.cmd = exec.Command("dbus-daemon", "--config-file="+filepath.Join(dir, "bus.conf"), "--nofork", "--print-address")
	ready, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	// It prints its address once it listens.
	buf := make([]byte, 256)
	if _, err := ready.Read(buf); err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	theBus = b
	return b
}

// env is the environment of a peer's processes: the private bus as the
// system bus, and sd-bus's method calls (networkctl's) allowed as long as
// a peer's phase (its default is 25 s, which a reload of thousands of
// files on an emulated machine can take).
func (b *bus) env() []string {
	return append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+b.address, fmt.Sprintf("SYSTEMD_BUS_TIMEOUT=%d", int(peerLimit.Seconds())))
}

// waitName waits until name is owned on the bus (gdbus wait follows
// NameOwnerChanged: no polling).
func (b *bus) waitName(t *testing.T, name string) {
	t.Helper()
	cmd := exec.Command("gdbus", "wait", "--system", "--timeout", "600", name)
	cmd.Env = b.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("waiting for %s on the bus: %v\n%s", name, err, out)
	}
}

// run runs a peer's command with the bus, in ns when one is given
// (nsenter: only the network namespace, no remount), and fails the test
// when it fails.
func (b *bus) run(t *testing.T, ns *kernel.Namespace, args ...string) {
	t.Helper()
	start := time.Now()
	err := b.try(ns, args...)
	switch {
	case err == nil:
	case time.Since(start) >= peerLimit:
		// The peer's command gave up after the time a phase is given
		// (nmcli --wait, SYSTEMD_BUS_TIMEOUT). Create and removal wait
		// for their end state until the same limit, so they report the
		// size unfinished rather than the peer failed (run Q's
		// NetworkManager at 1000: "Timeout was reached" after 600 s);
		// a no-op reload that gives up is timed at the limit.
		t.Logf("after %s: %v", time.Since(start).Round(time.Second), err)
	default:
		t.Fatal(err)
	}
}

// try is run that returns the command's failure.
func (b *bus) try(ns *kernel.Namespace, args ...string) error {
	if ns != nil {
		args = append([]string{"nsenter", "--net=/run/netns/" + ns.Name, "--"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = b.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%.2000s", strings.Join(args, " "), err, out)
	}
	return nil
}

// startInNamespace starts a peer daemon in a namespace by ip netns exec,
// which gives it a mount namespace of its own (and the namespace's
// sysfs); setup runs there before the daemon.
func startInNamespace(t *testing.T, b *bus, ns *kernel.Namespace, logPath, setup string, argv ...string) *exec.Cmd {
	t.Helper()
	script := setup + "\nexec " + shellQuote(argv)
	cmd := exec.Command("ip", "netns", "exec", ns.Name, "sh", "-c", script)
	cmd.Env = b.env()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", argv[0], err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	return cmd
}

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
	}
}

func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
