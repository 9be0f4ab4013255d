package netconf

import (
	"errors"
	"strings"
	"testing"
)

func TestParseQoS(t *testing.T) {
	q, err := ParseQoS("x", RawQoS{Type: "HostNetwork", Linkshare: "50", Upperlimit: "100", Realtime: "100"}, CodeQoSMissingValues)
	if err != nil || *q.Linkshare != 50 || *q.Upperlimit != 100 || *q.Realtime != 100 {
		t.Fatalf("%+v, %v", q, err)
	}
	for raw, code := range map[RawQoS]string{
		{Upperlimit: "10"}:                                 CodeQoSSetupNetworksMissingValues,
		{Linkshare: "0"}:                                   CodeQoSOutOfRange,
		{Linkshare: "101"}:                                 CodeQoSOutOfRange,
		{Linkshare: "1", Upperlimit: "4295"}:               CodeQoSOutOfRange,
		{Linkshare: "1", Realtime: "x"}:                    CodeQoSOutOfRange,
		{Linkshare: "1", Upperlimit: "10", Realtime: "11"}: CodeQoSInconsistentValues,
		{Type: "storage", Linkshare: "1"}:                  CodeQoSTypeNotSupported,
	} {
		_, err := ParseQoS("x", raw, CodeQoSSetupNetworksMissingValues)
		var re *RuleError
		if !errors.As(err, &re) || re.Code != code {
			t.Errorf("%+v: %v; want %s", raw, err, code)
		}
	}
}

// TestKernelRateIsExact: the rates hostnetd asks for come back unchanged
// through HFSC's slope, so verification and drift compare them as they are.
func TestKernelRateIsExact(t *testing.T) {
	for share := uint64(1); share <= MaxQoSLinkshare; share++ {
		if got := kernelRate(share * 8); uint64(got) != share*8 {
			t.Fatalf("share %d: %d bit/s back", share, got)
		}
	}
	for _, mbps := range []uint64{1, 10, 40, 100, 999, 1000, 4294} {
		if got := kernelRate(mbps * 1_000_000); uint64(got) != mbps*1_000_000 {
			t.Errorf("%d Mbps: %d bit/s back", mbps, got)
		}
	}
}

func qosNetworks() []*Network {
	ls := func(n int) *HostNetworkQoS {
		return &HostNetworkQoS{ID: "q", Name: "gold", Linkshare: vid(n), Upperlimit: vid(100)}
	}
	return []*Network{
		{ID: "n-a", Name: "a", VLAN: vid(100), QoS: ls(50)},
		{ID: "n-b", Name: "b", VLAN: vid(200)},
		{ID: "n-u", Name: "u", QoS: ls(20)},
		{ID: "n-plain", Name: "plain"},
	}
}

func qosMerge(st *State, running *Config, acs ...AttachmentChange) (*Config, error) {
	return Merge(MergeInput{Request: ChangeSet{ModifiedAttachments: acs}, Running: running, Networks: qosNetworks(), Kernel: st,
		NicName:         func(string) (string, bool) { return "", false },
		NewAttachmentID: func(netID string) string { return "att-" + netID }, MaxConnectivityTimeout: 120})
}

func withQoS(ac AttachmentChange, ls, ul string) AttachmentChange {
	ac.QoS = &RawQoS{Linkshare: ls, Upperlimit: ul}
	return ac
}

// TestQoSTargetAndPlan: VDSM's layout on the NIC, the steps from the
// kernel's default qdisc, none when the kernel matches, a class change in
// place, a class made again when a curve goes, and a network's removal
// taking its filter and class, then the last one's the root qdisc.
func TestQoSTargetAndPlan(t *testing.T) {
	st := twoNICHost()
	cfg, err := qosMerge(st, &Config{}, attach("a", "eth0"), withQoS(attach("b", "eth0"), "10", ""))
	if err != nil {
		t.Fatal(err)
	}
	tg := BuildTarget(cfg, qosNetworks())
	q := tg.Device("eth0").QoS
	want := []QoSClass{{ID: 100, LS: 400, UL: 100_000_000, Leaf: "fq_codel"}, {ID: 200, LS: 80, Leaf: "fq_codel"}, {ID: 0x1388, LS: 400, Leaf: "fq_codel"}}
	if len(q.Classes) != 3 || q.Classes[0] != want[0] || q.Classes[1] != want[1] || q.Classes[2] != want[2] {
		t.Fatalf("classes %+v", q.Classes)
	}
	if len(q.Filters) != 3 || q.Filters[0] != (QoSFilter{100, 100, 100}) || q.Filters[2] != (QoSFilter{5000, QoSMatchAll, 0x1388}) {
		t.Fatalf("filters %+v", q.Filters)
	}
	st.QoS = map[string]*QoSState{"eth0": {RootKind: "noqueue"}}
	var cmds []string
	for _, s := range MakePlan(st, &Target{}, tg) {
		if strings.HasPrefix(string(s.Op), "qos-") {
			cmds = append(cmds, s.String())
		}
	}
	wantCmds := []string{
		"tc qdisc add dev eth0 root handle 1389: hfsc default 1388",
		"tc class add dev eth0 parent 1389: classid 1389:64 hfsc ls m2 400bit ul m2 100000000bit",
		"tc qdisc add dev eth0 parent 1389:64 handle 64: fq_codel",
		"tc class add dev eth0 parent 1389: classid 1389:c8 hfsc ls m2 80bit",
		"tc qdisc add dev eth0 parent 1389:c8 handle c8: fq_codel",
		"tc class add dev eth0 parent 1389: classid 1389:1388 hfsc ls m2 400bit",
		"tc qdisc add dev eth0 parent 1389:1388 handle 1388: fq_codel",
		"tc filter add dev eth0 parent 1389: protocol all pref 100 basic match 'meta(vlan eq 100)' flowid 1389:64",
		"tc filter add dev eth0 parent 1389: protocol all pref 200 basic match 'meta(vlan eq 200)' flowid 1389:c8",
		"tc filter add dev eth0 parent 1389: protocol all pref 5000 u32 match u8 0 0 flowid 1389:1388",
	}
	if strings.Join(cmds, "\n") != strings.Join(wantCmds, "\n") {
		t.Errorf("plan\n%s\nwant\n%s", strings.Join(cmds, "\n"), strings.Join(wantCmds, "\n"))
	}
	applied := &QoSState{RootKind: "hfsc", RootHandle: QoSRootMajor << 16, DefaultClass: QoSDefaultClass, Classes: q.Classes, Filters: q.Filters}
	if p := QoSSteps("eth0", q, applied); len(p) != 0 {
		t.Errorf("steps against a matching kernel: %v", p)
	}
	st.QoS["eth0"] = applied
	if err := VerifyScoped(&Target{}, tg, st, []string{"eth0"}); err != nil {
		t.Errorf("verify: %v", err)
	}
	for _, r := range AttachmentDrift(cfg, cfg.Attachments[0], qosNetworks()[0], st) {
		if strings.HasPrefix(r.Name, "outAverage") && !r.InSync {
			t.Errorf("drift: %+v", r)
		}
	}

	changed := *q
	changed.Classes = []QoSClass{{ID: 100, LS: 800, UL: 100_000_000, Leaf: "fq_codel"}, {ID: 200, LS: 80, UL: 8_000_000, Leaf: "fq_codel"}, q.Classes[2]}
	if got := QoSSteps("eth0", &changed, applied).String(); got != strings.Join([]string{
		"tc filter del dev eth0 parent 1389: pref 200",
		"tc class del dev eth0 classid 1389:c8",
		"tc class change dev eth0 parent 1389: classid 1389:64 hfsc ls m2 800bit ul m2 100000000bit",
		"tc class add dev eth0 parent 1389: classid 1389:c8 hfsc ls m2 80bit ul m2 8000000bit",
		"tc qdisc add dev eth0 parent 1389:c8 handle c8: fq_codel",
		"tc filter add dev eth0 parent 1389: protocol all pref 200 basic match 'meta(vlan eq 200)' flowid 1389:c8", ""}, "\n") {
		t.Errorf("a change in place and a curve added:\n%s", got)
	}
	st.QoS["eth0"] = &QoSState{RootKind: "hfsc", RootHandle: QoSRootMajor << 16, DefaultClass: QoSDefaultClass, Classes: changed.Classes, Filters: q.Filters}
	if err := VerifyScoped(&Target{}, tg, st, []string{"eth0"}); err == nil || !strings.Contains(err.Error(), "eth0.qos classes") {
		t.Errorf("verify of a changed class: %v", err)
	}
	st.QoS["eth0"] = applied

	one, err := qosMerge(st, cfg, attach("a", "eth0"))
	if err != nil {
		t.Fatal(err)
	}
	one.Attachments = one.Attachments[:1] // b removed
	t1 := BuildTarget(one, qosNetworks())
	if got := QoSSteps("eth0", t1.Device("eth0").QoS, applied).String(); got != "tc filter del dev eth0 parent 1389: pref 200\ntc class del dev eth0 classid 1389:c8\n" {
		t.Errorf("a network's removal:\n%s", got)
	}
	none := BuildTarget(&Config{Attachments: []Attachment{{ID: "p", NetworkID: "n-plain", Nic: "eth0"}}}, qosNetworks())
	if got := MakePlan(st, tg, none); !strings.Contains(got.String(), "tc qdisc del dev eth0 root\n") {
		t.Errorf("the last shaped network's removal leaves the root qdisc:\n%s", got)
	}
	if got := MakePlan(st, tg, &Target{}); !strings.Contains(got.String(), "tc qdisc del dev eth0 root\n") {
		t.Errorf("eth0 leaving management keeps hostnetd's root qdisc:\n%s", got)
	}
	snap := SnapshotTarget(&State{Links: st.Links, QoS: map[string]*QoSState{"eth0": {RootKind: "noqueue"}}}, []string{"eth0"})
	if got := MakePlan(st, tg, snap); !strings.Contains(got.String(), "tc qdisc del dev eth0 root\n") {
		t.Errorf("rolling back to a default qdisc:\n%s", got)
	}
}

// TestQoSDrift: a class changed behind hostnetd's back is reported with the
// engine's names and units.
func TestQoSDrift(t *testing.T) {
	nets := qosNetworks()
	a := Attachment{ID: "x", NetworkID: "n-a", Nic: "eth0"}
	st := twoNICHost()
	st.QoS = map[string]*QoSState{"eth0": {RootKind: "hfsc", RootHandle: QoSRootMajor << 16, DefaultClass: QoSDefaultClass,
		Classes: []QoSClass{{ID: 100, LS: 800, UL: 100_000_000}}}}
	got := map[string]Reported{}
	cfg := &Config{Attachments: []Attachment{a}}
	for _, r := range AttachmentDrift(cfg, a, nets[0], st) {
		got[r.Name] = r
	}
	if r := got[ReportedQoSLinkshare]; r.InSync || r.Expected != "50" || r.Actual != "100" {
		t.Errorf("link share: %+v", r)
	}
	if r := got[ReportedQoSUpperlimit]; !r.InSync || r.Actual != "100" {
		t.Errorf("upper limit: %+v", r)
	}
	if r := got[ReportedQoSRealtime]; !r.InSync || r.Expected != "" {
		t.Errorf("real time: %+v", r)
	}
	st.QoS["eth0"] = &QoSState{RootKind: "noqueue"}
	for _, r := range AttachmentDrift(cfg, a, nets[0], st) {
		if r.Name == ReportedQoSLinkshare && (r.InSync || r.Actual != "") {
			t.Errorf("a lost class: %+v", r)
		}
	}
}

// TestQoSMergeRules: the engine's rule on mixed interfaces, and the refusals
// before any write: a kernel without HFSC, a root qdisc of someone else's.
func TestQoSMergeRules(t *testing.T) {
	st := twoNICHost()
	_, err := qosMerge(st, &Config{}, attach("a", "eth0"), attach("b", "eth0"))
	var re *RuleError
	if !errors.As(err, &re) || re.Code != CodeQoSInterfacesWithoutQoS {
		t.Errorf("mixed interface: %v", err)
	}
	if _, err := qosMerge(st, &Config{}, attach("a", "eth0"), withQoS(attach("b", "eth0"), "5", "")); err != nil {
		t.Errorf("every network with a QoS: %v", err)
	}
	cfg, err := qosMerge(st, &Config{}, withQoS(attach("plain", "eth1"), "5", "7"))
	if err != nil || cfg.Attachments[0].QoS == nil || *cfg.Attachments[0].QoS.Upperlimit != 7 {
		t.Fatalf("override: %+v %v", cfg, err)
	}
	cfg, err = qosMerge(st, cfg, AttachmentChange{Network: &Ref{Name: "plain"}, QoS: &RawQoS{}})
	if err != nil || cfg.Attachments[0].QoS != nil {
		t.Errorf("an empty qos removes the override: %+v %v", cfg.Attachments[0].QoS, err)
	}
	in := MergeInput{Request: ChangeSet{ModifiedAttachments: []AttachmentChange{attach("u", "eth2")}}, Running: &Config{}, Networks: qosNetworks(), Kernel: st,
		NicName:         func(string) (string, bool) { return "", false },
		NewAttachmentID: func(netID string) string { return "att-" + netID }, MaxConnectivityTimeout: 120,
		QoSSupported: func() error { return errors.New("the kernel has no hfsc scheduler (sch_hfsc)") }}
	if _, err := Merge(in); !errors.As(err, &re) || re.Code != CodeQoSNotSupported || !strings.Contains(err.Error(), "sch_hfsc") {
		t.Errorf("no HFSC: %v", err)
	}
	in.QoSSupported = nil
	in.QoS = func(string) (*QoSState, error) { return &QoSState{RootKind: "tbf", RootHandle: 0x8001 << 16}, nil }
	if _, err := Merge(in); !errors.As(err, &re) || re.Code != CodeQoSNotSupported || !re.Conflict || !strings.Contains(err.Error(), "tbf 8001:") {
		t.Errorf("a foreign root qdisc: %v", err)
	}
}
