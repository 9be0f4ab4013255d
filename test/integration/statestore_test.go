package integration

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

func stateHost(t *testing.T) *kernel.Namespace {
	t.Helper()
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	return host
}

// attachmentsServed counts the attachments a daemon serves.
func (d *daemon) attachmentsServed(t *testing.T, hostID string) int {
	t.Helper()
	resp, err := d.client.Get("http://hostnetd/ovirt-engine/api/hosts/" + hostID + "/networkattachments")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(body), "<network_attachment ")
}

// TestCrashAtTheEndOfATransactionLeavesItManagedOrUndone kills hostnetd
// right after each state file operation that ends a committed transaction
// (the catalogue, running.json, persistent.json, the journal's removal)
// and checks that the restarted daemon either serves the change with the
// kernel holding it, or neither: never a bridge in the kernel that no
// attachment accounts for.
func TestCrashAtTheEndOfATransactionLeavesItManagedOrUndone(t *testing.T) {
	request := strings.Replace(modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")),
		"</action>", "<commit_on_success>true</commit_on_success></action>", 1)
	for _, point := range []string{"replace:running.json", "replace:persistent.json", "remove:journal.json"} {
		t.Run(point, func(t *testing.T) {
			host := stateHost(t)
			dir := t.TempDir()
			d := startDaemon(t, host, dir)
			if code, err := d.post("/networks", `<network><name>n0</name><usages><usage>vm</usage></usages></network>`); err != nil || code != http.StatusCreated {
				t.Fatalf("POST network: %d %v", code, err)
			}
			d.kill()
			before := dump(t, host)
			hostID := hostIDOf(t, dir)
			d = startDaemon(t, host, dir, "--test-crash-after-state-op", point)
			if _, err := d.post("/hosts/"+hostID+"/setupnetworks", request); err == nil {
				t.Fatalf("the daemon answered; it should have been killed after %s\n%s", point, d.log)
			}
			_ = d.cmd.Wait()
			d = startDaemon(t, host, dir)
			served := d.attachmentsServed(t, hostID)
			switch {
			case served == 1 && linkExists(host, "n0"):
				if _, _, addrs := linkState(t, host, "n0"); strings.Join(addrs, " ") != "192.0.2.1/24" {
					t.Errorf("the kept change has addresses %v on n0; want 192.0.2.1/24", addrs)
				}
			case served == 0 && !linkExists(host, "n0"):
				if got := dump(t, host); got != before {
					t.Errorf("rolled back, but the namespace differs:\n--- before\n%s\n--- after\n%s", before, got)
				}
				t.Errorf("killed after %s, a stored change was rolled back; it is committed there and must be kept\n%s", point, d.log)
			default:
				t.Fatalf("killed after %s: %d attachments served, bridge n0 in the kernel: %v; want both or neither\n%s",
					point, served, linkExists(host, "n0"), d.log)
			}
			if _, err := os.Stat(filepath.Join(dir, "state", "journal.json")); err == nil {
				t.Error("the journal is still there after the restart")
			}
		})
	}
}

// TestStateWriteFailureRollsBack makes each state file write of a
// transaction fail as a full disk does (ENOSPC): the answer is
// STATE_WRITE_FAILED, the kernel is exactly as before, nothing is stored
// or served; once the disk has room the same request goes through.
func TestStateWriteFailureRollsBack(t *testing.T) {
	host := stateHost(t)
	var failing atomic.Value
	failing.Store("")
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.StateHook = func(op, name string) error {
			if op == "write" && name == failing.Load().(string) {
				return syscall.ENOSPC
			}
			return nil
		}
	})
	addNetwork(t, ag, `<network><name>n0</name><usages><usage>vm</usage></usages></network>`)
	request := strings.Replace(modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")),
		"</action>", "<commit_on_success>true</commit_on_success></action>", 1)
	before := dump(t, host)
	stored := func() string {
		var b strings.Builder
		for _, f := range []string{"networks.json", "running.json", "persistent.json"} {
			data, _ := os.ReadFile(filepath.Join(ag.StateDir, f))
			b.WriteString(f + ":\n" + string(data))
		}
		return b.String()
	}
	storedBefore := stored()
	for _, file := range []string{"journal.json", "running.json", "persistent.json"} {
		failing.Store(file)
		r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request), "Content-Type: application/xml")
		expectFault(t, r, http.StatusInternalServerError, engine.CodeStateWriteFailed)
		if !strings.Contains(string(r.Body), "no space left on device") {
			t.Errorf("%s: the fault does not say why: %s", file, r.Body)
		}
		if got := dump(t, host); got != before {
			t.Errorf("%s failing: the namespace changed:\n--- before\n%s\n--- after\n%s", file, before, got)
		}
		if got := stored(); got != storedBefore {
			t.Errorf("%s failing: the stored state changed:\n--- before\n%s\n--- after\n%s", file, storedBefore, got)
		}
		if n := strings.Count(string(ag.Get(t, ag.HostPath()+"/networkattachments").Body), "<network_attachment "); n != 0 {
			t.Errorf("%s failing: %d attachments served; want 0", file, n)
		}
		if _, err := os.Stat(filepath.Join(ag.StateDir, "journal.json")); err == nil {
			t.Errorf("%s failing: the journal was left behind", file)
		}
		if leftovers, _ := filepath.Glob(filepath.Join(ag.StateDir, ".*.tmp*")); len(leftovers) > 0 {
			t.Errorf("%s failing: temporary files left: %v", file, leftovers)
		}
	}
	failing.Store("")
	setup(t, ag, request)
	if _, _, addrs := linkState(t, host, "n0"); strings.Join(addrs, " ") != "192.0.2.1/24" {
		t.Errorf("n0 addresses %v after the disk has room; want 192.0.2.1/24", addrs)
	}
}

// TestSecondDaemonRefusesTheStateDir starts two daemons on one state
// directory: the second refuses to start, naming the first.
func TestSecondDaemonRefusesTheStateDir(t *testing.T) {
	host := stateHost(t)
	dir := t.TempDir()
	first := startDaemon(t, host, dir)
	other := t.TempDir()
	cmd := exec.Command(hostnetdBinary(t), "--netns", host.Name, "--state-dir", filepath.Join(dir, "state"),
		"--run-dir", filepath.Join(other, "run"), "--listen", "unix:"+filepath.Join(other, "hostnetd.sock"), "--resolv-conf", "none")
	out, err := runWithin(cmd, 20*time.Second)
	if err == nil {
		t.Fatalf("the second daemon started:\n%s", out)
	}
	if want := "in use by another hostnetd (pid " + strconv.Itoa(first.cmd.Process.Pid) + ")"; !strings.Contains(out, want) {
		t.Errorf("the second daemon's output does not say %q:\n%s", want, out)
	}
	first.kill()
	// The lock dies with its holder, whatever killed it.
	d := startDaemon(t, host, dir)
	d.kill()
	// In one process too: agent.New refuses a directory already held.
	lock, err := engine.LockStateDir(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if _, err := agent.New(zap.NewNop(), agent.Options{Namespace: host, StateDir: filepath.Join(dir, "state"), RunDir: filepath.Join(other, "run2")}); err == nil || !strings.Contains(err.Error(), "in use by another hostnetd") {
		t.Errorf("agent.New on a locked directory: %v; want a refusal", err)
	}
}

// TestFailurePastTheCommitPointKeepsTheChange: when running.json was
// replaced and the rename of persistent.json fails after it, the change
// stands as the running configuration (a restart would keep it too): no
// rollback, the fault says it is not persistent, net_config_dirty is true.
func TestFailurePastTheCommitPointKeepsTheChange(t *testing.T) {
	host := stateHost(t)
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.StateHook = func(op, name string) error {
			if op == "rename" && name == "persistent.json" {
				return syscall.EIO
			}
			return nil
		}
	})
	addNetwork(t, ag, `<network><name>n0</name><usages><usage>vm</usage></usages></network>`)
	request := strings.Replace(modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")),
		"</action>", "<commit_on_success>true</commit_on_success></action>", 1)
	r := ag.Do(t, "POST", ag.HostPath()+"/setupnetworks", []byte(request), "Content-Type: application/xml")
	expectFault(t, r, http.StatusInternalServerError, engine.CodeStateWriteFailed)
	if !strings.Contains(string(r.Body), "stored as the running configuration") {
		t.Errorf("the fault does not say the change runs: %s", r.Body)
	}
	if _, _, addrs := linkState(t, host, "n0"); strings.Join(addrs, " ") != "192.0.2.1/24" {
		t.Errorf("n0 has %v; want the change kept", addrs)
	}
	if n := strings.Count(string(ag.Get(t, ag.HostPath()+"/networkattachments").Body), "<network_attachment "); n != 1 {
		t.Errorf("%d attachments served; want 1", n)
	}
	if got := text(parseXML(t, ag.Get(t, ag.HostPath())), "net_config_dirty"); got != "true" {
		t.Errorf("net_config_dirty = %q; want true", got)
	}
	if _, err := os.Stat(filepath.Join(ag.StateDir, "journal.json")); err == nil {
		t.Error("the journal was left behind")
	}
}
