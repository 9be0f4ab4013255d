//go:build clients

package clients

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var recapRe = regexp.MustCompile(`(?m)^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// recap is a playbook run's PLAY RECAP for localhost.
type recap struct{ ok, changed, unreachable, failed int }

// playbook runs ansible-playbook on playbooks/NAME against d through rec.
func playbook(t *testing.T, rec *recorder, d *daemon, name string, extra ...string) (recap, string) {
	t.Helper()
	home := t.TempDir()
	args := []string{"-i", "localhost,", "-c", "local",
		"-e", "hostnetd_url=" + rec.URL(), "-e", "hostnetd_user=" + user, "-e", "hostnetd_password=" + password,
		"-e", "host_name=" + d.hostName}
	args = append(args, extra...)
	args = append(args, filepath.Join("playbooks", name))
	out, err := runClient(t, 10*time.Minute, []string{"ANSIBLE_HOME=" + home, "ANSIBLE_REMOTE_TMP=" + filepath.Join(home, "tmp"), "ANSIBLE_NOCOLOR=1",
		"ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false", "ANSIBLE_RETRY_FILES_ENABLED=false"},
		"ansible-playbook", args...)
	m := recapRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ansible-playbook %s: no PLAY RECAP (%v):\n%s", name, err, out)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	r := recap{ok: n(1), changed: n(2), unreachable: n(3), failed: n(4)}
	if err != nil || r.failed > 0 || r.unreachable > 0 {
		t.Errorf("ansible-playbook %s failed (%v):\n%s", name, err, out)
	}
	return r, out
}

// idempotent runs a playbook twice: the first run changes something, the
// second changes nothing, neither in Ansible's eyes nor in the kernel.
func idempotent(t *testing.T, rec *recorder, d *daemon, name string) {
	t.Helper()
	rec.Step("ansible " + name + " run 1")
	first, out := playbook(t, rec, d, name)
	if first.changed == 0 {
		t.Errorf("%s run 1: changed=0; want a change:\n%s", name, out)
	}
	writes := rec.Step("ansible " + name + " run 2")
	second, out := playbook(t, rec, d, name)
	if second.changed != 0 {
		t.Errorf("%s run 2: changed=%d; want 0:\n%s", name, second.changed, out)
	}
	if w := rec.Step("after " + name); w != 0 {
		t.Errorf("%s run 2: %d kernel writes; want 0", name, w)
	}
	t.Logf("%s: run 1 changed=%d (%d kernel writes), run 2 changed=%d (0 kernel writes)", name, first.changed, writes, second.changed)
}

// TestAnsible runs the playbooks of playbooks/ against a hostnetd on its
// own sandbox, each twice, through the recorder (contract fixture
// ansible.json).
func TestAnsible(t *testing.T) {
	d := startDaemon(t, daemonConfig{sandbox: "hnc-ans", hostName: "ansible-host", loopback: "127.0.0.82", probe: true,
		hostID: "5dd1e0c8-2b8a-4c39-9d7e-0f3b1e6a5d02"})
	rec := startRecorder(t, d)

	t.Run("info", func(t *testing.T) {
		rec.Step("ansible info.yml")
		if r, out := playbook(t, rec, d, "info.yml"); r.changed != 0 {
			t.Errorf("info.yml: changed=%d:\n%s", r.changed, out)
		}
	})
	steps := []struct {
		name   string
		before func(t *testing.T)
		after  func(t *testing.T)
	}{
		{name: "network_present.yml"},
		{name: "network_update.yml"},
		{name: "host_network_present.yml", after: func(t *testing.T) {
			if out := d.ip(t, "-o", "addr", "show", "dev", "ansmgmt"); !strings.Contains(out, "192.0.2.30/24") {
				t.Errorf("ansmgmt: %s", out)
			}
			if out := d.ip(t, "-o", "-6", "addr", "show", "dev", "ansv6"); !strings.Contains(out, "2001:db8::30/64") {
				t.Errorf("ansv6: %s", out)
			}
			if out := d.ip(t, "-o", "link", "show", "dev", "eth2"); !strings.Contains(out, "master ansdhcp") {
				t.Errorf("eth2: %s", out)
			}
		}},
		{name: "host_network_sync.yml", before: func(t *testing.T) {
			if out, err := rec.ip("drift before host_network_sync.yml", "addr", "flush", "dev", "ansmgmt"); err != nil {
				t.Fatalf("ip addr flush: %v: %s", err, out)
			}
		}, after: func(t *testing.T) {
			if out := d.ip(t, "-o", "addr", "show", "dev", "ansmgmt"); !strings.Contains(out, "192.0.2.30/24") {
				t.Errorf("ansmgmt not synchronised: %s", out)
			}
		}},
		{name: "host_network_absent.yml", after: func(t *testing.T) {
			for _, dev := range []string{"ansmgmt", "ansdhcp", "ansv6"} {
				if out := d.ip(t, "-o", "link", "show"); strings.Contains(out, " "+dev+":") {
					t.Errorf("%s is still there: %s", dev, out)
				}
			}
		}},
		{name: "network_absent.yml"},
		{name: "labels_present.yml", after: func(t *testing.T) {
			if out := d.ip(t, "-o", "link", "show", "dev", "eth3"); !strings.Contains(out, "master anslbl") {
				t.Errorf("eth3 does not carry the labelled network: %s", out)
			}
		}},
		{name: "labels_absent.yml", after: func(t *testing.T) {
			if out := d.ip(t, "-o", "link", "show"); strings.Contains(out, "anslbl") {
				t.Errorf("anslbl is still there: %s", out)
			}
		}},
	}
	for _, s := range steps {
		t.Run(strings.TrimSuffix(s.name, ".yml"), func(t *testing.T) {
			if s.before != nil {
				s.before(t)
			}
			idempotent(t, rec, d, s.name)
			if s.after != nil && !t.Failed() {
				s.after(t)
			}
		})
	}
	rec.save(t, "ansible", fmt.Sprintf("ansible-core %s, ovirt.ovirt 3.2.2", ansibleVersion(t)))
}

func ansibleVersion(t *testing.T) string {
	out, _ := runClient(t, time.Minute, nil, "ansible", "--version")
	first, _, _ := strings.Cut(out, "\n")
	if m := regexp.MustCompile(`core ([0-9.]+)`).FindStringSubmatch(first); m != nil {
		return m[1]
	}
	return strings.TrimSpace(first)
}
