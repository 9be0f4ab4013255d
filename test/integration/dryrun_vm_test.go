//go:build vmtest

package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/test/agenttest"
	"github.com/hostnetd/hostnetd/test/nstest"
)

// TestVMDryRunOfABondWithAVLANNetwork: the dry run of a bond carrying a
// VLAN network plans the bond, its slaves (taken down to be enslaved) and
// the VLAN, changes nothing, and is what the transaction then applies; the
// dry run of a bond mode change names the slaves it releases and the bond
// it cycles.
func TestVMDryRunOfABondWithAVLANNetwork(t *testing.T) {
	host, peer := nstest.New(t), nstest.New(t)
	for _, n := range []string{"0", "1"} {
		nstest.Veth(t, host, "eth"+n, peer, "p"+n)
	}
	rec := &stepRecorder{}
	ag := agenttest.StartWith(t, host, t.TempDir(), func(o *agent.Options) {
		o.Kernel = engine.FailStep(engine.NamespaceKernel{Namespace: o.Namespace}, rec.hook)
	})
	addNetwork(t, ag, `<network><name>v100</name><vlan id="100"/></network>`)
	action := `<action><modified_bonds>` + vmBond("bond0", "mode=4 miimon=100", "eth0", "eth1") + `</modified_bonds>` +
		`<modified_network_attachments>` + staticAttachment("v100", "bond0", "192.0.2.10", "24") + `</modified_network_attachments></action>`

	before := hostImage(t, host, ag, "eth0", "eth1")
	plan := dryRun(t, ag, action)
	for _, want := range []string{"ip link add bond0 ", "ip link set eth0 master bond0", "ip link add link bond0 name bond0.100 ", "ip addr add 192.0.2.10/24 dev bond0.100"} {
		if !slices.ContainsFunc(plan.commands, func(c string) bool { return strings.HasPrefix(c, want) }) {
			t.Errorf("the plan has no %q:\n%s", want, strings.Join(plan.commands, "\n"))
		}
	}
	if !slices.Equal(plan.linksDown, []string{"eth0", "eth1"}) {
		t.Errorf("links down = %v; want the slaves, taken down to be enslaved", plan.linksDown)
	}
	if after := hostImage(t, host, ag, "eth0", "eth1"); after != before {
		t.Fatalf("the dry run changed the host:\n--- before\n%s\n--- after\n%s", before, after)
	}
	setup(t, ag, action)
	if applied := rec.take(); !slices.Equal(applied, plan.commands) {
		t.Errorf("the transaction applied:\n%s\nthe dry run planned:\n%s", strings.Join(applied, "\n"), strings.Join(plan.commands, "\n"))
	}

	modeChange := `<action><modified_bonds>` + vmBond("bond0", "mode=1 miimon=100", "eth0", "eth1") + `</modified_bonds></action>`
	plan = dryRun(t, ag, modeChange)
	if !slices.Equal(plan.linksDown, []string{"eth0", "eth1", "bond0"}) {
		t.Errorf("a mode change takes down %v; want [eth0 eth1 bond0]\n%s", plan.linksDown, strings.Join(plan.commands, "\n"))
	}
	setup(t, ag, modeChange)
	if applied := rec.take(); !slices.Equal(applied, plan.commands) {
		t.Errorf("the transaction applied:\n%s\nthe dry run planned:\n%s", strings.Join(applied, "\n"), strings.Join(plan.commands, "\n"))
	}
}
