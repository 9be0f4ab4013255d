package netconf

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// bondOption describes one bonding option hostnetd accepts: its values and
// the modes the kernel allows it in (drivers/net/bonding/bond_options.c).
type bondOption struct {
	name string
	// enum lists the kernel's value names, indexed by their number; nil
	// for numeric and free-form options.
	enum     []string
	min, max int
	modes    []BondMode // nil: every mode
	parse    func(string) (string, bool)
}

var (
	modesAB     = []BondMode{BondActiveBackup, BondBalanceTLB, BondBalanceALB}
	modesNoARP  = []BondMode{BondBalanceRR, BondActiveBackup, BondBalanceXOR, BondBroadcast}
	modes8023AD = []BondMode{Bond8023AD}
)

var bondOptions = []bondOption{
	{name: "miimon", max: 1 << 30},
	{name: "updelay", max: 1 << 30},
	{name: "downdelay", max: 1 << 30},
	{name: "arp_interval", max: 1 << 30, modes: modesNoARP},
	{name: "arp_ip_target", modes: modesNoARP, parse: parseARPTargets},
	{name: "xmit_hash_policy", enum: []string{"layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"}},
	{name: "lacp_rate", enum: []string{"slow", "fast"}, modes: modes8023AD},
	{name: "ad_select", enum: []string{"stable", "bandwidth", "count"}, modes: modes8023AD},
	{name: "fail_over_mac", enum: []string{"none", "active", "follow"}},
	{name: "min_links", max: 1 << 30},
	{name: "primary", modes: modesAB, parse: parsePrimary},
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
	slices.SortFunc(opts, func(a, b BondOption) int { return strings.Compare(a.Name, b.Name) })
	return mode, opts, nil
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

// bondDefaults are the kernel's values for the options hostnetd manages,
// in a new bond of the given mode (read from Debian's 6.1 kernel): miimon
// is 100 in 802.3ad, balance-tlb and balance-alb and 0 otherwise. Options
// invalid in the mode are left out.
func bondDefaults(mode BondMode) []BondOption {
	miimon := "0"
	if mode == Bond8023AD || mode == BondBalanceTLB || mode == BondBalanceALB {
		miimon = "100"
	}
	all := []BondOption{
		{"ad_select", "stable"}, {"arp_interval", "0"}, {"arp_ip_target", ""}, {"downdelay", "0"},
		{"fail_over_mac", "none"}, {"lacp_rate", "slow"}, {"miimon", miimon}, {"min_links", "0"},
		{"primary", ""}, {"updelay", "0"}, {"xmit_hash_policy", "layer2"},
	}
	var out []BondOption
	for _, o := range all {
		if spec, ok := findBondOption(o.Name); ok && spec.allowedIn(mode) {
			out = append(out, o)
		}
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
