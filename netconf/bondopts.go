package netconf

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// bondOption describes one bonding option hostnetd accepts: its values and
// the modes the kernel allows it in. The table is the kernel's own
// (drivers/net/bonding/bond_options.c, as Debian's 6.1 kernel behaves): a
// VM test reads /sys/class/net/BOND/bonding/ and fails on an option that
// is neither here nor in refusedBondOptions.
type bondOption struct {
	name string
	// enum lists the kernel's value names, indexed by their number; nil
	// for numeric and free-form options.
	enum     []string
	min, max int
	modes    []BondMode // nil: every mode
	parse    func(string) (string, bool)
	// def is the kernel's value in a new bond (miimon's depends on the
	// mode, see bondDefaults); "" for an option without a default to go
	// back to (primary and arp_ip_target are cleared by "", ad_actor_system
	// cannot be set back to zero).
	def string
	// downOnly options are taken only while the bond is down
	// (BOND_OPTFLAG_IFDOWN); noSlaves only without slaves
	// (BOND_OPTFLAG_NOSLAVES).
	downOnly, noSlaves bool
	// needsMiimon options are delays counted in miimon periods: the kernel
	// refuses them without MII monitoring and rounds them to its multiple.
	needsMiimon bool
}

var (
	modesAB     = []BondMode{BondActiveBackup, BondBalanceTLB, BondBalanceALB}
	modesNoARP  = []BondMode{BondBalanceRR, BondActiveBackup, BondBalanceXOR, BondBroadcast}
	modes8023AD = []BondMode{Bond8023AD}
	modesTLB    = []BondMode{BondBalanceTLB, BondBalanceALB}
	modesRR     = []BondMode{BondBalanceRR}
	boolean     = []string{"0", "1"}
)

const maxInt = 1<<31 - 1

var bondOptions = []bondOption{
	{name: "ad_actor_sys_prio", min: 1, max: 65535, modes: modes8023AD, def: "65535"},
	{name: "ad_actor_system", modes: modes8023AD, parse: parseActorSystem},
	{name: "ad_select", enum: []string{"stable", "bandwidth", "count"}, def: "stable", downOnly: true},
	{name: "ad_user_port_key", max: 1023, modes: modes8023AD, def: "0", downOnly: true},
	{name: "all_slaves_active", enum: boolean, def: "0"},
	{name: "arp_all_targets", enum: []string{"any", "all"}, def: "any"},
	{name: "arp_interval", max: maxInt, modes: modesNoARP, def: "0"},
	{name: "arp_ip_target", modes: modesNoARP, parse: parseARPTargets},
	{name: "arp_missed_max", min: 1, max: 255, modes: modesNoARP, def: "2"},
	{name: "arp_validate", enum: []string{"none", "active", "backup", "all", "filter", "filter_active", "filter_backup"}, modes: modesNoARP, def: "none"},
	{name: "downdelay", max: maxInt, def: "0", needsMiimon: true},
	{name: "fail_over_mac", enum: []string{"none", "active", "follow"}, def: "none", noSlaves: true},
	{name: "lacp_active", enum: []string{"off", "on"}, modes: modes8023AD, def: "on", downOnly: true},
	{name: "lacp_rate", enum: []string{"slow", "fast"}, modes: modes8023AD, def: "slow", downOnly: true},
	{name: "lp_interval", min: 1, max: maxInt, def: "1"},
	{name: "miimon", max: maxInt},
	{name: "min_links", max: maxInt, def: "0"},
	{name: "num_grat_arp", max: 255, def: "1"},
	{name: "num_unsol_na", max: 255, def: "1"},
	{name: "packets_per_slave", max: 65535, modes: modesRR, def: "1"},
	{name: "peer_notif_delay", max: maxInt, def: "0", needsMiimon: true},
	{name: "primary", modes: modesAB, parse: parsePrimary},
	{name: "primary_reselect", enum: []string{"always", "better", "failure"}, def: "always"},
	{name: "resend_igmp", max: 255, def: "1"},
	{name: "tlb_dynamic_lb", enum: boolean, modes: modesTLB, def: "1", downOnly: true},
	{name: "updelay", max: maxInt, def: "0", needsMiimon: true},
	{name: "use_carrier", enum: boolean, def: "1"},
	{name: "xmit_hash_policy", enum: []string{"layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"}, def: "layer2"},
}

// refusedBondOptions are the bonding driver's other files in sysfs, each
// with the reason a request cannot set it.
var refusedBondOptions = map[string]string{
	"mode":            "the mode is an option of its own, given first",
	"slaves":          "a bond's slaves are the request's slaves element",
	"active_slave":    "the active slave is the kernel's choice at run time; primary states a preference",
	"queue_id":        "a queue id is a setting of each slave, not of the bond",
	"mii_status":      "read-only: the bond's link state",
	"ad_aggregator":   "read-only: the active 802.3ad aggregator",
	"ad_num_ports":    "read-only: the ports of the active aggregator",
	"ad_actor_key":    "read-only: the key 802.3ad derives from speed, duplex and ad_user_port_key",
	"ad_partner_key":  "read-only: the partner's 802.3ad key",
	"ad_partner_mac":  "read-only: the partner's 802.3ad system MAC",
	"ns_ip6_target":   "IPv6 neighbour-solicitation monitoring (Linux 6.0+) is not supported yet",
	"coupled_control": "802.3ad coupled control (Linux 6.10+) is not supported yet",
}

func findBondOption(name string) (*bondOption, bool) {
	for i := range bondOptions {
		if bondOptions[i].name == name {
			return &bondOptions[i], true
		}
	}
	return nil, false
}

// normalize returns the kernel's canonical text of a value: enum names for
// enums given by number or name, decimal integers, sorted target lists.
func (o *bondOption) normalize(v string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch {
	case o.parse != nil:
		return o.parse(v)
	case o.enum != nil:
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(o.enum) {
			return o.enum[n], true
		}
		if slices.Contains(o.enum, v) {
			return v, true
		}
		return "", false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < o.min || n > o.max {
		return "", false
	}
	return strconv.Itoa(n), true
}

func (o *bondOption) allowedIn(m BondMode) bool { return o.modes == nil || slices.Contains(o.modes, m) }

func parseARPTargets(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	parts := strings.Split(v, ",")
	if len(parts) > 16 {
		return "", false
	}
	var addrs []string
	for _, p := range parts {
		a, err := netip.ParseAddr(strings.TrimSpace(p))
		if err != nil || !a.Is4() {
			return "", false
		}
		addrs = append(addrs, a.String())
	}
	slices.Sort(addrs)
	return strings.Join(slices.Compact(addrs), ","), true
}

func parsePrimary(v string) (string, bool) { return v, checkDeviceName(v) }

// parseActorSystem takes the 802.3ad system MAC: a unicast address other
// than zero, which is all the kernel accepts.
func parseActorSystem(v string) (string, bool) {
	hw, err := net.ParseMAC(v)
	if err != nil || len(hw) != 6 || hw[0]&1 != 0 || bytes.Equal(hw, make([]byte, 6)) {
		return "", false
	}
	return hw.String(), true
}

// defaultBondOptions is what the oVirt engine sends for a new bond without
// options (HostSetupNetworksCommand.DEFAULT_BOND_OPTIONS).
var defaultBondOptions = []RawOption{{"mode", "4"}, {"miimon", "100"}, {"xmit_hash_policy", "2"}}

// parseBondOptions validates a complete option set (mode included) and
// returns the mode and the other options in canonical form, sorted by name.
func parseBondOptions(bond string, raw []RawOption) (BondMode, []BondOption, error) {
	mode := BondBalanceRR // the kernel default when no mode is given
	seen := map[string]bool{}
	var opts []BondOption
	var specs []*bondOption
	for _, o := range raw {
		name := strings.ToLower(strings.TrimSpace(o.Name))
		if name == "" {
			return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: an option has no name", bond)
		}
		if seen[name] {
			return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: option %s is given twice", bond, name)
		}
		seen[name] = true
		if name == "mode" {
			m, err := ParseBondMode(o.Value)
			if err != nil {
				return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: %v", bond, err)
			}
			mode = m
			continue
		}
		spec, ok := findBondOption(name)
		if !ok {
			if reason, known := refusedBondOptions[name]; known {
				return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: option %s cannot be set: %s", bond, name, reason)
			}
			return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: unknown bonding option %q", bond, name)
		}
		v, ok := spec.normalize(o.Value)
		if !ok {
			return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: invalid value %q for option %s", bond, o.Value, name)
		}
		opts = append(opts, BondOption{Name: name, Value: v})
		specs = append(specs, spec)
	}
	for i, spec := range specs {
		if !spec.allowedIn(mode) {
			return 0, nil, ruleErr(CodeBadBondingOptionForMode, "bond %s: option %s is not valid in mode %s", bond, opts[i].Name, mode)
		}
	}
	if optValue(opts, "miimon") > 0 && optValue(opts, "arp_interval") > 0 {
		return 0, nil, ruleErr(CodeBadBondingOptionForMode, "bond %s: miimon and arp_interval exclude each other", bond)
	}
	miimon := optValue(opts, "miimon")
	if _, given := BondOptionValue(opts, "miimon"); !given {
		miimon, _ = strconv.Atoi(bondMiimonDefault(mode))
	}
	for i, spec := range specs {
		if d := optValue(opts[i:i+1], spec.name); spec.needsMiimon && d > 0 && (miimon == 0 || d%miimon != 0) {
			return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: %s %d must be a multiple of miimon (%d), which must be set", bond, spec.name, d, miimon)
		}
	}
	// num_grat_arp and num_unsol_na are one setting of the kernel's.
	grat, gratOK := BondOptionValue(opts, "num_grat_arp")
	unsol, unsolOK := BondOptionValue(opts, "num_unsol_na")
	switch {
	case gratOK && unsolOK && grat != unsol:
		return 0, nil, ruleErr(CodeBadBondingOption, "bond %s: num_grat_arp %s and num_unsol_na %s are one setting of the kernel's and must agree", bond, grat, unsol)
	case gratOK && !unsolOK:
		opts = append(opts, BondOption{Name: "num_unsol_na", Value: grat})
	case unsolOK && !gratOK:
		opts = append(opts, BondOption{Name: "num_grat_arp", Value: unsol})
	}
	slices.SortFunc(opts, func(a, b BondOption) int { return strings.Compare(a.Name, b.Name) })
	return mode, opts, nil
}

// bondMiimonDefault is the kernel's miimon in a new bond: 100 in the modes
// that need link monitoring to work at all, 0 otherwise.
func bondMiimonDefault(mode BondMode) string {
	if mode == Bond8023AD || mode == BondBalanceTLB || mode == BondBalanceALB {
		return "100"
	}
	return "0"
}

func optValue(opts []BondOption, name string) int {
	for _, o := range opts {
		if o.Name == name {
			n, _ := strconv.Atoi(o.Value)
			return n
		}
	}
	return 0
}

// BondOptionValue returns the value of the named option and whether it is set.
func BondOptionValue(opts []BondOption, name string) (string, bool) {
	for _, o := range opts {
		if o.Name == name {
			return o.Value, true
		}
	}
	return "", false
}

// bondDefaults are the kernel's values of the options hostnetd manages in
// a new bond of the given mode (read from Debian's 6.1 kernel). Options
// invalid in the mode are left out, and so is ad_actor_system, which the
// kernel cannot set back to its zero default.
func bondDefaults(mode BondMode) []BondOption {
	var out []BondOption
	for _, spec := range bondOptions {
		if !spec.allowedIn(mode) || spec.name == "ad_actor_system" {
			continue
		}
		v := spec.def
		if spec.name == "miimon" {
			v = bondMiimonDefault(mode)
		}
		out = append(out, BondOption{Name: spec.name, Value: v})
	}
	return out
}

// effectiveOptions is the complete option set a bond should have: the
// requested options, and every other option at its mode default, since a
// request's options are the complete set.
func effectiveOptions(b *BondConfig) []BondOption {
	out := bondDefaults(b.Mode)
	for i := range out {
		if v, ok := BondOptionValue(b.Options, out[i].Name); ok {
			out[i].Value = v
		}
	}
	return out
}

// changedOptions lists the options of want whose value the kernel (have,
// in its own notation) does not have. The kernel leaves out arp_ip_target
// and primary when they are empty; any other option it does not report is
// unknown, and not written.
func changedOptions(want, have []BondOption) []BondOption {
	var out []BondOption
	for _, w := range want {
		if _, reported := BondOptionValue(have, w.Name); !reported && w.Name != "arp_ip_target" && w.Name != "primary" {
			continue
		}
		if kernelOptionValue(have, w.Name) != w.Value {
			out = append(out, w)
		}
	}
	return out
}

// BondOptionNames lists the bonding options a request may set, mode aside.
func BondOptionNames() []string {
	names := make([]string, len(bondOptions))
	for i, o := range bondOptions {
		names[i] = o.name
	}
	return names
}

// RefusedBondOption says why a bonding option the kernel has cannot be set
// by a request, or false when it is not one of those.
func RefusedBondOption(name string) (reason string, refused bool) {
	reason, refused = refusedBondOptions[name]
	return reason, refused
}
