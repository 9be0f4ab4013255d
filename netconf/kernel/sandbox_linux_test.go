package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sandboxChildEnv runs TestSandboxSurvivesALaterIPNetnsAdd's body in a
// child process, in a private mount namespace (unshare -m), so that
// nothing it mounts reaches this machine's /run/netns.
const sandboxChildEnv = "HOSTNETD_SANDBOX_NETNS_CHILD"

// TestSandboxSurvivesALaterIPNetnsAdd: with /run/netns a plain directory
// when the sandbox is created, an `ip netns add` run after it must not
// keep the sandbox from being deleted (it failed with EBUSY: the sandbox's
// namespace files were mounted twice, one copy hidden). Runs in a private
// mount namespace where /run/netns is first made a plain directory.
func TestSandboxSurvivesALaterIPNetnsAdd(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	name := fmt.Sprintf("hn-sbx-%d", os.Getpid())
	if os.Getenv(sandboxChildEnv) != "" {
		sandboxChild(t, os.Getenv(sandboxChildEnv))
		return
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", self, "-test.run", "^TestSandboxSurvivesALaterIPNetnsAdd$", "-test.v")
	cmd.Env = append(os.Environ(), sandboxChildEnv+"="+name)
	out, err := cmd.CombinedOutput()
	// The namespace files live on /run's tmpfs, shared with this machine:
	// whatever the child left behind is removed here.
	for _, n := range []string{name, name + "-sw", name + "-other"} {
		if _, serr := os.Stat(filepath.Join(netnsDir, n)); serr == nil {
			t.Errorf("%s was left in %s", n, netnsDir)
			_ = os.Remove(filepath.Join(netnsDir, n))
		}
	}
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("the child: %v\n%s", err, out)
	}
}

func sandboxChild(t *testing.T, name string) {
	// A plain /run/netns, as on a machine where no `ip netns add` ran yet:
	// unmounted (lazily, with the namespaces mounted in it) in this private
	// mount namespace only.
	for {
		if err := exec.Command("mountpoint", "-q", netnsDir).Run(); err != nil {
			break
		}
		if out, err := exec.Command("umount", "-l", netnsDir).CombinedOutput(); err != nil {
			t.Fatalf("umount %s: %v %s", netnsDir, err, out)
		}
	}
	sb, err := CreateSandbox(name, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "add", name+"-other").CombinedOutput(); err != nil {
		_ = sb.Destroy()
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", name+"-other").Run() //nolint:errcheck // best effort
	if err := sb.Destroy(); err != nil {
		t.Fatalf("deleting the sandbox after an ip netns add: %v", err)
	}
	for _, n := range []string{name, name + "-sw"} {
		if NamespaceExists(n) {
			t.Errorf("%s still exists", n)
		}
	}
}
