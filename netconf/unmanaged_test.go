package netconf

import (
	"reflect"
	"testing"
)

func TestUnmanagedNetworks(t *testing.T) {
	vlan := 100
	nets := []*Network{{ID: "n1", Name: "vmnet", VLAN: &vlan, Usages: []string{UsageVM}}}
	cfg := &Config{Attachments: []Attachment{{ID: "a1", NetworkID: "n1", Nic: "eth0"}}}
	st := &State{Links: []Link{
		{Name: "br9", Kind: KindBridge, AdminUp: true},
		{Name: "brempty", Kind: KindBridge},
		{Name: "eth0", Kind: KindDevice},
		{Name: "eth0.100", Kind: KindVLAN, VLAN: &VLAN{ID: 100, Base: "eth0"}, Master: "vmnet"},
		{Name: "eth1", Kind: KindDevice},
		{Name: "eth1.200", Kind: KindVLAN, VLAN: &VLAN{ID: 200, Base: "eth1"}, Master: "br9"},
		{Name: "eth2", Kind: KindDevice, Master: "br9"},
		{Name: "vmnet", Kind: KindBridge},
	}}
	got := UnmanagedNetworks(st, BuildTarget(cfg, nets))
	want := []Unmanaged{
		{Name: "br9", Kind: KindBridge, Nic: "eth1.200"},
		{Name: "brempty", Kind: KindBridge},
		{Name: "eth1.200", Kind: KindVLAN, Nic: "eth1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnmanagedNetworks = %+v; want %+v", got, want)
	}
	plan, names := UnmanagedRemoval(st, want[0])
	if wantPlan := (Plan{{Op: OpSetDown, Link: "br9"}, {Op: OpLinkDel, Link: "br9"}}); !reflect.DeepEqual(plan, wantPlan) {
		t.Errorf("removal plan = %v; want %v", plan, wantPlan)
	}
	if wantNames := []string{"br9", "eth1.200", "eth2"}; !reflect.DeepEqual(names, wantNames) {
		t.Errorf("removal touches %v; want %v", names, wantNames)
	}
	if plan, _ := UnmanagedRemoval(st, want[1]); len(plan) != 1 || plan[0].Op != OpLinkDel {
		t.Errorf("removing a bridge that is down: %v; want only the delete", plan)
	}
}
