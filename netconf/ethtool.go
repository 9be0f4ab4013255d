package netconf

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ethtool_opts is an attachment's custom property with the arguments one
// would give the ethtool command, in the syntax of VDSM's ethtool_options
// hook: sections that each start with an option and a device,
//
//	--offload eth0 tso off gro on -G eth0 rx 512 -C * rx-usecs 30 -A eth0 rx off
//
// -K (--offload, --features) sets offload features, by ethtool's short
// names (tso, gro, tx, …), their long ones (tcp-segmentation-offload) or
// the kernel's feature names (tx-checksum-ip-generic); -G (--set-ring)
// ring sizes; -C (--coalesce) interrupt coalescing; -A (--pause) pause
// frames. The device is the attachment's NIC or bond, one of the bond's
// slaves, or * for the bond's slaves (the NIC itself when it is no bond).

// EthtoolOptsProperty is the custom property that carries ethtool settings.
const EthtoolOptsProperty = "ethtool_opts"

// EthtoolSettings are the ethtool settings hostnetd manages on one device.
type EthtoolSettings struct {
	// Features are offloads by ethtool name (a group such as tso, or a
	// kernel feature name), on or off.
	Features map[string]bool `json:",omitempty"`
	// Ring are ring sizes: rx, rx-mini, rx-jumbo, tx.
	Ring map[string]uint32 `json:",omitempty"`
	// Coalesce are coalescing parameters by ethtool -C name;
	// adaptive-rx and adaptive-tx are 1 or 0.
	Coalesce map[string]uint32 `json:",omitempty"`
	// Pause are pause frame settings: autoneg, rx, tx.
	Pause map[string]bool `json:",omitempty"`
}

// EthtoolState is what the kernel reports about one device's ethtool
// settings. A nil map means the driver does not support that group.
type EthtoolState struct {
	Features map[string]FeatureState
	Ring     map[string]uint32
	RingMax  map[string]uint32
	Coalesce map[string]uint32
	Pause    map[string]bool
}

// FeatureState is one kernel offload feature: whether the driver lets it be
// changed, whether it was asked for (ethtool -K) and whether it is on. The
// kernel turns off a requested feature whose dependencies are off (TSO
// without checksumming), and on again when they are back.
type FeatureState struct {
	Changeable bool
	Requested  bool
	Active     bool
}

// Ethtool sections and their option spellings.
const (
	ethtoolOffload  = "-K"
	ethtoolRing     = "-G"
	ethtoolCoalesce = "-C"
	ethtoolPause    = "-A"
)

var ethtoolSections = map[string]string{
	"-K": ethtoolOffload, "--offload": ethtoolOffload, "--features": ethtoolOffload,
	"-G": ethtoolRing, "--set-ring": ethtoolRing,
	"-C": ethtoolCoalesce, "--coalesce": ethtoolCoalesce,
	"-A": ethtoolPause, "--pause": ethtoolPause,
}

// featureGroups are ethtool's short names of offloads, as patterns over the
// kernel's feature names (ethtool's off_flag_def table).
var featureGroups = map[string]string{
	"rx":     "rx-checksum",
	"tx":     "tx-checksum-*",
	"sg":     "tx-scatter-gather*",
	"tso":    "tx-tcp*-segmentation",
	"ufo":    "tx-udp-fragmentation",
	"gso":    "tx-generic-segmentation",
	"gro":    "rx-gro",
	"lro":    "rx-lro",
	"rxvlan": "rx-vlan-hw-parse",
	"txvlan": "tx-vlan-hw-insert",
	"ntuple": "rx-ntuple-filter",
	"rxhash": "rx-hashing",
}

// featureAliases are ethtool's long names of the groups.
var featureAliases = map[string]string{
	"rx-checksumming":              "rx",
	"tx-checksumming":              "tx",
	"scatter-gather":               "sg",
	"tcp-segmentation-offload":     "tso",
	"udp-fragmentation-offload":    "ufo",
	"generic-segmentation-offload": "gso",
	"generic-receive-offload":      "gro",
	"large-receive-offload":        "lro",
	"rx-vlan-offload":              "rxvlan",
	"tx-vlan-offload":              "txvlan",
	"ntuple-filters":               "ntuple",
	"receive-hashing":              "rxhash",
}

// RingKeys are the ring sizes of ethtool -G.
var RingKeys = []string{"rx", "rx-mini", "rx-jumbo", "tx"}

// CoalesceKeys are the parameters of ethtool -C.
var CoalesceKeys = []string{
	"adaptive-rx", "adaptive-tx", "rx-usecs", "rx-frames", "rx-usecs-irq", "rx-frames-irq",
	"tx-usecs", "tx-frames", "tx-usecs-irq", "tx-frames-irq", "stats-block-usecs",
	"pkt-rate-low", "rx-usecs-low", "rx-frames-low", "tx-usecs-low", "tx-frames-low",
	"pkt-rate-high", "rx-usecs-high", "rx-frames-high", "tx-usecs-high", "tx-frames-high",
	"sample-interval",
}

// PauseKeys are the settings of ethtool -A.
var PauseKeys = []string{"autoneg", "rx", "tx"}

// maxEthtoolTokens bounds the words of one ethtool_opts value.
const maxEthtoolTokens = 512

// EthtoolOpts are the parsed settings of one ethtool_opts value, by the
// device named in it ("*" for the slaves of a bond), devices in order.
type EthtoolOpts struct {
	Devices  []string
	Settings map[string]*EthtoolSettings
}

// ParseEthtoolOpts parses an ethtool_opts value. A value that sets the same
// thing twice to different values is refused.
func ParseEthtoolOpts(v string) (*EthtoolOpts, error) {
	tokens := strings.Fields(v)
	if len(tokens) > maxEthtoolTokens {
		return nil, fmt.Errorf("more than %d words", maxEthtoolTokens)
	}
	out := &EthtoolOpts{Settings: map[string]*EthtoolSettings{}}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("it is empty")
	}
	for i := 0; i < len(tokens); {
		section, ok := ethtoolSections[tokens[i]]
		if !ok {
			if strings.HasPrefix(tokens[i], "-") {
				return nil, fmt.Errorf("ethtool option %q is not supported (only -K/--offload/--features, -G/--set-ring, -C/--coalesce, -A/--pause)", tokens[i])
			}
			return nil, fmt.Errorf("%q where an ethtool option was expected", tokens[i])
		}
		if i+1 >= len(tokens) || strings.HasPrefix(tokens[i+1], "-") {
			return nil, fmt.Errorf("%s names no device", tokens[i])
		}
		dev := tokens[i+1]
		if dev != "*" && !checkDeviceName(dev) {
			return nil, fmt.Errorf("%q is not a device name", dev)
		}
		i += 2
		s := out.Settings[dev]
		if s == nil {
			s = &EthtoolSettings{}
			out.Settings[dev] = s
			out.Devices = append(out.Devices, dev)
		}
		n := 0
		for i < len(tokens) && !strings.HasPrefix(tokens[i], "-") {
			if i+1 >= len(tokens) {
				return nil, fmt.Errorf("%s %s: %q has no value", section, dev, tokens[i])
			}
			if err := s.set(section, tokens[i], tokens[i+1]); err != nil {
				return nil, fmt.Errorf("%s %s: %w", section, dev, err)
			}
			i += 2
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("%s %s sets nothing", section, dev)
		}
	}
	return out, nil
}

func parseOnOff(v string) (bool, bool) {
	switch v {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}

// set records one key and value of a section.
func (s *EthtoolSettings) set(section, key, value string) error {
	switch section {
	case ethtoolOffload:
		on, ok := parseOnOff(value)
		if !ok {
			return fmt.Errorf("%s %q: want on or off", key, value)
		}
		if !validFeatureName(key) {
			return fmt.Errorf("%q is not a feature name", key)
		}
		if alias, ok := featureAliases[key]; ok {
			key = alias
		}
		return setOnce(&s.Features, key, on)
	case ethtoolRing:
		if !slices.Contains(RingKeys, key) {
			return fmt.Errorf("unknown ring parameter %q", key)
		}
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			return fmt.Errorf("%s %q: want a number", key, value)
		}
		return setOnce(&s.Ring, key, uint32(n))
	case ethtoolCoalesce:
		if !slices.Contains(CoalesceKeys, key) {
			return fmt.Errorf("unknown coalescing parameter %q", key)
		}
		if strings.HasPrefix(key, "adaptive-") {
			on, ok := parseOnOff(value)
			if !ok {
				return fmt.Errorf("%s %q: want on or off", key, value)
			}
			return setOnce(&s.Coalesce, key, b2u(on))
		}
		n, err := strconv.ParseUint(value, 10, 32)
		if err != nil {
			return fmt.Errorf("%s %q: want a number", key, value)
		}
		return setOnce(&s.Coalesce, key, uint32(n))
	case ethtoolPause:
		if !slices.Contains(PauseKeys, key) {
			return fmt.Errorf("unknown pause parameter %q", key)
		}
		on, ok := parseOnOff(value)
		if !ok {
			return fmt.Errorf("%s %q: want on or off", key, value)
		}
		return setOnce(&s.Pause, key, on)
	}
	return fmt.Errorf("unknown section %s", section)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func validFeatureName(k string) bool {
	if k == "" || len(k) > 32 {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// setOnce sets m[k] = v unless it holds another value.
func setOnce[V comparable](m *map[string]V, k string, v V) error {
	if *m == nil {
		*m = map[string]V{}
	}
	if old, ok := (*m)[k]; ok && old != v {
		return fmt.Errorf("%s is set to two different values", k)
	}
	(*m)[k] = v
	return nil
}

// merge adds o's settings to s, refusing a key set to different values.
func (s *EthtoolSettings) merge(o *EthtoolSettings) error {
	for k, v := range o.Features {
		if err := setOnce(&s.Features, k, v); err != nil {
			return fmt.Errorf("-K %w", err)
		}
	}
	for k, v := range o.Ring {
		if err := setOnce(&s.Ring, k, v); err != nil {
			return fmt.Errorf("-G %w", err)
		}
	}
	for k, v := range o.Coalesce {
		if err := setOnce(&s.Coalesce, k, v); err != nil {
			return fmt.Errorf("-C %w", err)
		}
	}
	for k, v := range o.Pause {
		if err := setOnce(&s.Pause, k, v); err != nil {
			return fmt.Errorf("-A %w", err)
		}
	}
	return nil
}

// Empty reports whether s sets nothing.
func (s *EthtoolSettings) Empty() bool {
	return s == nil || len(s.Features)+len(s.Ring)+len(s.Coalesce)+len(s.Pause) == 0
}

// Clone returns a deep copy of s.
func (s *EthtoolSettings) Clone() *EthtoolSettings {
	if s == nil {
		return nil
	}
	return &EthtoolSettings{Features: maps.Clone(s.Features), Ring: maps.Clone(s.Ring),
		Coalesce: maps.Clone(s.Coalesce), Pause: maps.Clone(s.Pause)}
}

// Commands renders s as the ethtool commands that apply it on dev, one per
// section, keys in a fixed order.
func (s *EthtoolSettings) Commands(dev string) []string {
	var out []string
	if len(s.Features) > 0 {
		out = append(out, "ethtool -K "+dev+renderBools(s.Features))
	}
	if len(s.Ring) > 0 {
		out = append(out, "ethtool -G "+dev+renderNums(s.Ring, RingKeys))
	}
	if len(s.Coalesce) > 0 {
		out = append(out, "ethtool -C "+dev+renderCoalesce(s.Coalesce))
	}
	if len(s.Pause) > 0 {
		out = append(out, "ethtool -A "+dev+renderBools(s.Pause))
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func renderBools(m map[string]bool) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(" " + k + " " + onOff(m[k]))
	}
	return b.String()
}

func renderNums(m map[string]uint32, order []string) string {
	var b strings.Builder
	for _, k := range order {
		if v, ok := m[k]; ok {
			fmt.Fprintf(&b, " %s %d", k, v)
		}
	}
	return b.String()
}

func renderCoalesce(m map[string]uint32) string {
	var b strings.Builder
	for _, k := range CoalesceKeys {
		v, ok := m[k]
		switch {
		case !ok:
		case strings.HasPrefix(k, "adaptive-"):
			b.WriteString(" " + k + " " + onOff(v != 0))
		default:
			fmt.Fprintf(&b, " %s %d", k, v)
		}
	}
	return b.String()
}

// featurePattern is the pattern of kernel feature names an ethtool
// feature key stands for: a group's, or the name itself.
func featurePattern(key string) string {
	if p, ok := featureGroups[key]; ok {
		return p
	}
	return key
}

// FeatureMembers lists the kernel features a key stands for that the
// driver lets change, sorted.
func (es *EthtoolState) FeatureMembers(key string) []string {
	pattern := featurePattern(key)
	var out []string
	for name, f := range es.Features {
		if ok, _ := path.Match(pattern, name); ok && f.Changeable {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// FeatureValue is the kernel's value of a feature key: on or off when all
// its changeable features are, mixed when they differ, unsupported when
// none can change.
func (es *EthtoolState) FeatureValue(key string) string {
	members := es.FeatureMembers(key)
	if len(members) == 0 {
		return "unsupported"
	}
	on := 0
	for _, m := range members {
		if es.Features[m].Active {
			on++
		}
	}
	switch on {
	case 0:
		return "off"
	case len(members):
		return "on"
	}
	return "mixed"
}

// requested reports whether every changeable feature of key is requested
// as v.
func (es *EthtoolState) requested(key string, v bool) bool {
	for _, m := range es.FeatureMembers(key) {
		if es.Features[m].Requested != v {
			return false
		}
	}
	return true
}

// EthtoolChanges is the part of want that the kernel's have differs from;
// have nil (the device is not read yet, or about to be made) changes all.
func EthtoolChanges(want *EthtoolSettings, have *EthtoolState) *EthtoolSettings {
	if want.Empty() {
		return nil
	}
	if have == nil {
		return want.Clone()
	}
	out := &EthtoolSettings{}
	for k, v := range want.Features {
		if have.FeatureValue(k) != onOff(v) || !have.requested(k, v) {
			setOnce(&out.Features, k, v)
		}
	}
	for k, v := range want.Ring {
		if cur, ok := have.Ring[k]; !ok || cur != v {
			setOnce(&out.Ring, k, v)
		}
	}
	for k, v := range want.Coalesce {
		if cur, ok := have.Coalesce[k]; !ok || cur != v {
			setOnce(&out.Coalesce, k, v)
		}
	}
	for k, v := range want.Pause {
		if cur, ok := have.Pause[k]; !ok || cur != v {
			setOnce(&out.Pause, k, v)
		}
	}
	if out.Empty() {
		return nil
	}
	return out
}

// ethtoolActual renders the kernel's values of the keys of want, as
// Commands renders want.
func ethtoolActual(want *EthtoolSettings, have *EthtoolState) map[string]string {
	out := map[string]string{}
	for k := range want.Features {
		out["-K "+k] = have.FeatureValue(k)
	}
	num := func(m map[string]uint32, k string) string {
		if v, ok := m[k]; ok {
			return strconv.FormatUint(uint64(v), 10)
		}
		return "unsupported"
	}
	for k := range want.Ring {
		out["-G "+k] = num(have.Ring, k)
	}
	for k := range want.Coalesce {
		v := num(have.Coalesce, k)
		if strings.HasPrefix(k, "adaptive-") && v != "unsupported" {
			v = onOff(v != "0")
		}
		out["-C "+k] = v
	}
	for k := range want.Pause {
		v := "unsupported"
		if p, ok := have.Pause[k]; ok {
			v = onOff(p)
		}
		out["-A "+k] = v
	}
	return out
}

// ethtoolMismatches lists how the kernel's have differs from want, as
// ethtool -k shows it (what is active).
func ethtoolMismatches(want *EthtoolSettings, have *EthtoolState) []string {
	if want.Empty() {
		return nil
	}
	if have == nil {
		return []string{"ethtool settings unreadable"}
	}
	actual := ethtoolActual(want, have)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(actual)) {
		if w := ethtoolWanted(want, k); w != actual[k] {
			out = append(out, fmt.Sprintf("%s: desired %s, current %s", k, w, actual[k]))
		}
	}
	return out
}

// ethtoolWanted renders the wanted value of a key of ethtoolActual.
func ethtoolWanted(want *EthtoolSettings, key string) string {
	section, k, _ := strings.Cut(key, " ")
	switch section {
	case "-K":
		return onOff(want.Features[k])
	case "-G":
		return strconv.FormatUint(uint64(want.Ring[k]), 10)
	case "-C":
		if strings.HasPrefix(k, "adaptive-") {
			return onOff(want.Coalesce[k] != 0)
		}
		return strconv.FormatUint(uint64(want.Coalesce[k]), 10)
	}
	return onOff(want.Pause[k])
}

// ethtoolTargets resolves the ethtool_opts of an attachment to settings by
// device: * is the slaves of the bond the attachment sits on (slaves), or
// its NIC. A value that does not parse gives nothing (Merge refuses it).
func ethtoolTargets(a Attachment, slaves []string) map[string]*EthtoolSettings {
	v, ok := a.Properties[EthtoolOptsProperty]
	if !ok {
		return nil
	}
	opts, err := ParseEthtoolOpts(v)
	if err != nil {
		return nil
	}
	out := map[string]*EthtoolSettings{}
	add := func(dev string, s *EthtoolSettings) {
		if out[dev] == nil {
			out[dev] = &EthtoolSettings{}
		}
		_ = out[dev].merge(s)
	}
	for _, dev := range opts.Devices {
		s := opts.Settings[dev]
		if dev != "*" {
			add(dev, s)
			continue
		}
		if len(slaves) == 0 {
			add(a.Nic, s)
		}
		for _, sl := range slaves {
			add(sl, s)
		}
	}
	return out
}

// checkEthtoolDevices refuses an ethtool_opts that names a device other
// than the attachment's NIC or bond, or one of its slaves.
func checkEthtoolDevices(net *Network, a Attachment, slaves []string) error {
	opts, err := ParseEthtoolOpts(a.Properties[EthtoolOptsProperty])
	if err != nil {
		return ruleErr(CodeBadCustomProperties, "network %s: bad ethtool_opts: %v", net.Name, err)
	}
	for _, dev := range opts.Devices {
		if dev != "*" && dev != a.Nic && !slices.Contains(slaves, dev) {
			return ruleErr(CodeBadCustomProperties, "network %s: ethtool_opts names %s, which is neither %s nor one of its slaves", net.Name, dev, a.Nic)
		}
	}
	return nil
}

// CheckEthtoolSupport refuses settings the device cannot take: an offload
// it cannot change, ring sizes above its maxima, or a group its driver
// does not support at all.
func CheckEthtoolSupport(dev string, s *EthtoolSettings, es *EthtoolState) error {
	if es == nil {
		return fmt.Errorf("%s: its ethtool settings cannot be read", dev)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Features)) {
		if len(es.FeatureMembers(k)) == 0 {
			if _, group := featureGroups[k]; !group {
				if _, known := es.Features[k]; !known {
					return fmt.Errorf("%s has no offload feature %s", dev, k)
				}
			}
			return fmt.Errorf("%s cannot change offload %s (fixed or unsupported)", dev, k)
		}
	}
	if len(s.Ring) > 0 && es.RingMax == nil {
		return fmt.Errorf("%s does not support setting ring sizes (-G)", dev)
	}
	for _, k := range RingKeys {
		if v, ok := s.Ring[k]; ok {
			low := uint32(0) // rx-mini and rx-jumbo 0 turn those rings off
			if k == "rx" || k == "tx" {
				low = 1
			}
			if limit := es.RingMax[k]; v < low || v > limit {
				return fmt.Errorf("%s: ring %s %d is outside %d..%d", dev, k, v, low, limit)
			}
		}
	}
	if len(s.Coalesce) > 0 && es.Coalesce == nil {
		return fmt.Errorf("%s does not support interrupt coalescing (-C)", dev)
	}
	if len(s.Pause) > 0 && es.Pause == nil {
		return fmt.Errorf("%s does not support pause frame settings (-A)", dev)
	}
	return nil
}

// EthtoolDevices names the devices of the targets with ethtool settings.
func EthtoolDevices(targets ...*Target) []string {
	var names []string
	for _, t := range targets {
		if t == nil {
			continue
		}
		for _, d := range t.Devices {
			if !d.Ethtool.Empty() && !slices.Contains(names, d.Name) {
				names = append(names, d.Name)
			}
		}
	}
	return names
}

// SnapshotEthtool gives the devices of a snapshot target the kernel's
// current values (st) of every ethtool setting the targets manage on them,
// so that planning towards the snapshot restores them exactly. Offload
// groups are captured feature by feature, as requested: the kernel derives
// what is active from the requests.
func SnapshotEthtool(snap *Target, st *State, targets ...*Target) {
	for _, d := range snap.Devices {
		have := st.Ethtool[d.Name]
		if have == nil {
			continue
		}
		out := &EthtoolSettings{}
		for _, t := range targets {
			td := t.Device(d.Name)
			if td == nil || td.Ethtool.Empty() {
				continue
			}
			for k := range td.Ethtool.Features {
				for _, m := range have.FeatureMembers(k) {
					setOnce(&out.Features, m, have.Features[m].Requested)
				}
			}
			for k := range td.Ethtool.Ring {
				if v, ok := have.Ring[k]; ok {
					setOnce(&out.Ring, k, v)
				}
			}
			for k := range td.Ethtool.Coalesce {
				if v, ok := have.Coalesce[k]; ok {
					setOnce(&out.Coalesce, k, v)
				}
			}
			for k := range td.Ethtool.Pause {
				if v, ok := have.Pause[k]; ok {
					setOnce(&out.Pause, k, v)
				}
			}
		}
		if !out.Empty() {
			d.Ethtool = out
		}
	}
}

// ReportedEthtoolOpts is hostnetd's reported_configuration name for the
// ethtool settings of an attachment's devices (its ethtool_opts).
const ReportedEthtoolOpts = "ethtool_opts"

// ethtoolDrift compares the ethtool settings an attachment asks for with
// the kernel's: both sides as the ethtool commands that set them, devices
// by name.
func ethtoolDrift(a Attachment, slaves []string, st *State) (Reported, bool) {
	targets := ethtoolTargets(a, slaves)
	if len(targets) == 0 {
		return Reported{}, false
	}
	var expected, actual []string
	for _, dev := range slices.Sorted(maps.Keys(targets)) {
		want := targets[dev]
		expected = append(expected, want.Commands(dev)...)
		have := st.Ethtool[dev]
		if have == nil {
			actual = append(actual, "ethtool "+dev+" unknown")
			continue
		}
		actual = append(actual, renderActual(dev, want, have)...)
	}
	r := Reported{Name: ReportedEthtoolOpts, Expected: strings.Join(expected, "; "), Actual: strings.Join(actual, "; ")}
	r.InSync = r.Expected == r.Actual
	return r, true
}

// renderActual renders the kernel's values of want's keys as Commands
// renders want's.
func renderActual(dev string, want *EthtoolSettings, have *EthtoolState) []string {
	actual := ethtoolActual(want, have)
	var out []string
	for _, sec := range []struct {
		flag string
		keys []string
	}{
		{"-K", slices.Sorted(maps.Keys(want.Features))},
		{"-G", orderedKeys(want.Ring, RingKeys)},
		{"-C", orderedKeys(want.Coalesce, CoalesceKeys)},
		{"-A", slices.Sorted(maps.Keys(want.Pause))},
	} {
		if len(sec.keys) == 0 {
			continue
		}
		var b strings.Builder
		b.WriteString("ethtool " + sec.flag + " " + dev)
		for _, k := range sec.keys {
			b.WriteString(" " + k + " " + actual[sec.flag+" "+k])
		}
		out = append(out, b.String())
	}
	return out
}

func orderedKeys(m map[string]uint32, order []string) []string {
	var out []string
	for _, k := range order {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// checkEthtool validates the ethtool_opts of the configuration: devices
// the attachment may name, no two attachments setting one thing to
// different values, and, for the attachments the request touches, every
// setting one the device supports, read from the kernel before the first
// write.
func (m *merger) checkEthtool() error {
	perDev := map[string]*EthtoolSettings{}
	for _, a := range m.cfg.Attachments {
		if _, ok := a.Properties[EthtoolOptsProperty]; !ok {
			continue
		}
		net := m.network(a.NetworkID)
		slaves := bondSlaves(m.cfg, a.Nic)
		if err := checkEthtoolDevices(net, a, slaves); err != nil {
			return err
		}
		check := m.touchedNets[a.NetworkID] || m.namedBonds[a.Nic]
		targets := ethtoolTargets(a, slaves)
		for _, dev := range slices.Sorted(maps.Keys(targets)) {
			s := targets[dev]
			if perDev[dev] == nil {
				perDev[dev] = &EthtoolSettings{}
			}
			if err := perDev[dev].merge(s); err != nil {
				return conflictErr(CodeBadCustomProperties, "network %s: its ethtool_opts for %s disagree with another network's: %v", net.Name, dev, err)
			}
			if !check {
				continue
			}
			if err := m.checkEthtoolSupport(dev, s); err != nil {
				return ruleErr(CodeBadCustomProperties, "network %s: ethtool_opts: %v", net.Name, err)
			}
		}
	}
	return nil
}

func (m *merger) checkEthtoolSupport(dev string, s *EthtoolSettings) error {
	if _, ok := m.nic(dev); !ok {
		return fmt.Errorf("%s does not exist yet; its ethtool settings can be given once it does", dev)
	}
	var es *EthtoolState
	if m.in.Ethtool != nil {
		var err error
		if es, err = m.in.Ethtool(dev); err != nil {
			return fmt.Errorf("%s: reading its ethtool settings: %v", dev, err)
		}
	} else {
		es = m.in.Kernel.Ethtool[dev]
	}
	return CheckEthtoolSupport(dev, s, es)
}
