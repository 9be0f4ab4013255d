package netconf

import (
	"errors"
	"strings"
	"testing"
)

// hostileHost is twoNICHost with loopback, a NIC named like a VLAN device
// and an unmanaged bridge, sorted by name as ReadState returns them.
func hostileHost() *State {
	st := &State{}
	for _, l := range []Link{
		{Name: "br7", Kind: KindBridge, MTU: 1500},
		{Name: "eth0", Kind: KindVeth, MTU: 1500},
		{Name: "eth0.100", Kind: KindVeth, MTU: 1500},
		{Name: "eth1", Kind: KindVeth, MTU: 1500},
		{Name: "eth2", Kind: KindVeth, MTU: 1500},
		{Name: "lo", Kind: KindDevice, MTU: 65536},
	} {
		l.AdminUp = true
		st.Links = append(st.Links, l)
	}
	return st
}

// mergeHostile merges cs into running with the test networks, some of
// them changed by edit, against hostileHost.
func mergeHostile(running *Config, cs ChangeSet, edit func(nets []*Network)) (*Config, error) {
	nets := testNetworks()
	nets = append(nets, &Network{ID: "n-br7", Name: "br7", Usages: []string{UsageVM}})
	if edit != nil {
		edit(nets)
	}
	return Merge(MergeInput{
		Request: cs, Running: running, Networks: nets, Kernel: hostileHost(),
		NicName:                func(id string) (string, bool) { return strings.TrimPrefix(id, "id-"), strings.HasPrefix(id, "id-") },
		NewAttachmentID:        func(netID string) string { return "att-" + netID },
		MaxConnectivityTimeout: 120,
	})
}

func attachID(netID, nic string) AttachmentChange {
	return AttachmentChange{Network: &Ref{ID: netID}, Nic: &Ref{Name: nic}}
}

func withProps(a AttachmentChange, opts string) AttachmentChange {
	a.Properties = &map[string]string{"bridge_opts": opts}
	return a
}

func withDNS(a AttachmentChange, servers ...string) AttachmentChange {
	a.DNS = &servers
	a.IP = &[]RawIPAssignment{{Method: "static", Address: "192.0.2.1", Netmask: "24"}}
	return a
}

// TestMergeRefusesHostileRequests covers the holes the bad-input catalogue
// and the fuzzers found: each of these was accepted and reached the kernel
// (or resolv.conf) before.
func TestMergeRefusesHostileRequests(t *testing.T) {
	running := &Config{Attachments: []Attachment{{ID: "a1", NetworkID: "n-vm", Nic: "eth2", IPv4: IPConfig{Method: BootNone}, IPv6: IPConfig{Method: BootNone}}}}
	rename := func(id, name string) func([]*Network) {
		return func(nets []*Network) {
			for _, n := range nets {
				if n.ID == id {
					n.Name = name
				}
			}
		}
	}
	stp := func(nets []*Network) { nets[0].STP = true }
	tests := []struct {
		name string
		cs   ChangeSet
		edit func([]*Network)
		code string // "" when the request is valid
	}{
		{"attach-to-loopback", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("plain", "lo")}}, nil, CodeNicNotExists},
		{"loopback-as-slave", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "lo")}}, nil, CodeSlaveNotExists},
		{"vm-network-named-like-a-nic", ChangeSet{ModifiedAttachments: []AttachmentChange{attachID("n-br7", "eth1")}}, rename("n-br7", "eth0"), CodeBadBridgeName},
		{"vm-network-named-lo", ChangeSet{ModifiedAttachments: []AttachmentChange{attachID("n-br7", "eth1")}}, rename("n-br7", "lo"), CodeBadBridgeName},
		{"attached-vm-network-renamed-like-a-nic", ChangeSet{}, rename("n-vm", "eth1"), CodeBadBridgeName},
		{"vm-network-named-like-a-new-bond", ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth1")}}, rename("n-vm", "bond0"), CodeBadBridgeName},
		{"vlan-device-name-taken", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("v100", "eth0")}}, nil, CodeBadBridgeName},
		{"existing-bridge-adopted", ChangeSet{ModifiedAttachments: []AttachmentChange{attach("br7", "eth1")}}, nil, ""},
		{"nameserver-zone-injects-a-line", ChangeSet{ModifiedAttachments: []AttachmentChange{withDNS(attach("mgmt", "eth0"), "fe80::1%eth0\nsearch evil")}}, nil, CodeBadNameserver},
		{"nameserver-v4-zone", ChangeSet{ModifiedAttachments: []AttachmentChange{withDNS(attach("mgmt", "eth0"), "192.0.2.53%eth0")}}, nil, CodeBadNameserver},
		{"nameserver-v6-zone", ChangeSet{ModifiedAttachments: []AttachmentChange{withDNS(attach("mgmt", "eth0"), "fe80::1%eth0")}}, nil, ""},
		{"hello-time-low", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "hello_time=99")}}, nil, CodeBadCustomProperties},
		{"hello-time-ok", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "hello_time=100")}}, nil, ""},
		{"max-age-high", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "max_age=4001")}}, nil, CodeBadCustomProperties},
		{"priority-over-16-bits", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "priority=65536")}}, nil, CodeBadCustomProperties},
		{"vlan-filtering-2", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "vlan_filtering=2")}}, nil, CodeBadCustomProperties},
		{"multicast-router-3", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "multicast_router=3")}}, nil, CodeBadCustomProperties},
		{"group-fwd-mask-stp", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "group_fwd_mask=1")}}, nil, CodeBadCustomProperties},
		{"group-fwd-mask-ok", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "group_fwd_mask=0x8")}}, nil, ""},
		{"forward-delay-without-stp", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "forward_delay=0")}}, nil, ""},
		{"forward-delay-with-stp", ChangeSet{ModifiedAttachments: []AttachmentChange{withProps(attach("vmnet", "eth2"), "forward_delay=0")}}, stp, CodeBadCustomProperties},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mergeHostile(running, tt.cs, tt.edit)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused a valid request: %v", err)
				}
				return
			}
			var re *RuleError
			if !errors.As(err, &re) || re.Code != tt.code {
				t.Fatalf("err = %v; want rule %s", err, tt.code)
			}
		})
	}
}

func TestApplyNetworkChangeChecksNameservers(t *testing.T) {
	for _, ns := range []string{"not-an-ip", "192.0.2.53%eth0", "fe80::1%eth0 x", "fe80::1%eth0\nsearch evil"} {
		_, err := ApplyNetworkChange(nil, "n", NetworkChange{Name: ptr("n"), DNS: &[]string{ns}})
		var re *RuleError
		if !errors.As(err, &re) || re.Code != CodeBadNameserver {
			t.Errorf("name server %q: err = %v; want %s", ns, err, CodeBadNameserver)
		}
	}
	if _, err := ApplyNetworkChange(nil, "n", NetworkChange{Name: ptr("n"), DNS: &[]string{"192.0.2.53", "fe80::1%eth0"}}); err != nil {
		t.Errorf("valid name servers refused: %v", err)
	}
}

func TestCheckBondNameRefusesBondingMasters(t *testing.T) {
	if err := CheckBondName("bonding_masters"); err == nil {
		t.Error("bonding_masters accepted as a bond name")
	}
}

func ptr(s string) *string { return &s }
