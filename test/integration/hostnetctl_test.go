package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// ctl runs hostnetctl against an agent's socket.
type ctl struct {
	bin, socket string
}

// ctlResult is what a hostnetctl run printed and its exit status.
type ctlResult struct {
	stdout, stderr string
	code           int
}

func (c ctl) run(t *testing.T, stdin string, args ...string) ctlResult {
	t.Helper()
	cmd := exec.Command(c.bin, append([]string{"--socket", c.socket}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("hostnetctl %v: %v", args, err)
	}
	return ctlResult{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

// ok runs hostnetctl and fails the test unless it exits 0.
func (c ctl) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := c.run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("hostnetctl %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// tableRows parses an aligned table into rows of fields by column name
// (no cell of these tables holds a space but the last).
func tableRows(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := strings.Fields(lines[0])
	rows := map[string]map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < len(header) {
			t.Fatalf("short row %q in\n%s", l, out)
		}
		f[len(header)-1] = strings.Join(f[len(header)-1:], " ")
		row := map[string]string{}
		for i, h := range header {
			row[h] = f[i]
		}
		rows[f[0]] = row
	}
	return rows
}

// TestHostnetctl drives a daemon in a fresh namespace through hostnetctl
// alone: reads as tables and JSON, a dry run that changes nothing, the
// apply, commit, sync, events and a confirmed connectivity check, and the
// exit statuses scripts rely on.
func TestHostnetctl(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	nstest.Veth(t, host, "eth0", peer, "p0")
	nstest.Veth(t, host, "eth1", peer, "p1")
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) { o.WriteWait = 300 * time.Millisecond })
	c := ctl{bin: hostnetctlBinary(t), socket: ag.Socket}
	addNetwork(t, ag, `<network><name>vmnet</name><mtu>9000</mtu><usages><usage>vm</usage></usages></network>`)
	addNetwork(t, ag, `<network><name>v100</name><vlan id="100"/></network>`)
	addNetwork(t, ag, `<network><name>storage</name></network>`)

	// A fresh veth takes a moment to report carrier: wait for "up".
	nics := tableRows(t, c.ok(t, "", "nics"))
	for deadline := time.Now().Add(eventWait); nics["eth0"]["STATE"] != "up" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		nics = tableRows(t, c.ok(t, "", "nics"))
	}
	eth0 := nstest.Link(t, host, "eth0")
	if r := nics["eth0"]; r == nil || r["MAC"] != eth0.Attrs().HardwareAddr.String() || r["MTU"] != "1500" || r["STATE"] != "up" || r["NETWORKS"] != "-" {
		t.Errorf("nics table row of eth0: %v", r)
	}
	var doc struct {
		NIC []struct{ Name string } `json:"host_nic"`
	}
	if err := json.Unmarshal([]byte(c.ok(t, "", "nics", "-o", "json")), &doc); err != nil || len(doc.NIC) != 2 {
		t.Errorf("nics -o json: %v %+v", err, doc)
	}
	nets := tableRows(t, c.ok(t, "", "-o", "table", "networks"))
	if nets["vmnet"]["MTU"] != "9000" || nets["v100"]["VLAN"] != "100" || nets["v100"]["MTU"] != "default" {
		t.Errorf("networks table: %v", nets)
	}

	file := filepath.Join(t.TempDir(), "setup.xml")
	if err := os.WriteFile(file, []byte(modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24"))), 0o644); err != nil {
		t.Fatal(err)
	}
	before := hostImage(t, host, ag, "eth0")
	plan := c.ok(t, "", "apply", file, "--dry-run")
	for _, want := range []string{"ip link set eth0 mtu 9000", "ip link set eth0 master vmnet", "ip addr add 192.0.2.10/24 dev vmnet",
		"links going down: none", "dry run: "} {
		if !strings.Contains(plan, want) {
			t.Errorf("apply --dry-run prints no %q:\n%s", want, plan)
		}
	}
	var planDoc struct {
		Status string
		Plan   struct {
			KernelWrites int `json:"kernel_writes"`
		}
	}
	if err := json.Unmarshal([]byte(c.ok(t, modified(staticAttachment("vmnet", "eth0", "192.0.2.10", "24")), "apply", "-o", "json", "--dry-run", "-")), &planDoc); err != nil ||
		planDoc.Status != "complete" || planDoc.Plan.KernelWrites == 0 {
		t.Errorf("apply -o json --dry-run -: %v %+v", err, planDoc)
	}
	if after := hostImage(t, host, ag, "eth0"); after != before {
		t.Fatalf("apply --dry-run changed the host:\n--- before\n%s\n--- after\n%s", before, after)
	}

	if out := c.ok(t, "", "apply", file); !strings.HasPrefix(out, "applied: ") {
		t.Errorf("apply prints %q", out)
	}
	if _, master, _ := linkState(t, host, "eth0"); master != "vmnet" {
		t.Errorf("after apply eth0 master = %q; want vmnet", master)
	}
	nics = tableRows(t, c.ok(t, "", "nics"))
	if nics["eth0"]["NETWORKS"] != "vmnet" || nics["eth0"]["MTU"] != "9000" || nics["vmnet"]["ADDRESSES"] != "192.0.2.10/24" {
		t.Errorf("nics after apply: eth0 %v, vmnet %v", nics["eth0"], nics["vmnet"])
	}
	atts := tableRows(t, c.ok(t, "", "attachments"))
	if a := atts["vmnet"]; a["NIC"] != "eth0" || a["IN_SYNC"] != "true" || a["IPV4"] != "static" {
		t.Errorf("attachments: %v", atts)
	}
	if out := c.ok(t, "", "attachments"); !strings.Contains(out, "static 192.0.2.10/24") {
		t.Errorf("attachments does not show the address:\n%s", out)
	}
	c.ok(t, "", "commit")
	if dirty := text(parseXML(t, ag.Get(t, ag.HostPath())), "net_config_dirty"); dirty != "false" {
		t.Errorf("after commit net_config_dirty = %s", dirty)
	}
	c.ok(t, "", "sync")

	events := c.ok(t, "", "events")
	if !strings.Contains(events, "NETWORK_CHANGE_APPLIED") {
		t.Errorf("events:\n%s", events)
	}

	// Exit statuses.
	r := c.run(t, modified(staticAttachment("vmnet", "eth1", "192.0.2.300", "24")), "apply", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "Operation Failed: Cannot setup Networks.") || !strings.Contains(r.stderr, "(BAD_ADDR_INVALID)") {
		t.Errorf("a refused apply: exit %d, stderr %q; want 1 and the fault", r.code, r.stderr)
	}
	if r := c.run(t, "", "confirm"); r.code != 1 || !strings.Contains(r.stderr, "NO_CONNECTIVITY_CHECK_PENDING") {
		t.Errorf("confirm with nothing pending: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := (ctl{bin: c.bin, socket: filepath.Join(t.TempDir(), "none.sock")}).run(t, "", "nics"); r.code != 3 || !strings.Contains(r.stderr, "cannot reach hostnetd") {
		t.Errorf("no daemon: exit %d, stderr %q; want 3", r.code, r.stderr)
	}
	for _, args := range [][]string{{"frobnicate"}, {"nics", "extra"}, {"apply"}, {"nics", "--bogus"}, {"-o", "yaml", "nics"}, {"apply", "/no/such/file"}} {
		if r := c.run(t, "", args...); r.code != 2 {
			t.Errorf("hostnetctl %v: exit %d; want 2 (usage)\n%s", args, r.code, r.stderr)
		}
	}
	if r := c.run(t, "", "--help"); r.code != 0 || !strings.Contains(r.stdout, "Exit status:") {
		t.Errorf("--help: exit %d\n%s", r.code, r.stdout)
	}

	// events -f prints what happens next, and ends cleanly on SIGINT.
	follow := exec.Command(c.bin, "--socket", c.socket, "events", "-f", "-o", "json")
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// A checked change waits for its confirmation: confirm it from
	// hostnetctl, and meanwhile another write finds the host busy.
	checked := `<action><check_connectivity>true</check_connectivity><connectivity_timeout>30</connectivity_timeout>` +
		`<modified_network_attachments>` + staticAttachment("storage", "eth1", "198.51.100.1", "24") + `</modified_network_attachments></action>`
	apply := exec.Command(c.bin, "--socket", c.socket, "apply", "-")
	apply.Stdin = strings.NewReader(checked)
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(eventWait); ; time.Sleep(20 * time.Millisecond) {
		if _, _, addrs := linkState(t, host, "eth1"); len(addrs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the checked change was not applied within 10 s")
		}
	}
	if r := c.run(t, "", "apply", file); r.code != 4 || !strings.Contains(r.stderr, "NETWORK_OPERATION_IN_PROGRESS") {
		t.Errorf("apply while a change is pending: exit %d, stderr %q; want 4", r.code, r.stderr)
	}
	c.ok(t, "", "confirm")
	if err := apply.Wait(); err != nil {
		t.Errorf("the checked apply: %v", err)
	}
	for seen := 0; seen < 2; {
		select {
		case l, open := <-lines:
			if !open {
				t.Fatal("events -f ended early")
			}
			var e struct{ Name string }
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("events -f -o json printed %q: %v", l, err)
			}
			if e.Name == "NETWORK_CHANGE_APPLIED" {
				seen++ // the first change, then the checked one
			}
		case <-time.After(10 * time.Second):
			t.Fatal("events -f did not print the checked change within 10 s")
		}
	}
	if err := follow.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range lines {
		}
	}()
	if err := follow.Wait(); err != nil {
		t.Errorf("events -f after SIGINT: %v; want exit 0", err)
	}
}
