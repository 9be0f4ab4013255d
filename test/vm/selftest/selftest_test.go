//go:build vmtest

package selftest

import (
	"os"
	"strings"
	"testing"
)

// TestHarness passes when it runs inside the harness VM, and fails on purpose
// with SELFTEST-INTENDED-FAILURE when HOSTNETD_VM_SELFTEST=fail.
func TestHarness(t *testing.T) {
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		t.Fatalf("reading /proc/cmdline: %v", err)
	}
	if !strings.Contains(string(cmdline), "hostnetd.mode=run") || os.Getenv("HOSTNETD_VM_GUEST") != "1" {
		t.Fatalf("not running inside the harness VM (cmdline %q); use -exec test/vm/vmexec", cmdline)
	}
	if os.Getenv("TMPDIR") != "/run/tmp" {
		t.Errorf("TMPDIR = %q; want /run/tmp", os.Getenv("TMPDIR"))
	}
	// t.TempDir must be writable in the guest.
	if err := os.WriteFile(t.TempDir()+"/probe", []byte("ok"), 0o600); err != nil {
		t.Errorf("writing under t.TempDir: %v", err)
	}
	if os.Getenv("HOSTNETD_VM_SELFTEST") == "fail" {
		t.Fatal("SELFTEST-INTENDED-FAILURE: HOSTNETD_VM_SELFTEST=fail makes this test fail on purpose")
	}
	t.Logf("running in the VM, kernel cmdline %q", strings.TrimSpace(string(cmdline)))
}
