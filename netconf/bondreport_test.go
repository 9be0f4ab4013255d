package netconf

import (
	"reflect"
	"testing"
)

// kernel802_3ad is what the kernel reports for an 802.3ad bond made with
// the engine's default options (mode=4 miimon=100 xmit_hash_policy=2).
func kernel802_3ad() *Bond {
	return &Bond{Mode: Bond8023AD, Options: []BondOption{
		{"miimon", "100"}, {"updelay", "0"}, {"downdelay", "0"}, {"arp_interval", "0"},
		{"xmit_hash_policy", "layer2+3"}, {"lacp_rate", "slow"}, {"ad_select", "stable"},
		{"min_links", "0"}, {"fail_over_mac", "none"},
	}}
}

func TestEngineBondOptions(t *testing.T) {
	active := &Bond{Mode: BondActiveBackup, Options: []BondOption{
		{"miimon", "100"}, {"updelay", "0"}, {"downdelay", "200"}, {"arp_interval", "0"},
		{"xmit_hash_policy", "layer2"}, {"min_links", "0"}, {"primary", "eth1"}, {"fail_over_mac", "active"},
	}}
	cases := []struct {
		name string
		bond *Bond
		cfg  *BondConfig
		want []BondOption
	}{
		{"engine defaults, configured", kernel802_3ad(),
			&BondConfig{Mode: Bond8023AD, Options: []BondOption{{"miimon", "100"}, {"xmit_hash_policy", "layer2+3"}}},
			[]BondOption{{"miimon", "100"}, {"xmit_hash_policy", "2"}}},
		// miimon=100 is the kernel's default in 802.3ad: VDSM leaves it out.
		{"engine defaults, not managed", kernel802_3ad(), nil,
			[]BondOption{{"xmit_hash_policy", "2"}}},
		// An option configured at its default is still what was asked.
		{"configured at the default", kernel802_3ad(),
			&BondConfig{Mode: Bond8023AD, Options: []BondOption{{"lacp_rate", "slow"}}},
			[]BondOption{{"lacp_rate", "0"}, {"xmit_hash_policy", "2"}}},
		// The kernel's value, not the configured one: drift shows.
		{"drifted", kernel802_3ad(),
			&BondConfig{Mode: Bond8023AD, Options: []BondOption{{"xmit_hash_policy", "layer3+4"}}},
			[]BondOption{{"xmit_hash_policy", "2"}}},
		{"active-backup", active, nil,
			[]BondOption{{"downdelay", "200"}, {"fail_over_mac", "1"}, {"miimon", "100"}, {"primary", "eth1"}}},
	}
	for _, c := range cases {
		if got := EngineBondOptions(c.bond, c.cfg); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v; want %v", c.name, got, c.want)
		}
	}
}
