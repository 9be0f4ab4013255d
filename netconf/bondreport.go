package netconf

import (
	"slices"
	"strconv"
	"strings"
)

// EngineBondOptions returns a bond's options, mode excluded, as an oVirt
// engine reports them: VDSM reports the options of a bond that are away
// from the kernel's default for its mode, enumerations by number
// ("mode=4 miimon=100 xmit_hash_policy=2"), and the engine passes that on.
// hostnetd also reports every option the configuration names (cfg, nil for
// a bond it does not manage), even at its default, so that a client that
// compares what it sent with what it reads sees the same set. Values are
// the kernel's, so a drifted option shows its actual value. Sorted by name.
func EngineBondOptions(b *Bond, cfg *BondConfig) []BondOption {
	var out []BondOption
	for _, d := range bondDefaults(b.Mode) {
		if _, reported := BondOptionValue(b.Options, d.Name); !reported {
			// The kernel leaves out arp_ip_target and primary when they
			// are empty; any other option it does not report is unknown.
			continue
		}
		v := kernelOptionValue(b.Options, d.Name)
		_, configured := BondOptionValue(configuredOptions(cfg), d.Name)
		if v == "" || !configured && v == d.Value {
			continue
		}
		out = append(out, BondOption{Name: d.Name, Value: engineOptionValue(d.Name, v)})
	}
	slices.SortFunc(out, func(a, b BondOption) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func configuredOptions(cfg *BondConfig) []BondOption {
	if cfg == nil {
		return nil
	}
	return cfg.Options
}

// engineOptionValue writes an enumeration by its number, as VDSM does
// (xmit_hash_policy=2 for layer2+3); other values are unchanged.
func engineOptionValue(name, v string) string {
	spec, ok := findBondOption(name)
	if !ok || spec.enum == nil {
		return v
	}
	if i := slices.Index(spec.enum, v); i >= 0 {
		return strconv.Itoa(i)
	}
	return v
}
