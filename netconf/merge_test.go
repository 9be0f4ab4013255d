package netconf

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func vid(n int) *int { return &n }

// twoNICHost is a kernel with eth0..eth3 and nothing else.
func twoNICHost() *State {
	st := &State{}
	for _, n := range []string{"eth0", "eth1", "eth2", "eth3"} {
		st.Links = append(st.Links, Link{Name: n, Kind: KindVeth, MTU: 1500, AdminUp: true, OperState: OperUp})
	}
	return st
}

func testNetworks() []*Network {
	return []*Network{
		{ID: "n-vm", Name: "vmnet", Usages: []string{UsageVM}},
		{ID: "n-plain", Name: "plain"},
		{ID: "n-v100", Name: "v100", VLAN: vid(100), Usages: []string{UsageVM}},
		{ID: "n-v101", Name: "v101", VLAN: vid(100)},
		{ID: "n-mgmt", Name: "mgmt", Usages: []string{UsageManagement, UsageDefaultRoute}},
		{ID: "n-jumbo", Name: "jumbo", MTU: 9000},
	}
}

func merge(t *testing.T, running *Config, cs ChangeSet) (*Config, error) {
	t.Helper()
	return Merge(MergeInput{
		Request: cs, Running: running, Networks: testNetworks(), Kernel: twoNICHost(),
		NicName:                func(id string) (string, bool) { return strings.TrimPrefix(id, "id-"), strings.HasPrefix(id, "id-") },
		NewAttachmentID:        func(netID string) string { return "att-" + netID },
		MaxConnectivityTimeout: 120,
	})
}

func attach(net, nic string, ip ...RawIPAssignment) AttachmentChange {
	ac := AttachmentChange{Network: &Ref{Name: net}, Nic: &Ref{Name: nic}}
	if ip != nil {
		ac.IP = &ip
	}
	return ac
}

func bond(name string, slaves ...string) BondChange {
	refs := make([]Ref, len(slaves))
	for i, s := range slaves {
		refs[i] = Ref{Name: s}
	}
	return BondChange{Ref: Ref{Name: name}, Slaves: &refs}
}

func TestMergeBuildsTheConfiguration(t *testing.T) {
	cfg, err := merge(t, &Config{}, ChangeSet{
		ModifiedBonds: []BondChange{bond("bond0", "eth1", "eth0")},
		ModifiedAttachments: []AttachmentChange{
			attach("v100", "bond0", RawIPAssignment{Method: "STATIC", Address: "192.0.2.10", Netmask: "255.255.255.0", Gateway: "192.0.2.1"}),
			attach("plain", "eth2"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Bonds) != 1 || cfg.Bonds[0].Mode != Bond8023AD || strings.Join(cfg.Bonds[0].Slaves, ",") != "eth0,eth1" {
		t.Errorf("bond = %+v; want 802.3ad over eth0,eth1 (the engine's default options, slaves sorted)", cfg.Bonds)
	}
	if v, _ := BondOptionValue(cfg.Bonds[0].Options, "xmit_hash_policy"); v != "layer2+3" {
		t.Errorf("xmit_hash_policy = %q; want layer2+3 (2 normalised)", v)
	}
	a := cfg.Attachments[0]
	if a.IPv4.Method != BootStatic || a.IPv4.Addrs[0] != netip.MustParsePrefix("192.0.2.10/24") || a.IPv4.Gateway.String() != "192.0.2.1" {
		t.Errorf("attachment = %+v", a)
	}
	if a.ID != "att-n-v100" || cfg.Attachments[1].IPv4.Method != BootNone {
		t.Errorf("attachments = %+v", cfg.Attachments)
	}
}

func TestMergeRules(t *testing.T) {
	running := &Config{Attachments: []Attachment{{ID: "a1", NetworkID: "n-plain", Nic: "eth3", IPv4: IPConfig{Method: BootNone}, IPv6: IPConfig{Method: BootNone}}}}
	static := func(addr, mask, gw string) RawIPAssignment {
		return RawIPAssignment{Method: "static", Address: addr, Netmask: mask, Gateway: gw}
	}
	tests := []struct {
		name     string
		cs       ChangeSet
		code     string
		conflict bool
	}{
		{"timeout-zero", ChangeSet{ConnectivityTimeout: "0"}, CodeConnectivityTimeoutInvalid, false},
		{"timeout-too-long", ChangeSet{ConnectivityTimeout: "121"}, CodeConnectivityTimeoutInvalid, false},
		{"empty-attachment", ChangeSet{ModifiedAttachments: []AttachmentChange{{}}}, CodeNullAttachment, false},
		{"unknown-attachment", ChangeSet{ModifiedAttachments: []AttachmentChange{{ID: "nope", Nic: &Ref{Name: "eth0"}}}}, CodeAttachmentNotExists, false},
		{"no-network", ChangeSet{ModifiedAttachments: []AttachmentChange{{Nic: &Ref{Name: "eth0"}}}}, CodeAttachmentNetworkNotSet, false},
		{"unknown-network-id", ChangeSet{ModifiedAttachments: []AttachmentChange{{Network: &Ref{ID: "x"}, Nic: &Ref{Name: "eth0"}}}}, CodeNetworkIDNotExists, false},
		{"unknown-network-name", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("nope", "eth0")}}, CodeNetworkNameNotExists, false},
		{"network-incoherent", ChangeSet{ModifiedAttachments: []AttachmentChange{{Network: &Ref{ID: "n-vm", Name: "plain"}, Nic: &Ref{Name: "eth0"}}}}, CodeAttachmentNetworkIncoherent, false},
		{"nic-incoherent", ChangeSet{ModifiedAttachments: []AttachmentChange{{Network: &Ref{Name: "vmnet"}, Nic: &Ref{ID: "id-eth0", Name: "eth1"}}}}, CodeAttachmentNicsIncoherent, false},
		{"both-lists", ChangeSet{ModifiedAttachments: []AttachmentChange{{ID: "a1", Nic: &Ref{Name: "eth2"}}}, RemovedAttachments: []AttachmentRef{{ID: "a1"}}}, CodeAttachmentInBothLists, false},
		{"change-network", ChangeSet{ModifiedAttachments: []AttachmentChange{{ID: "a1", Network: &Ref{Name: "vmnet"}}}}, CodeCannotChangeNetwork, false},
		{"same-network-twice", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0"), attach("vmnet", "eth1")}}, CodeSameNetworkTwice, false},
		{"no-nic", ChangeSet{ModifiedAttachments: []AttachmentChange{{Network: &Ref{Name: "vmnet"}}}}, CodeNicNameNotSet, false},
		{"vlan-no-nic", ChangeSet{ModifiedAttachments: []AttachmentChange{{Network: &Ref{Name: "v100"}}}}, CodeVLANNoSouthbound, false},
		{"missing-nic", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "missing_nic")}}, CodeNicNotExists, false},
		{"missing-bond", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "bond7")}}, CodeNicNotExists, false},
		{"no-method", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", RawIPAssignment{Address: "192.0.2.1"})}}, CodeMissingBootProtocol, false},
		{"static-no-mask", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", static("192.0.2.1", "", ""))}}, CodeStaticMissingDetails, false},
		{"dhcp-with-address", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", RawIPAssignment{Method: "dhcp", Address: "192.0.2.1"})}}, CodeIncompatibleBootProtocol, false},
		{"autoconf-v4", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", RawIPAssignment{Method: "autoconf", Version: "v4"})}}, CodeIncompatibleBootProtocol, false},
		{"bad-address", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", static("1.2.3.256", "24", ""))}}, CodeBadAddr, false},
		{"bad-address-300", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", static("300.300.300.300", "24", ""))}}, CodeBadAddr, false},
		{"short-address", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", static("1.2.3", "24", ""))}}, CodeBadAddr, false},
		{"bad-netmask", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", static("1.2.3.4", "256.255.0.0", ""))}}, CodeBadAddr, false},
		{"holey-netmask", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", static("1.2.3.4", "255.0.255.0", ""))}}, CodeBadAddr, false},
		{"bad-gateway", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", static("1.2.3.4", "24", "gw"))}}, CodeBadAddr, false},
		{"v6-in-v4", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", RawIPAssignment{Method: "static", Version: "v4", Address: "2001:db8::1", Netmask: "64"})}}, CodeBadAddr, false},
		{"v6-gateway-not-default", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0", RawIPAssignment{Method: "static", Address: "2001:db8::1", Netmask: "64", Gateway: "2001:db8::ff"})}}, CodeIPv6GatewayNotDefaultRoute, false},
		{"dns-not-default", ChangeSet{ModifiedAttachments: []AttachmentChange{func() AttachmentChange {
			a := attach("vmnet", "eth0")
			a.DNS = &[]string{"192.0.2.53"}
			return a
		}()}}, CodeNameserversNotDefaultRoute, false},
		{"default-route-no-ip", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("mgmt", "eth0")}}, CodeRoleNetworkNoBootProtocol, true},
		{"attachment-not-reused", ChangeSet{ModifiedAttachments: []AttachmentChange{{Network: &Ref{Name: "plain"}, Nic: &Ref{Name: "eth0"}, Create: true}}}, CodeAttachmentNotReused, false},
		{"remove-unknown", ChangeSet{RemovedAttachments: []AttachmentRef{{ID: "nope"}}}, CodeRemovedAttachmentNotExists, false},
		{"two-untagged", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth3")}}, CodeTwoUntagged, true},
		{"vlan-twice", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("v100", "eth0"), attach("v101", "eth0")}}, CodeVLANInUse, true},
		{"mtu-differs", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("plain", "eth0"), attach("jumbo", "eth0")}}, CodeTwoUntagged, true},
		{"bond-no-name", ChangeSet{ModifiedBonds: []BondChange{{}}}, CodeBondNoIDNorName, false},
		{"bond-bad-name", ChangeSet{ModifiedBonds: []BondChange{bond("jamesbond007", "eth0", "eth1")}}, CodeBondNameBadFormat, false},
		{"bond-bare-name", ChangeSet{ModifiedBonds: []BondChange{bond("bond", "eth0", "eth1")}}, CodeBondNameBadFormat, false},
		{"bond-space", ChangeSet{ModifiedBonds: []BondChange{bond("bond bad", "eth0", "eth1")}}, CodeBondNameBadFormat, false},
		{"bond-unknown-id", ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{ID: "x"}}}}, CodeNicIDNotExists, false},
		{"bond-incoherent", ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{ID: "id-bond1", Name: "bond2"}}}}, CodeBondIncoherent, false},
		{"bond-one-slave", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0")}}, CodeBondSlaveCount, false},
		{"bond-missing-slave", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth9")}}, CodeSlaveNotExists, false},
		{"bond-slave-twice", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth0")}}, CodeSlaveReferencedTwice, true},
		{"slave-in-two-bonds", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth1"), bond("bond1", "eth1", "eth2")}}, CodeSlaveReferencedTwice, true},
		{"slave-has-network", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth3", "eth1")}}, CodeSlaveHasNetwork, true},
		{"slave-and-network", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth1")}, ModifiedAttachments: []AttachmentChange{attach("vmnet", "eth0")}}, CodeSlaveAndNetworkAtOnce, true},
		{"remove-unknown-bond", ChangeSet{RemovedBonds: []Ref{{Name: "bond9"}}}, CodeBondNotExists, false},
		{"bond-option-unknown", ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &[]RawOption{{"mode", "1"}, {"foo", "1"}}, Slaves: &[]Ref{{Name: "eth0"}, {Name: "eth1"}}}}}, CodeBadBondingOption, false},
		{"bond-mode-bad", ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &[]RawOption{{"mode", "9"}}, Slaves: &[]Ref{{Name: "eth0"}, {Name: "eth1"}}}}}, CodeBadBondingOption, false},
		{"bond-option-for-mode", ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &[]RawOption{{"mode", "4"}, {"arp_interval", "100"}}, Slaves: &[]Ref{{Name: "eth0"}, {Name: "eth1"}}}}}, CodeBadBondingOptionForMode, false},
		{"bond-miimon-and-arp", ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &[]RawOption{{"mode", "1"}, {"miimon", "100"}, {"arp_interval", "100"}}, Slaves: &[]Ref{{Name: "eth0"}, {Name: "eth1"}}}}}, CodeBadBondingOptionForMode, false},
		{"vm-network-on-rr-bond", ChangeSet{ModifiedBonds: []BondChange{{Ref: Ref{Name: "bond0"}, Options: &[]RawOption{{"mode", "0"}}, Slaves: &[]Ref{{Name: "eth0"}, {Name: "eth1"}}}}, ModifiedAttachments: []AttachmentChange{attach("vmnet", "bond0")}}, CodeBondModeInvalidForVMNetwork, false},
		{"bond-modified-and-removed", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth1")}, RemovedBonds: []Ref{{Name: "bond0"}}}, CodeBondNotExists, false},
		{"bridge-opts-unknown", ChangeSet{ModifiedAttachments: []AttachmentChange{func() AttachmentChange {
			a := attach("vmnet", "eth0")
			a.Properties = &map[string]string{"bridge_opts": "foo=0"}
			return a
		}()}}, CodeBadCustomProperties, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := merge(t, running, tt.cs)
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v; want rule %s", err, tt.code)
			}
			if re.Code != tt.code || re.Conflict != tt.conflict {
				t.Errorf("got %s (conflict %v): %v; want %s (conflict %v)", re.Code, re.Conflict, re.Msg, tt.code, tt.conflict)
			}
		})
	}
	if len(running.Attachments) != 1 || running.Attachments[0].Nic != "eth3" {
		t.Errorf("Merge changed the running configuration: %+v", running)
	}
}

func TestMergeBondRulesAgainstARunningBond(t *testing.T) {
	running := &Config{
		Bonds:       []BondConfig{{Name: "bond0", Mode: BondActiveBackup, Slaves: []string{"eth0", "eth1"}}},
		Attachments: []Attachment{{ID: "a1", NetworkID: "n-v100", Nic: "bond0", IPv4: IPConfig{Method: BootNone}, IPv6: IPConfig{Method: BootNone}}},
	}
	tests := []struct {
		name, code string
		cs         ChangeSet
	}{
		{"remove-used-bond", CodeBondUsedByAttachments, ChangeSet{RemovedBonds: []Ref{{Name: "bond0"}}}},
		{"slave-of-a-bond-not-named", CodeSlaveInOtherBond, ChangeSet{ModifiedBonds: []BondChange{bond("bond1", "eth1", "eth2")}}},
		{"slave-of-two-named-bonds", CodeSlaveReferencedTwice, ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth1"), bond("bond1", "eth1", "eth2")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := merge(t, running, tt.cs)
			var re *RuleError
			if !errors.As(err, &re) || re.Code != tt.code {
				t.Errorf("err = %v; want %s", err, tt.code)
			}
		})
	}
	// Moving the network away in the same request lets the bond go.
	cfg, err := merge(t, running, ChangeSet{
		RemovedBonds:        []Ref{{Name: "bond0"}},
		ModifiedAttachments: []AttachmentChange{{ID: "a1", Nic: &Ref{Name: "eth0"}}},
	})
	if err != nil || len(cfg.Bonds) != 0 || cfg.Attachments[0].Nic != "eth0" {
		t.Errorf("break bond and move its network: %v, %+v", err, cfg)
	}
}

// TestMergeRefusesASlaveCarryingAnUnmanagedVLAN: a NIC with a VLAN device
// of its own that no network owns cannot become a slave; a VLAN on another
// NIC does not stop it.
func TestMergeRefusesASlaveCarryingAnUnmanagedVLAN(t *testing.T) {
	kernel := twoNICHost()
	// Links are kept sorted by name: eth2.300 goes between eth2 and eth3.
	kernel.Links = slices.Insert(kernel.Links, 3, Link{Name: "eth2.300", Kind: KindVLAN, MTU: 1500, VLAN: &VLAN{ID: 300, Base: "eth2"}})
	in := MergeInput{
		Running: &Config{}, Networks: testNetworks(), Kernel: kernel,
		NicName:                func(id string) (string, bool) { return "", false },
		NewAttachmentID:        func(netID string) string { return "att-" + netID },
		MaxConnectivityTimeout: 120,
	}
	in.Request = ChangeSet{ModifiedBonds: []BondChange{bond("bond1", "eth2", "eth3")}}
	var re *RuleError
	if _, err := Merge(in); !errors.As(err, &re) || re.Code != CodeSlaveHasUnmanagedNetwork {
		t.Errorf("eth2 carries eth2.300: err = %v; want %s", err, CodeSlaveHasUnmanagedNetwork)
	}
	in.Request = ChangeSet{ModifiedBonds: []BondChange{bond("bond1", "eth0", "eth1")}}
	if _, err := Merge(in); err != nil {
		t.Errorf("eth0 and eth1 carry nothing: %v", err)
	}
}
