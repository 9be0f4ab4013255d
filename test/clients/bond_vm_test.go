//go:build clients && vmtest

package clients

import (
	"strings"
	"testing"
)

// TestAnsibleBonds runs the bond playbooks, each twice, in the VM (the
// development kernel has no bonding): make test-clients-vm.
func TestAnsibleBonds(t *testing.T) {
	d := startDaemon(t, daemonConfig{sandbox: "hnc-bond", hostName: "bond-host", loopback: "127.0.0.83", probe: true, maxWait: 30})
	rec := startRecorder(t, d)
	steps := []struct {
		name  string
		after func(t *testing.T)
	}{
		{"bond_present.yml", func(t *testing.T) {
			out := d.ip(t, "-d", "link", "show", "dev", "bond0")
			if !strings.Contains(out, "mode active-backup") || !strings.Contains(out, "master ansbond") {
				t.Errorf("bond0: %s", out)
			}
		}},
		{"bond_change.yml", func(t *testing.T) {
			out := d.ip(t, "-d", "link", "show", "dev", "bond0")
			if !strings.Contains(out, "mode 802.3ad") || !strings.Contains(out, "miimon 200") {
				t.Errorf("bond0: %s", out)
			}
			if out := d.ip(t, "-o", "link", "show", "dev", "eth3"); !strings.Contains(out, "master bond0") {
				t.Errorf("eth3: %s", out)
			}
		}},
		{"bond_absent.yml", func(t *testing.T) {
			if out := d.ip(t, "-o", "link", "show"); strings.Contains(out, "bond0") || strings.Contains(out, "ansbond:") {
				t.Errorf("left: %s", out)
			}
		}},
	}
	for _, s := range steps {
		t.Run(strings.TrimSuffix(s.name, ".yml"), func(t *testing.T) {
			idempotent(t, rec, d, s.name)
			if !t.Failed() {
				s.after(t)
			}
		})
	}
}
