//go:build clients

package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fleetHosts is the size of the fleet; fleetBroken is the host whose new
// layout cannot reach its connectivity probe (its switch does not answer).
const (
	fleetHosts  = 8
	fleetBroken = 4 // hv04, in the second batch of two
	fleetBatch  = 2 // the example's fleet_batch
)

// TestFleet runs the example examples/ansible/fleet.yml, unchanged, with
// the real ansible-playbook against eight hostnetd daemons, each on its
// own sandbox, reached at its own loopback URL. Batches of two, checked
// and saved, max_fail_percentage 0. hv04's switch does not answer the
// probe, so hostnetd rolls it back by itself (LOST_CONNECTION); the play
// stops in the second batch, at that task; hv01 and hv02 keep the
// committed layout, hv03 (hv04's batch) the part it had finished, and
// hv05..hv08 are not touched. Then hv04's switch answers again: the same
// playbook completes the rollout, and a third run changes nothing.
func TestFleet(t *testing.T) {
	hosts := make([]*daemon, fleetHosts)
	var inv strings.Builder
	inv.WriteString("hypervisors:\n  hosts:\n")
	for i := range hosts {
		n := i + 1
		hosts[i] = startDaemon(t, daemonConfig{
			sandbox: fmt.Sprintf("hnc-f%d", n), hostName: fmt.Sprintf("hv%02d", n),
			loopback: fmt.Sprintf("127.0.0.%d", 100+n), probe: n != fleetBroken, maxWait: 3,
		})
		fmt.Fprintf(&inv, "    hv%02d:\n      hostnetd_url: %s\n      mgmt_address: 192.0.2.%d\n", n, hosts[i].URL(), 10+n)
	}
	dir := t.TempDir()
	inventory := filepath.Join(dir, "inventory.yml")
	if err := os.WriteFile(inventory, []byte(inv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Plain HTTP on loopback here; real hosts use TLS and a ca_file.
	extra, _ := json.Marshal(map[string]any{"hostnetd_auth": map[string]string{
		"url": "{{ hostnetd_url }}", "username": user, "password": password}})
	run := func(name string) (string, error) {
		out, err := runClient(t, 15*time.Minute, []string{"ANSIBLE_HOME=" + filepath.Join(dir, "ansible-home"),
			"ANSIBLE_REMOTE_TMP=" + filepath.Join(dir, "ansible-home", "tmp"), "ANSIBLE_NOCOLOR=1",
			"ANSIBLE_RETRY_FILES_ENABLED=false"},
			"ansible-playbook", "-i", inventory, "-e", string(extra), "../../examples/ansible/fleet.yml")
		t.Logf("%s: ansible-playbook fleet.yml (%v):\n%s", name, err, out)
		return out, err
	}

	// Run 1: stops after hv04's batch.
	out, err := run("run 1")
	if err == nil {
		t.Fatal("run 1 succeeded; hv04 should have failed and stopped the rollout")
	}
	if !strings.Contains(out, "LOST_CONNECTION") {
		t.Error("run 1: no LOST_CONNECTION in the output")
	}
	for i, d := range hosts {
		n := i + 1
		switch {
		case n < fleetBroken && (n-1)/fleetBatch == (fleetBroken-1)/fleetBatch:
			// In hv04's batch: Ansible stopped the play at the task that
			// failed, so it has the management network (committed) and
			// not yet the VM network.
			expectPartial(t, d, n)
		case n < fleetBroken:
			expectLayout(t, d, n)
		case n == fleetBroken:
			expectNoAttachments(t, d)
			if !strings.Contains(d.log.String(), `"code": "LOST_CONNECTION"`) {
				t.Errorf("hv%02d did not roll back for LOST_CONNECTION", n)
			}
		default:
			expectUntouched(t, d)
		}
	}
	for n := 1; n <= fleetHosts; n++ {
		stats := recapFor(out, fmt.Sprintf("hv%02d", n))
		if (n <= fleetBroken) != (stats != "") {
			t.Errorf("run 1: hv%02d recap %q: the play should have reached hv01..hv%02d only", n, stats, fleetBroken)
		}
	}
	if t.Failed() {
		return
	}

	// The network is fixed: hv04's switch answers.
	hosts[fleetBroken-1].answerProbe(t)
	if _, err := run("run 2"); err != nil {
		t.Fatalf("run 2: %v", err)
	}
	for i, d := range hosts {
		expectLayout(t, d, i+1)
	}

	// Run 3: the whole fleet is in the layout.
	before := make([]int, len(hosts))
	for i, d := range hosts {
		before[i] = d.kernelWrites(t)
	}
	out, err = run("run 3")
	if err != nil {
		t.Fatalf("run 3: %v", err)
	}
	for i, d := range hosts {
		n := i + 1
		if w := d.kernelWrites(t) - before[i]; w != 0 {
			t.Errorf("run 3: hv%02d: %d kernel writes; want 0", n, w)
		}
		if stats := recapFor(out, fmt.Sprintf("hv%02d", n)); !strings.Contains(stats, "changed=0 ") || !strings.Contains(stats, "failed=0 ") {
			t.Errorf("run 3: hv%02d recap %q; want changed=0 failed=0", n, stats)
		}
	}
}

// recapFor is HOST's PLAY RECAP line, or "" if the play never reached it.
func recapFor(out, host string) string {
	m := regexp.MustCompile(`(?m)^` + host + `\s*:\s*(ok=.*)$`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return strings.Join(strings.Fields(m[1]), " ") + " "
}

var attachmentNetRe = regexp.MustCompile(`<network_attachment [^>]*>`)

// expectLayout: hvN has the layout, committed.
func expectLayout(t *testing.T, d *daemon, n int) {
	t.Helper()
	host := d.get(t, "/ovirt-engine/api/hosts/"+d.HostID(t))
	if !strings.Contains(host, "<net_config_dirty>false</net_config_dirty>") {
		t.Errorf("hv%02d: the layout is not committed: %s", n, host)
	}
	atts := d.get(t, "/ovirt-engine/api/hosts/"+d.HostID(t)+"/networkattachments")
	if got := len(attachmentNetRe.FindAllString(atts, -1)); got != 2 {
		t.Errorf("hv%02d: %d attachments; want 2 (ovirtmgmt, vmnet):\n%s", n, got, atts)
	}
	if strings.Contains(atts, "<in_sync>false</in_sync>") {
		t.Errorf("hv%02d: an attachment is out of sync:\n%s", n, atts)
	}
	if out := d.ip(t, "-o", "-4", "addr", "show", "dev", "ovirtmgmt"); !strings.Contains(out, fmt.Sprintf("192.0.2.%d/24", 10+n)) {
		t.Errorf("hv%02d: ovirtmgmt: %s", n, out)
	}
	if out := d.ip(t, "-o", "link", "show", "dev", "eth2"); !strings.Contains(out, "master vmnet") {
		t.Errorf("hv%02d: eth2: %s", n, out)
	}
}

// expectPartial: hvN has the management network, committed, and no VM
// network.
func expectPartial(t *testing.T, d *daemon, n int) {
	t.Helper()
	host := d.get(t, "/ovirt-engine/api/hosts/"+d.HostID(t))
	if !strings.Contains(host, "<net_config_dirty>false</net_config_dirty>") {
		t.Errorf("hv%02d: not committed: %s", n, host)
	}
	atts := d.get(t, "/ovirt-engine/api/hosts/"+d.HostID(t)+"/networkattachments")
	if got := len(attachmentNetRe.FindAllString(atts, -1)); got != 1 {
		t.Errorf("hv%02d: %d attachments; want 1 (ovirtmgmt):\n%s", n, got, atts)
	}
	if out := d.ip(t, "-o", "-4", "addr", "show", "dev", "ovirtmgmt"); !strings.Contains(out, fmt.Sprintf("192.0.2.%d/24", 10+n)) {
		t.Errorf("hv%02d: ovirtmgmt: %s", n, out)
	}
	if out := d.ip(t, "-o", "link", "show"); strings.Contains(out, "vmnet:") {
		t.Errorf("hv%02d: vmnet exists:\n%s", n, out)
	}
}

// expectNoAttachments: hvN has no network on its NICs, in the API or in
// the kernel.
func expectNoAttachments(t *testing.T, d *daemon) {
	t.Helper()
	atts := d.get(t, "/ovirt-engine/api/hosts/"+d.HostID(t)+"/networkattachments")
	if attachmentNetRe.MatchString(atts) {
		t.Errorf("%s: attachments left:\n%s", d.hostName, atts)
	}
	links := d.ip(t, "-o", "link", "show")
	for _, dev := range []string{"ovirtmgmt:", "vmnet:", "master"} {
		if strings.Contains(links, dev) {
			t.Errorf("%s: %q in the kernel:\n%s", d.hostName, dev, links)
		}
	}
}

// expectUntouched: nothing reached hvN: no login, no network, no change.
func expectUntouched(t *testing.T, d *daemon) {
	t.Helper()
	expectNoAttachments(t, d)
	if strings.Contains(d.log.String(), "SSO login") {
		t.Errorf("%s: the play logged in to it", d.hostName)
	}
	if nets := d.get(t, "/ovirt-engine/api/networks"); strings.Contains(nets, "<network ") {
		t.Errorf("%s: networks were added:\n%s", d.hostName, nets)
	}
}
