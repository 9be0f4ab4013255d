package netconf

import (
	"slices"
	"testing"
)

func TestLinksDown(t *testing.T) {
	bonded := func() *State {
		st := twoNICHost()
		st.Links[0].Master, st.Links[1].Master = "bond0", "bond0"
		st.Links[3].AdminUp = false
		st.Links = append([]Link{{Name: "bond0", Kind: KindBond, MTU: 1500, AdminUp: true,
			Bond: &Bond{Mode: BondActiveBackup, Slaves: []string{"eth0", "eth1"}}}}, st.Links...)
		return st
	}
	tests := []struct {
		name string
		plan Plan
		want []string
	}{
		{"nothing-goes-down", Plan{{Op: OpLinkAdd, Link: "br0", Device: &Device{Name: "br0", Kind: KindBridge}}, {Op: OpSetMaster, Link: "eth2", Master: "br0"}, {Op: OpSetUp, Link: "br0"}}, nil},
		{"cycled-bond-counts", Plan{{Op: OpSetDown, Link: "bond0"}, {Op: OpBondSet, Link: "bond0"}, {Op: OpSetUp, Link: "bond0"}}, []string{"bond0"}},
		{"released-slaves", Plan{{Op: OpNoMaster, Link: "eth1"}, {Op: OpNoMaster, Link: "eth0"}}, []string{"eth1", "eth0"}},
		{"deleted-bond-takes-its-slaves", Plan{{Op: OpLinkDel, Link: "bond0"}, {Op: OpSetUp, Link: "eth0"}}, []string{"bond0", "eth0", "eth1"}},
		{"a-down-link-is-not-taken-down", Plan{{Op: OpSetDown, Link: "eth3"}}, nil},
		{"raised-then-lowered", Plan{{Op: OpSetUp, Link: "eth3"}, {Op: OpSetDown, Link: "eth3"}, {Op: OpSetUp, Link: "eth3"}, {Op: OpSetDown, Link: "eth3"}}, []string{"eth3"}},
		{"created-then-lowered", Plan{{Op: OpLinkAdd, Link: "br0", Device: &Device{Name: "br0", Kind: KindBridge}}, {Op: OpSetDown, Link: "br0"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.plan.LinksDown(bonded()); !slices.Equal(got, tt.want) {
				t.Errorf("LinksDown = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestLinksDownOfAPlannedBondModeChange ties LinksDown to the planner: a
// mode change releases the slaves and cycles the bond.
func TestLinksDownOfAPlannedBondModeChange(t *testing.T) {
	running := &Config{Bonds: []BondConfig{{Name: "bond0", Mode: BondActiveBackup, Slaves: []string{"eth0", "eth1"}}}}
	cfg, err := merge(t, running, ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &[]RawOption{{"mode", "4"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	st := twoNICHost()
	st.Links[0].Master, st.Links[1].Master = "bond0", "bond0"
	st.Links = append([]Link{{Name: "bond0", Kind: KindBond, MTU: 1500, AdminUp: true,
		Bond: &Bond{Mode: BondActiveBackup, Slaves: []string{"eth0", "eth1"}}}}, st.Links...)
	plan := MakePlan(st, BuildTarget(running, testNetworks()), BuildTarget(cfg, testNetworks()))
	if got, want := plan.LinksDown(st), []string{"eth0", "eth1", "bond0"}; !slices.Equal(got, want) {
		t.Errorf("LinksDown = %q; want %q\nplan:\n%s", got, want, plan)
	}
}
