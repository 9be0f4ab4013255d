package netconf

// The kernel's rules for bonding options and routes, exported for a
// simulated kernel (netconf/netconftest) that must take and refuse what
// Linux does, with the same tables the planner follows.

// BondDefaults are the kernel's values of the options hostnetd manages in
// a new bond of the given mode.
func BondDefaults(mode BondMode) []BondOption { return bondDefaults(mode) }

// BondOptionRule is how the kernel takes one bonding option.
type BondOptionRule struct {
	// DownOnly options are taken only while the bond is down, NoSlaves
	// ones only while it has no slaves.
	DownOnly, NoSlaves bool
	spec               *bondOption
}

// LookupBondOption returns the kernel's rule for the named option; false
// for an option hostnetd does not know.
func LookupBondOption(name string) (BondOptionRule, bool) {
	spec, ok := findBondOption(name)
	if !ok {
		return BondOptionRule{}, false
	}
	return BondOptionRule{DownOnly: spec.downOnly, NoSlaves: spec.noSlaves, spec: spec}, true
}

// Normalize returns a value as the kernel reports it back (enum names,
// decimal integers, sorted lists); false when the kernel refuses it.
func (r BondOptionRule) Normalize(v string) (string, bool) { return r.spec.normalize(v) }

// SameRoute reports whether two routes are the same route to the kernel
// as configuration sets it: destination, gateway, link and table.
func SameRoute(a, b Route) bool { return sameRoute(a, b) }
