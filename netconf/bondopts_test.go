package netconf

import (
	"errors"
	"strings"
	"testing"
)

func rawOptions(s string) []RawOption {
	var out []RawOption
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, RawOption{Name: k, Value: v})
	}
	return out
}

// TestBondOptionRules: the kernel's rules, checked before the first write.
func TestBondOptionRules(t *testing.T) {
	for _, tt := range []struct {
		options, code, detail string
	}{
		{"mode=4 updelay=150", CodeBadBondingOption, "multiple of miimon"},
		{"mode=1 updelay=200", CodeBadBondingOption, "multiple of miimon"},
		{"mode=1 miimon=100 peer_notif_delay=250", CodeBadBondingOption, "multiple of miimon"},
		{"mode=1 num_grat_arp=2 num_unsol_na=3", CodeBadBondingOption, "must agree"},
		{"mode=4 ad_actor_system=00:00:00:00:00:00", CodeBadBondingOption, "invalid value"},
		{"mode=4 ad_actor_system=01:00:5e:00:00:01", CodeBadBondingOption, "invalid value"},
		{"mode=4 active_slave=eth0", CodeBadBondingOption, "run time"},
		{"mode=4 ad_aggregator=1", CodeBadBondingOption, "read-only"},
		{"mode=4 packets_per_slave=2", CodeBadBondingOptionForMode, "not valid in mode"},
		{"mode=1 tlb_dynamic_lb=0", CodeBadBondingOptionForMode, "not valid in mode"},
		{"mode=5 arp_missed_max=3", CodeBadBondingOptionForMode, "not valid in mode"},
		{"mode=1 lacp_active=on", CodeBadBondingOptionForMode, "not valid in mode"},
		{"mode=4 arp_missed_max=0", CodeBadBondingOption, "invalid value"},
	} {
		_, _, err := parseBondOptions("bond0", rawOptions(tt.options))
		var re *RuleError
		if !errors.As(err, &re) || re.Code != tt.code || !strings.Contains(re.Msg, tt.detail) {
			t.Errorf("%q: %v; want %s mentioning %q", tt.options, err, tt.code, tt.detail)
		}
	}
}

// TestBondOptionsCanonical: numbers and names, as sysfs takes them, give
// the kernel's names; the two names of the peer notification count follow
// each other.
func TestBondOptionsCanonical(t *testing.T) {
	mode, opts, err := parseBondOptions("bond0", rawOptions("mode=4 lacp_active=0 arp_all_targets=1 primary_reselect=2 num_grat_arp=5 ad_actor_system=02:AA:00:00:00:01"))
	if err != nil {
		t.Fatal(err)
	}
	if mode != Bond8023AD {
		t.Errorf("mode = %s", mode)
	}
	var got []string
	for _, o := range opts {
		got = append(got, o.Name+"="+o.Value)
	}
	want := "ad_actor_system=02:aa:00:00:00:01 arp_all_targets=all lacp_active=off num_grat_arp=5 num_unsol_na=5 primary_reselect=failure"
	if strings.Join(got, " ") != want {
		t.Errorf("options = %s; want %s", strings.Join(got, " "), want)
	}
}
