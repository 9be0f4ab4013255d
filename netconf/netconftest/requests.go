package netconftest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/hostnetd/hostnetd/netconf"
)

// Random requests, shared by the tests that drive sequences of them (the
// planner's model test, the engine's transition test), so that both walk
// the same ground.

// RandomBond is a request for bond0 or bond1 over two or three of nics,
// with a random option set (or the default one), and its description.
func RandomBond(rng *rand.Rand, nics []string) (netconf.BondChange, string) {
	name := []string{"bond0", "bond1"}[rng.IntN(2)]
	nics = slices.Clone(nics)
	rng.Shuffle(len(nics), func(i, j int) { nics[i], nics[j] = nics[j], nics[i] })
	slaves := nics[:2+rng.IntN(2)]
	refs := make([]netconf.Ref, len(slaves))
	for i, s := range slaves {
		refs[i] = netconf.Ref{Name: s}
	}
	bc := netconf.BondChange{Ref: netconf.Ref{Name: name}, Slaves: &refs}
	opts := []string{"", "mode=1 miimon=100", "mode=4 miimon=100", "mode=2 miimon=200", "mode=1 miimon=100 fail_over_mac=1"}[rng.IntN(5)]
	if opts != "" {
		var raw []netconf.RawOption
		for _, kv := range strings.Fields(opts) {
			k, v, _ := strings.Cut(kv, "=")
			raw = append(raw, netconf.RawOption{Name: k, Value: v})
		}
		bc.Options = &raw
	}
	return bc, fmt.Sprintf("bond %s %v %q", name, slaves, opts)
}

// RandomNetworkEdit is the catalogue nets with one network changed: its
// VLAN tag added or taken away, bridged or not, or another MTU; and its
// description. nets itself is not modified.
func RandomNetworkEdit(rng *rand.Rand, nets []*netconf.Network) ([]*netconf.Network, string) {
	i := rng.IntN(len(nets))
	n := *nets[i]
	n.Usages = slices.Clone(n.Usages)
	var what string
	switch rng.IntN(3) {
	case 0:
		if n.VLAN == nil {
			vid := 100 + i
			n.VLAN = &vid
		} else {
			n.VLAN = nil
		}
		what = fmt.Sprintf("vlan %v", n.VLAN != nil)
	case 1:
		if n.Bridged() {
			n.Usages = nil
		} else {
			n.Usages = []string{netconf.UsageVM}
		}
		what = fmt.Sprintf("bridged %v", n.Bridged())
	default:
		n.MTU = []int{0, 1500, 2000, 9000}[rng.IntN(4)]
		what = fmt.Sprintf("mtu %d", n.MTU)
	}
	out := slices.Clone(nets)
	out[i] = &n
	return out, "edit " + n.Name + " " + what
}

// Catalogue is a network catalogue that covers the kinds of networks:
// bridged and bridgeless, untagged and tagged, at the default MTU and at
// larger ones.
func Catalogue() []*netconf.Network {
	vm := []string{netconf.UsageVM}
	vid := func(n int) *int { return &n }
	return []*netconf.Network{
		{ID: "n-br", Name: "br", Usages: vm},
		{ID: "n-plain", Name: "plain"},
		{ID: "n-v10", Name: "v10", VLAN: vid(10), Usages: vm},
		{ID: "n-v20", Name: "v20", VLAN: vid(20)},
		{ID: "n-v30", Name: "v30", VLAN: vid(30), Usages: vm, MTU: 2000},
		{ID: "n-v40", Name: "v40", VLAN: vid(40), MTU: 9000},
	}
}
