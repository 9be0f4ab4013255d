//go:build vmtest

package integration

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestKillSoakBondsAndVLANs kills hostnetd with SIGKILL at 22 chosen steps
// of two multi-step transactions with bonds, VLANs and bridges: one that
// builds them from bare NICs and one that changes them (a bond's mode, which
// releases its slaves; an address; a VLAN removed and one added). The
// daemon pauses before each kernel write (--test-step-delay) and logs the
// step, so each kill lands after exactly the chosen number of writes.
// After every restart the namespace must be exactly as before the
// transaction, and the daemon must take writes again; in the end each
// transaction, sent once more, succeeds.
func TestKillSoakBondsAndVLANs(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for i := range 4 {
		nstest.Veth(t, host, "eth"+strconv.Itoa(i), peer, "p"+strconv.Itoa(i))
	}
	dir := t.TempDir()
	const delay = 60 * time.Millisecond
	start := func() *daemon { return startDaemon(t, host, dir, "--test-step-delay", delay.String()) }
	d := start()
	for _, n := range []string{
		`<network id="vm100"><name>vm100</name><vlan id="100"/><usages><usage>vm</usage></usages></network>`,
		`<network id="v200"><name>v200</name><vlan id="200"/></network>`,
		`<network id="v300"><name>v300</name><vlan id="300"/><mtu>9000</mtu></network>`,
		`<network id="jumbo"><name>jumbo</name><mtu>9000</mtu></network>`,
		`<network id="vm3"><name>vm3</name><usages><usage>vm</usage></usages></network>`,
	} {
		if code, err := d.post("/networks", n); err != nil || code != http.StatusCreated {
			t.Fatalf("POST network: %d %v", code, err)
		}
	}
	hostID := hostIDOf(t, dir)
	bond := func(mode string) string {
		return `<modified_bonds>` + vmBondXML(mode) + `</modified_bonds>`
	}
	static := func(addr, gw string) string {
		return `<ip_address_assignments>` + ipAssignmentXML("static", "v4", addr, "24", gw) + `</ip_address_assignments>`
	}
	att := func(net, nic, ip string) string {
		return `<network_attachment><network id="` + net + `"/><host_nic><name>` + nic + `</name></host_nic>` + ip + `</network_attachment>`
	}
	build := `<action>` + bond("1") + `<modified_network_attachments>` +
		att("vm100", "bond0", static("192.0.2.1", "192.0.2.254")) + att("v200", "bond0", static("198.51.100.1", "")) +
		att("jumbo", "eth2", static("203.0.113.1", "203.0.113.254")) + att("vm3", "eth3", static("10.3.0.1", "")) +
		`</modified_network_attachments></action>`
	change := `<action>` + bond("2") + `<modified_network_attachments>` +
		att("vm100", "bond0", static("192.0.2.2", "192.0.2.254")) + att("v300", "eth2", static("172.16.30.1", "")) +
		`</modified_network_attachments><removed_network_attachments><network_attachment><network id="v200"/></network_attachment>` +
		`</removed_network_attachments></action>`

	kills := 0
	for _, tx := range []struct {
		name, body string
		points     int
	}{{"build", build, 12}, {"change", change, 10}} {
		before := dump(t, host)
		steps := 0
		for j := 0; steps == 0 || j < tx.points; j++ {
			// The first attempt is killed at step 0, and tells the plan's
			// length; the others spread over the plan.
			at := 0
			if steps > 0 {
				at = j * (steps - 1) / (tx.points - 1)
			}
			t0 := time.Now()
			from := len(d.log.String()) // the lines of earlier transactions do not count
			go func() { _, _ = d.post("/hosts/"+hostID+"/setupnetworks", tx.body) }()
			n := waitStep(t, d, from, at)
			if steps == 0 {
				steps = n
				if steps < tx.points {
					t.Fatalf("%s: the plan has %d steps; the soak wants at least %d", tx.name, steps, tx.points)
				}
			}
			t1 := time.Now()
			d.kill()
			kills++
			d = start()
			t2 := time.Now()
			if got := dump(t, host); got != before {
				t.Fatalf("%s killed after %d of %d writes: after the restart the namespace differs:\n--- before\n%s\n--- after\n%s\n--- log\n%s",
					tx.name, at, steps, before, got, d.log)
			}
			if !strings.Contains(d.log.String(), "the interrupted transaction was rolled back") {
				t.Errorf("%s killed after %d writes: the restarted daemon did not roll a journal back\n%s", tx.name, at, d.log)
			}
			// The daemon takes writes again: an empty setupnetworks is one.
			if code, err := d.post("/hosts/"+hostID+"/setupnetworks", `<action/>`); err != nil || code != http.StatusOK {
				t.Fatalf("%s killed after %d writes: the next transaction: %d %v\n%s", tx.name, at, code, err, d.log)
			}
			t.Logf("%s: killed after %d of %d writes, rolled back (%v to the kill, %v to restart, %v to check)", tx.name, at, steps, t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
		}
		if code, err := d.post("/hosts/"+hostID+"/setupnetworks", tx.body); err != nil || code != http.StatusOK {
			t.Fatalf("%s, sent once more: %d %v\n%s", tx.name, code, err, d.log)
		}
		if dump(t, host) == before {
			t.Fatalf("%s succeeded and changed nothing", tx.name)
		}
	}
	if kills < 20 {
		t.Errorf("%d kill points; the soak wants at least 20", kills)
	}
	got := dump(t, host)
	for _, want := range []string{"link bond0 kind bond", "bond mode balance-xor slaves eth0,eth1", "link bond0.100 kind vlan",
		"link eth2.300 kind vlan mtu 9000", "addr 192.0.2.2/24", "addr 172.16.30.1/24", "link vm100 kind bridge"} {
		if !strings.Contains(got, want) {
			t.Errorf("after both transactions the namespace lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "bond0.200") {
		t.Errorf("v200's VLAN device is still there:\n%s", got)
	}
}

// vmBondXML is bond0 over eth0 and eth1 in the given mode.
func vmBondXML(mode string) string {
	return bondXML("bonding", "bond0", "mode="+mode+" miimon=100", "eth0", "eth1")
}

var stepLine = regexp.MustCompile(`pausing before a kernel write\s+\{"step": (\d+), "steps": (\d+)\}`)

// waitStep waits until the daemon logs, past byte from of its log, that it
// pauses before write number at (from 0), and returns the number of steps
// of its plan.
func waitStep(t *testing.T, d *daemon, from, at int) int {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, m := range stepLine.FindAllStringSubmatch(d.log.String()[from:], -1) {
			if m[1] == strconv.Itoa(at) {
				n, _ := strconv.Atoi(m[2])
				return n
			}
		}
	}
	t.Fatalf("the daemon never paused before write %d:\n%s", at, d.log)
	return 0
}
