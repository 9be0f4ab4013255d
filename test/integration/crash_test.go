package integration

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/logbuf"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// daemon is a hostnetd process managing a test namespace.
type daemon struct {
	cmd    *exec.Cmd
	socket string
	client *http.Client
	log    *logbuf.Buffer
}

func startDaemon(t *testing.T, ns *kernel.Namespace, dir string, extra ...string) *daemon {
	t.Helper()
	d := launchDaemon(t, ns, dir, nil, extra...)
	d.waitUp(t)
	return d
}

// launchDaemon starts hostnetd with env added to its environment, and
// returns at once.
func launchDaemon(t *testing.T, ns *kernel.Namespace, dir string, env []string, extra ...string) *daemon {
	t.Helper()
	d := &daemon{socket: filepath.Join(dir, "hostnetd.sock"), log: &logbuf.Buffer{}}
	args := append([]string{"--netns", ns.Name, "--state-dir", filepath.Join(dir, "state"), "--run-dir", filepath.Join(dir, "run"),
		"--listen", "unix:" + d.socket, "--resolv-conf", "none"}, extra...)
	d.cmd = exec.Command(hostnetdBinary(t), args...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = io.Discard, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.kill() })
	d.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.socket)
	}}}
	return d
}

// waitUp waits until the daemon serves and has finished restoring.
func (d *daemon) waitUp(t *testing.T) {
	t.Helper()
	// Ready once it serves and has finished restoring (status up).
	for deadline := time.Now().Add(eventWait); ; {
		if resp, err := d.client.Get("http://hostnetd/ovirt-engine/api/hosts"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "<status>up</status>") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hostnetd did not start:\n%s", d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemon) kill() {
	if d.cmd.ProcessState == nil {
		_ = d.cmd.Process.Kill()
		_ = d.cmd.Wait()
	}
}

func (d *daemon) post(path, body string) (int, error) {
	resp, err := d.client.Post("http://hostnetd/ovirt-engine/api"+path, "application/xml", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestKillDuringApplyRollsBackOnRestart kills hostnetd with SIGKILL at
// several points of a multi-step apply; each time the restarted daemon must
// roll the namespace back to exactly the state before the transaction,
// before it serves, and then accept the next transaction.
func TestKillDuringApplyRollsBackOnRestart(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 4 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	addAddr(t, host.Handle, nstest.Link(t, host, "eth3"), "203.0.113.7/24", 0)
	dir := t.TempDir()
	const delay = 60 * time.Millisecond
	d := startDaemon(t, host, dir, "--test-step-delay", delay.String())
	for _, n := range []string{"n0", "n1", "n2"} {
		if code, err := d.post("/networks", `<network><name>`+n+`</name><mtu>2000</mtu><usages><usage>vm</usage></usages></network>`); err != nil || code != http.StatusCreated {
			t.Fatalf("POST network %s: %d %v", n, code, err)
		}
	}
	request := modified(staticAttachment("n0", "eth0", "192.0.2.1", "24"), staticAttachment("n1", "eth1", "192.0.2.2", "24"),
		staticAttachment("n2", "eth3", "192.0.2.3", "24"))
	before := dump(t, host)
	hostID := hostIDOf(t, dir)
	const killPoints = 8
	recovered := 0
	journal := filepath.Join(dir, "state", "journal.json")
	for k := range killPoints {
		cur := d
		go func() { _, _ = cur.post("/hosts/"+hostID+"/setupnetworks", request) }()
		// Time the kill from the journal, written just before the first
		// step, not from the request: under emulation (the VM suite) the
		// request alone can take longer than the whole spread of kills.
		waitJournal(t, journal, k, cur)
		time.Sleep(delay/2 + time.Duration(k)*delay*2)
		d.kill()
		d = startDaemon(t, host, dir, "--test-step-delay", delay.String())
		if got := dump(t, host); got != before {
			t.Fatalf("kill point %d: after the restart the namespace differs:\n--- before\n%s\n--- after\n%s\n--- log\n%s", k, before, got, d.log)
		}
		if strings.Contains(d.log.String(), "interrupted transaction was rolled back") {
			recovered++
		}
	}
	checkRecovered(t, recovered, killPoints)
	if code, err := d.post("/hosts/"+hostID+"/setupnetworks", request); err != nil || code != http.StatusOK {
		t.Fatalf("the transaction after the crashes: %d %v\n%s", code, err, d.log)
	}
	if _, master, _ := linkState(t, host, "eth3"); master != "n2" {
		t.Errorf("after the last transaction eth3 master = %q; want n2", master)
	}
}

// waitJournal waits for the journal of the transaction the daemon started
// (kill point k).
func waitJournal(t *testing.T, journal string, k int, d *daemon) {
	t.Helper()
	for deadline := time.Now().Add(eventWait); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(journal); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kill point %d: no transaction journal within %s\n%s", k, eventWait, d.log)
		}
	}
}

// checkRecovered fails unless most kills interrupted an apply. Every kill
// is timed inside the plan; a restart with no journal to roll back means
// the apply had ended, which only a badly overloaded machine could make of
// most of them.
func checkRecovered(t *testing.T, recovered, killPoints int) {
	t.Helper()
	if recovered < killPoints/2 {
		t.Errorf("only %d of %d kills interrupted an apply", recovered, killPoints)
	}
	t.Logf("%d of %d kills interrupted an apply and were rolled back on restart", recovered, killPoints)
}

func hostIDOf(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "state", "host-id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
