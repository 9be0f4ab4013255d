package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

func TestNewAndVeth(t *testing.T) {
	host := New(t)
	peer := New(t)
	Veth(t, host, "eth0", peer, "p0")
	attrs := Link(t, host, "eth0").Attrs()
	if attrs.MTU != 1500 {
		t.Errorf("eth0 mtu = %d; want 1500", attrs.MTU)
	}
	if got := Link(t, peer, "p0").Type(); got != "veth" {
		t.Errorf("p0 type = %q; want veth", got)
	}
}

// TestSweepDeletesNamespacesOfDeadProcesses: a namespace named for a
// process that no longer runs is deleted; one of a live process is kept.
func TestSweepDeletesNamespacesOfDeadProcesses(t *testing.T) {
	RequireRoot(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	orphan := fmt.Sprintf("hnd-%d-%s", dead.Process.Pid, randomHex(4))
	live := fmt.Sprintf("hnd-%d-%s", os.Getpid(), randomHex(4))
	for _, name := range []string{orphan, live} {
		ns, err := kernel.CreateNamespace(name)
		if err != nil {
			t.Fatal(err)
		}
		ns.Close()
		t.Cleanup(func() { _ = kernel.DeleteNamespace(name) })
	}
	sweepDeadOwners(t)
	if kernel.NamespaceExists(orphan) {
		t.Errorf("%s, of a dead process, was not swept", orphan)
	}
	if !kernel.NamespaceExists(live) {
		t.Errorf("%s, of this live process, was swept", live)
	}
}
