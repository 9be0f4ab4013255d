package netconf

import (
	"slices"
	"strings"
	"testing"
)

// nicEthtool is what a NIC reports: offloads, rings up to 4096,
// coalescing and pause; lro is fixed.
func nicEthtool() *EthtoolState {
	return &EthtoolState{
		Features: map[string]FeatureState{
			"tx-tcp-segmentation":  {Changeable: true, Requested: true, Active: true},
			"tx-tcp6-segmentation": {Changeable: true, Requested: true, Active: true},
			"tx-checksum-ipv4":     {},
			"rx-gro":               {Changeable: true},
			"rx-lro":               {},
		},
		Ring:     map[string]uint32{"rx": 256, "rx-mini": 0, "rx-jumbo": 0, "tx": 256},
		RingMax:  map[string]uint32{"rx": 4096, "rx-mini": 0, "rx-jumbo": 0, "tx": 4096},
		Coalesce: map[string]uint32{"rx-usecs": 3, "adaptive-rx": 0},
		Pause:    map[string]bool{"autoneg": true, "rx": true, "tx": true},
	}
}

func TestParseEthtoolOpts(t *testing.T) {
	o, err := ParseEthtoolOpts("--offload eth0 tcp-segmentation-offload off gro on -G * rx 1024 --coalesce eth0 adaptive-rx on rx-usecs 30 -A eth0 autoneg off rx off")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Devices, []string{"eth0", "*"}) {
		t.Errorf("devices %v", o.Devices)
	}
	got := strings.Join(append(o.Settings["eth0"].Commands("eth0"), o.Settings["*"].Commands("eth1")...), "; ")
	want := "ethtool -K eth0 gro on tso off; ethtool -C eth0 adaptive-rx on rx-usecs 30; ethtool -A eth0 autoneg off rx off; ethtool -G eth1 rx 1024"
	if got != want {
		t.Errorf("commands\n got %s\nwant %s", got, want)
	}
	for _, bad := range []string{"", "-K", "-K eth0", "-K eth0 tso", "-K eth0 tso 1", "tso off", "-s eth0 speed 100",
		"-G eth0 rx -1", "-G eth0 rx-big 1", "-C eth0 rx-usecs on", "-A eth0 autoneg 1", "-K eth0 tso on tso off",
		"-K eth0/x tso off", "-K eth0 TSO off", "-K eth0 " + strings.Repeat("gro on ", 300)} {
		if _, err := ParseEthtoolOpts(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestEthtoolSupportAndChanges(t *testing.T) {
	es := nicEthtool()
	ok := &EthtoolSettings{Features: map[string]bool{"tso": false, "gro": true}, Ring: map[string]uint32{"rx": 4096},
		Coalesce: map[string]uint32{"rx-usecs": 3}, Pause: map[string]bool{"rx": true}}
	if err := CheckEthtoolSupport("eth0", ok, es); err != nil {
		t.Fatal(err)
	}
	if err := CheckEthtoolSupport("eth0", &EthtoolSettings{Ring: map[string]uint32{"rx-jumbo": 0}}, es); err != nil {
		t.Errorf("rx-jumbo 0 (off) on a NIC without a jumbo ring: %v", err)
	}
	for _, bad := range []*EthtoolSettings{
		{Features: map[string]bool{"lro": true}},     // fixed
		{Features: map[string]bool{"tx": true}},      // no changeable member
		{Features: map[string]bool{"rx-foo": true}},  // unknown
		{Ring: map[string]uint32{"rx": 4097}},        // above the maximum
		{Ring: map[string]uint32{"rx-mini": 1}},      // maximum 0
		{Ring: map[string]uint32{"tx": 0}},           // a ring of nothing
		{Coalesce: map[string]uint32{"tx-usecs": 1}}, // fine on this NIC…
	} {
		err := CheckEthtoolSupport("eth0", bad, es)
		if bad.Coalesce != nil {
			if err != nil {
				t.Errorf("%+v: %v", bad, err)
			}
			noCoalesce := nicEthtool()
			noCoalesce.Coalesce = nil // …not on one without coalescing
			err = CheckEthtoolSupport("eth0", bad, noCoalesce)
		}
		if err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	ch := EthtoolChanges(ok, es)
	if got := strings.Join(ch.Commands("eth0"), "; "); got != "ethtool -K eth0 gro on tso off; ethtool -G eth0 rx 4096" {
		t.Errorf("changes: %s", got)
	}
	if ms := ethtoolMismatches(ok, es); len(ms) != 3 {
		t.Errorf("mismatches: %q", ms)
	}
	// A requested feature the kernel holds off is written again.
	es.Features["tx-tcp6-segmentation"] = FeatureState{Changeable: true, Requested: false, Active: true}
	if ch := EthtoolChanges(&EthtoolSettings{Features: map[string]bool{"tso": true}}, es); ch == nil {
		t.Error("tso with one feature not requested is not written")
	}
}

// A bond attachment's * is its slaves; Merge refuses devices it does not
// own, settings the device cannot take and two networks that disagree.
func TestEthtoolOptsOnBondSlaves(t *testing.T) {
	st := twoNICHost()
	st.Ethtool = map[string]*EthtoolState{}
	for _, n := range []string{"eth0", "eth1", "eth2", "eth3"} {
		st.Ethtool[n] = nicEthtool()
	}
	in := func(cs ChangeSet) MergeInput {
		return MergeInput{Request: cs, Running: &Config{}, Networks: testNetworks(), Kernel: st,
			NicName:         func(string) (string, bool) { return "", false },
			NewAttachmentID: func(netID string) string { return "att-" + netID }, MaxConnectivityTimeout: 120}
	}
	withOpts := func(ac AttachmentChange, opts string) AttachmentChange {
		p := map[string]string{EthtoolOptsProperty: opts}
		ac.Properties = &p
		return ac
	}
	cfg, err := Merge(in(ChangeSet{ModifiedBonds: []BondChange{bond("bond0", "eth0", "eth1")},
		ModifiedAttachments: []AttachmentChange{withOpts(attach("plain", "bond0"), "-K * tso off -G eth1 rx 512")}}))
	if err != nil {
		t.Fatal(err)
	}
	tg := BuildTarget(cfg, testNetworks())
	for dev, want := range map[string]string{"eth0": "ethtool -K eth0 tso off", "eth1": "ethtool -K eth1 tso off; ethtool -G eth1 rx 512"} {
		if got := strings.Join(tg.Device(dev).Ethtool.Commands(dev), "; "); got != want {
			t.Errorf("%s: %s; want %s", dev, got, want)
		}
	}
	if tg.Device("bond0").Ethtool != nil {
		t.Error("the bond got the slaves' settings")
	}
	plan := MakePlan(st, &Target{}, tg)
	var eth []string
	for _, s := range plan {
		if strings.HasPrefix(string(s.Op), "ethtool-") {
			eth = append(eth, s.String())
		}
	}
	if strings.Join(eth, "; ") != "ethtool -K eth0 tso off; ethtool -K eth1 tso off; ethtool -G eth1 rx 512" {
		t.Errorf("ethtool steps: %q", eth)
	}
	for _, tc := range []struct {
		cs   ChangeSet
		want string
	}{
		{ChangeSet{ModifiedAttachments: []AttachmentChange{withOpts(attach("plain", "eth2"), "-K eth3 tso off")}}, "neither"},
		{ChangeSet{ModifiedAttachments: []AttachmentChange{withOpts(attach("plain", "eth2"), "-K eth2 lro on")}}, "cannot change"},
		{ChangeSet{ModifiedAttachments: []AttachmentChange{withOpts(attach("plain", "eth2"), "-G eth2 tx 9999")}}, "outside"},
		{ChangeSet{ModifiedAttachments: []AttachmentChange{withOpts(attach("plain", "eth2"), "-K * gro on"),
			withOpts(attach("v101", "eth2"), "-K eth2 gro off")}}, "disagree"},
	} {
		_, err := Merge(in(tc.cs))
		var re *RuleError
		if err == nil || !asRule(err, &re) || re.Code != CodeBadCustomProperties || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want %s", tc.cs.ModifiedAttachments, err, tc.want)
		}
	}
}

func asRule(err error, re **RuleError) bool {
	r, ok := err.(*RuleError)
	*re = r
	return ok
}
