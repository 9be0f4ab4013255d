package xmlapi

import (
	"net/netip"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

func TestActionPlanGolden(t *testing.T) {
	req, err := ParseXML([]byte(`<action><modified_network_attachments><network_attachment>
		<network><name>vmnet</name></network><host_nic><name>bond0</name></host_nic></network_attachment>
		</modified_network_attachments></action>`))
	if err != nil {
		t.Fatal(err)
	}
	bridge := &netconf.Device{Name: "vmnet", Kind: netconf.KindBridge, MTU: 1500}
	plan := PlanView{
		Steps: netconf.Plan{
			{Op: netconf.OpSetDown, Link: "eth1"},
			{Op: netconf.OpSetMaster, Link: "eth1", Master: "bond0"},
			{Op: netconf.OpLinkAdd, Link: "vmnet", Device: bridge},
			{Op: netconf.OpSetMaster, Link: "bond0", Master: "vmnet"},
			{Op: netconf.OpAddrAdd, Link: "vmnet", Addr: netip.MustParsePrefix("192.0.2.10/24")},
			{Op: netconf.OpRuleAdd, Rule: netconf.Rule{Priority: 3200, Src: netip.MustParsePrefix("192.0.2.0/24"), Table: 100}},
			{Op: netconf.OpSetUp, Link: "vmnet"},
		},
		LinksDown:      []string{"eth1"},
		ReleasedLeases: []LeaseView{{Device: "bond0", Address: "192.0.2.77/24"}},
	}
	doc := ActionPlan(req, plan)
	golden(t, "action_plan.xml", MarshalXML(doc))
	golden(t, "action_plan.json", MarshalJSON(doc))

	// Empty lists are left out.
	got := PlanNode(PlanView{}).Canonical()
	if want := "plan\n  kernel_writes = 0\n"; got != want {
		t.Errorf("empty plan = %q; want %q", got, want)
	}
}
