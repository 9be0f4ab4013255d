package netconf

import (
	"net/netip"
	"testing"
)

func TestPlanBondVLANBridgeFromScratch(t *testing.T) {
	cfg, err := merge(t, &Config{}, ChangeSet{
		ModifiedBonds: []BondChange{bond("bond0", "eth1", "eth0")},
		ModifiedAttachments: []AttachmentChange{
			attach("v100", "bond0", RawIPAssignment{Method: "static", Address: "192.0.2.10", Netmask: "24"}),
			attach("jumbo", "eth2"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	next := BuildTarget(cfg, testNetworks())
	got := MakePlan(twoNICHost(), &Target{}, next).String()
	want := `ip link set eth2 mtu 9000
ip link add bond0 mtu 1500 type bond mode 802.3ad miimon 100 xmit_hash_policy layer2+3
ip link set eth0 down
ip link set eth0 master bond0
ip link set eth1 down
ip link set eth1 master bond0
ip link add link bond0 name bond0.100 mtu 1500 type vlan id 100
ip link add v100 mtu 1500 type bridge stp_state 0
ip link set bond0.100 master v100
ip addr add 192.0.2.10/24 dev v100
ip link set bond0 up
ip link set bond0.100 up
ip link set v100 up
`
	if got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

// TestPlanIsEmptyWhenTheKernelMatches is idempotence at the planner: a
// kernel that already has the target gets no step.
func TestPlanIsEmptyWhenTheKernelMatches(t *testing.T) {
	cfg, err := merge(t, &Config{}, ChangeSet{ModifiedAttachments: []AttachmentChange{
		attach("vmnet", "eth0", RawIPAssignment{Method: "static", Address: "192.0.2.10", Netmask: "24"}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	target := BuildTarget(cfg, testNetworks())
	st := twoNICHost()
	st.Links[0].Master = "vmnet"
	st.Links = append(st.Links, Link{Name: "vmnet", Kind: KindBridge, MTU: 1500, AdminUp: true,
		Addrs: []Addr{{Prefix: netip.MustParsePrefix("192.0.2.10/24")}, {Prefix: netip.MustParsePrefix("fe80::1/64"), LinkLocal: true}}})
	if p := MakePlan(st, target, target); len(p) != 0 {
		t.Errorf("plan for a matching kernel:\n%s", p)
	}
}

func TestPlanRemovesWhatTheOldTargetCreated(t *testing.T) {
	old, err := merge(t, &Config{}, ChangeSet{ModifiedAttachments: []AttachmentChange{attach("v100", "eth0")}})
	if err != nil {
		t.Fatal(err)
	}
	st := twoNICHost()
	st.Links = append(st.Links,
		Link{Name: "eth0.100", Kind: KindVLAN, MTU: 1500, AdminUp: true, Master: "v100", VLAN: &VLAN{ID: 100, Base: "eth0"}},
		Link{Name: "v100", Kind: KindBridge, MTU: 1500, AdminUp: true})
	sortLinks(st)
	got := MakePlan(st, BuildTarget(old, testNetworks()), BuildTarget(&Config{}, testNetworks())).String()
	want := "ip link del v100\nip link del eth0.100\n"
	if got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

func sortLinks(st *State) {
	for i := 1; i < len(st.Links); i++ {
		for j := i; j > 0 && st.Links[j].Name < st.Links[j-1].Name; j-- {
			st.Links[j], st.Links[j-1] = st.Links[j-1], st.Links[j]
		}
	}
}

// TestPlanBondModeChange releases the slaves, rewrites the bond while it is
// down and re-enslaves them in name order. The kernel closes a slave it
// releases, so they need no "down" of their own before re-enslaving.
func TestPlanBondModeChange(t *testing.T) {
	running := &Config{Bonds: []BondConfig{{Name: "bond0", Mode: BondActiveBackup, Options: []BondOption{{"miimon", "100"}}, Slaves: []string{"eth0", "eth1"}}}}
	cfg, err := merge(t, running, ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &[]RawOption{{"mode", "4"}, {"miimon", "100"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	st := twoNICHost()
	st.Links[0].Master, st.Links[1].Master = "bond0", "bond0"
	st.Links = append([]Link{{Name: "bond0", Kind: KindBond, MTU: 1500, AdminUp: true,
		Bond: &Bond{Mode: BondActiveBackup, Options: []BondOption{{"miimon", "100"}}, Slaves: []string{"eth0", "eth1"}}}}, st.Links...)
	got := MakePlan(st, BuildTarget(running, testNetworks()), BuildTarget(cfg, testNetworks())).String()
	want := `ip link set eth0 nomaster
ip link set eth1 nomaster
ip link set bond0 down
ip link set bond0 type bond mode 802.3ad
ip link set eth0 master bond0
ip link set eth1 master bond0
ip link set bond0 up
`
	if got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

func TestPlanBondOptionChanges(t *testing.T) {
	bondWith := func(mode BondMode, opts ...BondOption) *State {
		st := twoNICHost()
		st.Links[0].Master, st.Links[1].Master = "bond0", "bond0"
		st.Links = append([]Link{{Name: "bond0", Kind: KindBond, MTU: 1500, AdminUp: true,
			Bond: &Bond{Mode: mode, Options: opts, Slaves: []string{"eth0", "eth1"}}}}, st.Links...)
		return st
	}
	tests := []struct {
		name string
		cur  *State
		opts []RawOption
		want string
	}{
		{"live-option", bondWith(BondActiveBackup, BondOption{"miimon", "100"}), []RawOption{{"mode", "1"}, {"miimon", "200"}},
			"ip link set bond0 type bond miimon 200\n"},
		{"unnamed-option-reset", bondWith(BondActiveBackup, BondOption{"miimon", "100"}, BondOption{"updelay", "200"}), []RawOption{{"mode", "1"}, {"miimon", "100"}},
			"ip link set bond0 type bond updelay 0\n"},
		{"same-options", bondWith(BondActiveBackup, BondOption{"miimon", "100"}), []RawOption{{"mode", "active-backup"}, {"miimon", "100"}}, ""},
		{"ifdown-option", bondWith(Bond8023AD, BondOption{"lacp_rate", "slow"}, BondOption{"miimon", "100"}), []RawOption{{"mode", "4"}, {"lacp_rate", "1"}},
			"ip link set bond0 down\nip link set bond0 type bond lacp_rate fast\nip link set bond0 up\n"},
		{"noslaves-option", bondWith(BondActiveBackup, BondOption{"fail_over_mac", "none"}), []RawOption{{"mode", "1"}, {"fail_over_mac", "active"}},
			"ip link set eth0 nomaster\nip link set eth1 nomaster\nip link set bond0 down\nip link set bond0 type bond fail_over_mac active\n" +
				"ip link set eth0 master bond0\nip link set eth1 master bond0\nip link set bond0 up\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			running := &Config{Bonds: []BondConfig{{Name: "bond0", Mode: tt.cur.Links[0].Bond.Mode, Slaves: []string{"eth0", "eth1"}}}}
			cfg, err := merge(t, running, ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &tt.opts}}})
			if err != nil {
				t.Fatal(err)
			}
			got := MakePlan(tt.cur, BuildTarget(running, testNetworks()), BuildTarget(cfg, testNetworks())).String()
			if got != tt.want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestPlanRemovedBondGivesItsSlavesBackUp: the kernel closes the slaves of
// a bond it deletes; NICs leaving hostnetd's management come back up.
func TestPlanRemovedBondGivesItsSlavesBackUp(t *testing.T) {
	running := &Config{Bonds: []BondConfig{{Name: "bond0", Mode: BondActiveBackup, Slaves: []string{"eth0", "eth1"}}}}
	st := twoNICHost()
	st.Links[0].Master, st.Links[1].Master = "bond0", "bond0"
	st.Links = append([]Link{{Name: "bond0", Kind: KindBond, MTU: 1500, AdminUp: true,
		Bond: &Bond{Mode: BondActiveBackup, Slaves: []string{"eth0", "eth1"}}}}, st.Links...)
	got := MakePlan(st, BuildTarget(running, testNetworks()), BuildTarget(&Config{}, testNetworks())).String()
	want := "ip link del bond0\nip link set eth0 up\nip link set eth1 up\n"
	if got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}

// TestScopedPlanLeavesDriftAlone: a request is a delta; a device whose
// desired state it does not change is not touched, even if it drifted.
func TestScopedPlanLeavesDriftAlone(t *testing.T) {
	running, err := merge(t, &Config{}, ChangeSet{ModifiedAttachments: []AttachmentChange{attach("plain", "eth1"), attach("vmnet", "eth0")}})
	if err != nil {
		t.Fatal(err)
	}
	next, err := merge(t, running, ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", RawIPAssignment{Method: "static", Address: "192.0.2.1", Netmask: "24"})}})
	if err != nil {
		t.Fatal(err)
	}
	st := twoNICHost()
	st.Links[0].Master = "vmnet"
	st.Links[1].MTU = 1400 // eth1 drifted
	st.Links = append(st.Links, Link{Name: "vmnet", Kind: KindBridge, MTU: 1500, AdminUp: true})
	oldT, newT := BuildTarget(running, testNetworks()), BuildTarget(next, testNetworks())
	got := MakeScopedPlan(st, oldT, newT, ChangedDevices(oldT, newT)).String()
	if want := "ip addr add 192.0.2.1/24 dev vmnet\n"; got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
}
