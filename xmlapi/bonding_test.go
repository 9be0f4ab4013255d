package xmlapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/hostnetd/hostnetd/netconf"
)

// TestBondingAsAnsibleCompares renders bonds as the ovirt_host_network
// module reads them: it compares the sorted (name, value, type) of each
// option with what its get_bond_options(mode, options) builds, and reports
// changed when they differ.
func TestBondingAsAnsibleCompares(t *testing.T) {
	type opt struct{ name, value, typ string }
	cases := []struct {
		name string
		bond *netconf.Bond
		cfg  *netconf.BondConfig
		want []opt // get_bond_options of the play
	}{
		{"mode 4, module defaults",
			&netconf.Bond{Mode: netconf.Bond8023AD, Options: []netconf.BondOption{
				{Name: "miimon", Value: "100"}, {Name: "updelay", Value: "0"}, {Name: "downdelay", Value: "0"}, {Name: "arp_interval", Value: "0"},
				{Name: "xmit_hash_policy", Value: "layer2+3"}, {Name: "lacp_rate", Value: "slow"}, {Name: "ad_select", Value: "stable"},
				{Name: "min_links", Value: "0"}, {Name: "fail_over_mac", Value: "none"}}},
			&netconf.BondConfig{Name: "bond0", Mode: netconf.Bond8023AD, Options: []netconf.BondOption{
				{Name: "miimon", Value: "100"}, {Name: "xmit_hash_policy", Value: "layer2+3"}}},
			[]opt{{"mode", "4", "Dynamic link aggregation (802.3ad)"}, {"xmit_hash_policy", "2", ""}, {"miimon", "100", ""}}},
		{"mode 1 with a primary",
			&netconf.Bond{Mode: netconf.BondActiveBackup, Options: []netconf.BondOption{
				{Name: "miimon", Value: "100"}, {Name: "updelay", Value: "0"}, {Name: "downdelay", Value: "0"}, {Name: "arp_interval", Value: "0"},
				{Name: "xmit_hash_policy", Value: "layer2"}, {Name: "min_links", Value: "0"}, {Name: "primary", Value: "eth1"}, {Name: "fail_over_mac", Value: "none"}}},
			&netconf.BondConfig{Name: "bond0", Mode: netconf.BondActiveBackup, Options: []netconf.BondOption{
				{Name: "miimon", Value: "100"}, {Name: "primary", Value: "eth1"}}},
			[]opt{{"mode", "1", "Active-Backup"}, {"miimon", "100", ""}, {"primary", "eth1", ""}}},
	}
	for _, c := range cases {
		ctx := testContext()
		ctx.BondConfig = func(name string) *netconf.BondConfig {
			if name == "bond0" {
				return c.cfg
			}
			return nil
		}
		n := bonding(ctx, c.bond, "bond0")
		var got []opt
		for _, o := range n.Child("options").All("option") {
			item := opt{o.Child("name").Text, o.Child("value").Text, ""}
			if ty := o.Child("type"); ty != nil {
				item.typ = ty.Text
			}
			got = append(got, item)
		}
		byName := func(a, b opt) int { return strings.Compare(a.name, b.name) }
		slices.SortFunc(got, byName)
		slices.SortFunc(c.want, byName)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: options %v; the module expects %v", c.name, got, c.want)
		}
		if k := n.Child("kernel_options"); k == nil || len(k.All("option")) != len(c.bond.Options)+1 {
			t.Errorf("%s: kernel_options = %v; want mode and all %d kernel options", c.name, k, len(c.bond.Options))
		}
	}
}
