package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/test/agenttest"
)

// TestDamagedStateFilesAreRefusedOrRecovered writes malformed state files
// (null entries, empty objects, null, truncated) and checks that hostnetd
// never panics on them: a damaged file is set aside and its last good copy
// used; without one, a damaged catalogue refuses the start with the
// file's name, a damaged journal is set aside, and a damaged running
// configuration is replaced by the persistent one, restored.
func TestDamagedStateFilesAreRefusedOrRecovered(t *testing.T) {
	host := stateHost(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	ag := agenttest.StartWith(t, host, dir, nil)
	addNetwork(t, ag, `<network><name>n0</name><usages><usage>vm</usage></usages></network>`)
	setup(t, ag, strings.Replace(modified(staticAttachment("n0", "eth0", "192.0.2.1", "24")),
		"</action>", "<commit_on_success>true</commit_on_success></action>", 1))
	addNetwork(t, ag, `<network><name>n1</name></network>`) // networks.json.prev holds n0 alone
	ag.Stop()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(state, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	networks := func(ag *agenttest.Agent) string {
		var names []string
		for _, n := range parseXML(t, ag.Get(t, "/ovirt-engine/api/networks")).All("network") {
			names = append(names, text(n, "name"))
		}
		return strings.Join(names, " ")
	}
	attachments := func(ag *agenttest.Agent) int {
		return len(parseXML(t, ag.Get(t, ag.HostPath()+"/networkattachments")).All("network_attachment"))
	}

	// A null network, with a last good copy: the copy is used.
	write("networks.json", `[null]`)
	ag = agenttest.StartWith(t, host, dir, nil)
	if got := networks(ag); got != "n0" {
		t.Errorf("networks from the last good copy: %q; want n0", got)
	}
	if aside, _ := filepath.Glob(filepath.Join(state, "networks.json.damaged-*")); len(aside) != 1 {
		t.Errorf("the damaged catalogue was not set aside: %v", aside)
	}
	ag.Stop()

	// The same without a good copy: a clear refusal, naming the file.
	for _, bad := range []string{`[null]`, `[{"ID": "x"}]`, `{}`, `[{"ID":"a","Name":"a"}`, ``} {
		write("networks.json", bad)
		os.Remove(filepath.Join(state, "networks.json.prev"))
		_, err := agent.New(zap.NewNop(), agent.Options{Namespace: host, StateDir: state, RunDir: filepath.Join(dir, "run")})
		if err == nil || !strings.Contains(err.Error(), "networks.json is damaged") || !strings.Contains(err.Error(), "refusing to start") {
			t.Errorf("networks.json = %q: agent.New: %v; want a refusal naming the file", bad, err)
		}
	}
	write("networks.json", `[{"ID":"`+networkID(t, dir)+`","Name":"n0","Usages":["vm"]}]`)

	// A journal that is {} or null: set aside, not rolled back, no panic.
	for _, bad := range []string{`{}`, `null`, `{"version": 1}`, `{"version":1,"Next":{`} {
		write("journal.json", bad)
		ag = agenttest.StartWith(t, host, dir, nil)
		if _, err := os.Stat(filepath.Join(state, "journal.json")); err == nil {
			t.Errorf("journal %q: still there after the start", bad)
		}
		if n := attachments(ag); n != 1 {
			t.Errorf("journal %q: %d attachments; want 1", bad, n)
		}
		ag.Stop()
	}

	// A truncated running.json without a good copy: the persistent
	// configuration is restored in its place.
	data, err := os.ReadFile(filepath.Join(state, "running.json"))
	if err != nil {
		t.Fatal(err)
	}
	write("running.json", string(data[:len(data)/2]))
	os.Remove(filepath.Join(state, "running.json.prev"))
	wipeManaged(t, host, []string{"n0"}, []string{"eth0"})
	ag = agenttest.StartWith(t, host, dir, nil)
	if n := attachments(ag); n != 1 {
		t.Errorf("after a truncated running.json: %d attachments; want the persistent 1", n)
	}
	if _, _, addrs := linkState(t, host, "n0"); strings.Join(addrs, " ") != "192.0.2.1/24" {
		t.Errorf("after a truncated running.json, n0 has %v; want the persistent configuration restored", addrs)
	}
	ag.Stop()
	// And running.json is whole again.
	ag = agenttest.StartWith(t, host, dir, nil)
	if n := attachments(ag); n != 1 {
		t.Errorf("the start after: %d attachments; want 1", n)
	}
}

// networkID is the network id of the persistent configuration's first
// attachment.
func networkID(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "state", "persistent.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ Attachments []struct{ NetworkID string } }
	if err := json.Unmarshal(data, &cfg); err != nil || len(cfg.Attachments) == 0 || cfg.Attachments[0].NetworkID == "" {
		t.Fatalf("no network id in %s (%v)", data, err)
	}
	return cfg.Attachments[0].NetworkID
}
