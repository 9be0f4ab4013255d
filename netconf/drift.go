package netconf

import (
	"net"
	"slices"
	"strconv"
	"strings"
)

// Reported is one field of an attachment as configured and as the kernel
// has it (oVirt's reported_configuration).
type Reported struct {
	Name     string
	Expected string
	Actual   string
	InSync   bool
}

// Drift compares an attachment with the kernel, field by field, in
// canonical form (MTU 0 is 1500, IPv6 compressed, netmask as the engine
// writes it, gateways looked up in the network's own table too), so that a
// host that matches its configuration is never reported out of sync. A DHCP
// network whose lease is still pending is in sync.
func Drift(a Attachment, net *Network, st *State) []Reported {
	return drift(a, net, st, func(master string) []string { return HostPorts(st)[master] }, st.Gateways)
}

// drift is Drift with the host interfaces of a bridge from ports and the
// default routes from gateways, which a DriftCache indexes once for all
// attachments.
func drift(a Attachment, net *Network, st *State, ports func(master string) []string, gateways func() Gateways) []Reported {
	var out []Reported
	add := func(name, expected, actual string) {
		out = append(out, Reported{Name: name, Expected: expected, Actual: actual, InSync: expected == actual})
	}
	topName := TopDevice(a, net)
	top, topOK := st.Link(topName)
	carrier := a.Nic
	if net.VLAN != nil {
		carrier = VLANDeviceName(a.Nic, *net.VLAN)
	}
	c, carrierOK := st.Link(carrier)

	actualMTU := "absent"
	if topOK {
		actualMTU = strconv.Itoa(top.MTU)
	}
	add("mtu", strconv.Itoa(net.EffectiveMTU()), actualMTU)
	bridged := carrierOK && net.Bridged() && c.Master == net.Name && topOK && top.Kind == KindBridge
	if carrierOK && !net.Bridged() && c.Master != "" {
		// A bridgeless network whose device sits in a bridge is bridged
		// all the same: the bridge takes its traffic.
		m, ok := st.Link(c.Master)
		bridged = ok && m.Kind == KindBridge
	}
	add("bridged", strconv.FormatBool(net.Bridged()), strconv.FormatBool(bridged))
	if net.Bridged() && topOK && top.Kind == KindBridge {
		add(ReportedBridgePorts, carrier, strings.Join(ports(net.Name), " "))
	}
	expectedVLAN, actualVLAN := "", ""
	if net.VLAN != nil {
		expectedVLAN = strconv.Itoa(*net.VLAN)
	}
	if carrierOK && c.VLAN != nil {
		actualVLAN = strconv.Itoa(c.VLAN.ID)
	}
	add("vlan", expectedVLAN, actualVLAN)
	if !topOK {
		return out
	}
	for _, fam := range []struct {
		prefix string
		cfg    IPConfig
		family int
	}{{"ipv4", a.IPv4, 4}, {"ipv6", a.IPv6, 6}} {
		primary := primaryAddr(top, fam.family)
		actualProto := string(BootNone)
		if primary != nil {
			actualProto = string(BootStatic)
			if primary.Dynamic {
				actualProto = string(BootDHCP)
			}
		}
		expectedProto := string(fam.cfg.Method)
		if fam.cfg.Method != BootStatic && fam.cfg.Method != BootNone {
			// Dynamic methods: a lease may be pending, and SLAAC and DHCPv6
			// look alike; the address is the server's to choose.
			if primary == nil || primary.Dynamic {
				actualProto = expectedProto
			}
		}
		add(fam.prefix+"_boot_protocol", expectedProto, actualProto)
		if fam.cfg.Method != BootStatic || len(fam.cfg.Addrs) == 0 {
			continue
		}
		want := fam.cfg.Addrs[0]
		actualAddr, actualMask := "", ""
		if primary != nil {
			actualAddr, actualMask = primary.Prefix.Addr().String(), maskText(primary.Prefix.Bits(), fam.family)
		}
		maskName := map[int]string{4: "ipv4_netmask", 6: "ipv6_prefix"}[fam.family]
		add(fam.prefix+"_address", want.Addr().String(), actualAddr)
		add(maskName, maskText(want.Bits(), fam.family), actualMask)
		if fam.cfg.Gateway.IsValid() {
			gw, _ := gateways().Default(topName, fam.family)
			actualGW := ""
			if gw.IsValid() {
				actualGW = gw.String()
			}
			add(fam.prefix+"_gateway", fam.cfg.Gateway.String(), actualGW)
		}
	}
	if net.HasUsage(UsageDefaultRoute) && a.IPv4.Method == BootStatic && a.IPv4.Gateway.IsValid() {
		add("default_route", "true", strconv.FormatBool(gateways().OwnsDefaultRoute(topName)))
	}
	return out
}

// ReportedBondingOptions is hostnetd's reported_configuration name for the
// options of the bond an attachment sits on: the engine's list has none, but
// a bond option changed behind hostnetd's back changes how the network is
// carried, and a sync puts it back.
const ReportedBondingOptions = "bonding_options"

// ReportedBondSlaves is hostnetd's reported_configuration name for the
// slaves of the bond an attachment sits on: a slave released behind
// hostnetd's back leaves the network up on one leg, silently, and a sync
// enslaves it again.
const ReportedBondSlaves = "bond_slaves"

// ReportedBridgePorts is hostnetd's reported_configuration name for the
// host interfaces in a VM network's bridge: exactly its NIC, bond or VLAN
// device. Another one there (a bond whose network became tagged, a NIC
// enslaved by hand) bridges that device's traffic into the VM network.
// Guest ports (taps) are not listed.
const ReportedBridgePorts = "bridge_ports"

// AttachmentDrift is Drift, plus the options and slaves of the
// attachment's bond when it sits on one that the configuration holds.
func AttachmentDrift(cfg *Config, a Attachment, net *Network, st *State) []Reported {
	return NewDriftCache(cfg, st).AttachmentDrift(a, net)
}

// DriftCache computes AttachmentDrift for the attachments of one
// configuration against one state, each bond's drift once: a thousand
// VLAN networks on a bond would compare its options a thousand times.
type DriftCache struct {
	cfg   *Config
	st    *State
	bonds map[string][]Reported
	ports map[string][]string // HostPorts, made on first use
	gws   Gateways            // made on first use
}

// NewDriftCache starts a cache for cfg and st.
func NewDriftCache(cfg *Config, st *State) *DriftCache {
	return &DriftCache{cfg: cfg, st: st, bonds: map[string][]Reported{}}
}

// AttachmentDrift is the package's AttachmentDrift with the cache's
// configuration and state.
func (c *DriftCache) AttachmentDrift(a Attachment, net *Network) []Reported {
	out := drift(a, net, c.st, func(master string) []string {
		if c.ports == nil {
			c.ports = HostPorts(c.st)
		}
		return c.ports[master]
	}, func() Gateways {
		if c.gws == nil {
			c.gws = c.st.Gateways()
		}
		return c.gws
	})
	for i := range c.cfg.Bonds {
		b := &c.cfg.Bonds[i]
		if b.Name != a.Nic {
			continue
		}
		r, ok := c.bonds[b.Name]
		if !ok {
			r = []Reported{BondDrift(b, c.st), BondSlavesDrift(b, c.st)}
			c.bonds[b.Name] = r
		}
		out = append(out, r...)
	}
	if r, ok := ethtoolDrift(a, bondSlaves(c.cfg, a.Nic), c.st); ok {
		out = append(out, r)
	}
	out = append(out, qosDrift(a, net, c.st)...)
	return out
}

// BondDrift compares a bond's mode and options with the kernel's. Both
// sides list the mode and the configured options, in canonical form, and
// any other option the kernel has away from the value a sync would write.
func BondDrift(b *BondConfig, st *State) Reported {
	expected := []string{"mode=" + b.Mode.String()}
	for _, o := range b.Options {
		expected = append(expected, o.Name+"="+o.Value)
	}
	r := Reported{Name: ReportedBondingOptions, Expected: strings.Join(expected, " "), Actual: "absent"}
	l, ok := st.Link(b.Name)
	if !ok || l.Bond == nil {
		return r
	}
	actual := []string{"mode=" + l.Bond.Mode.String()}
	for _, o := range b.Options {
		actual = append(actual, o.Name+"="+kernelOptionValue(l.Bond.Options, o.Name))
	}
	if l.Bond.Mode == b.Mode {
		for _, o := range changedOptions(effectiveOptions(b), l.Bond.Options) {
			if _, configured := BondOptionValue(b.Options, o.Name); !configured {
				expected = append(expected, o.Name+"="+o.Value)
				actual = append(actual, o.Name+"="+kernelOptionValue(l.Bond.Options, o.Name))
			}
		}
	}
	r.Expected, r.Actual = strings.Join(expected, " "), strings.Join(actual, " ")
	r.InSync = r.Expected == r.Actual
	return r
}

// BondSlavesDrift compares a bond's slaves with the links the kernel has
// enslaved to it, both by name in order.
func BondSlavesDrift(b *BondConfig, st *State) Reported {
	actual := st.Ports(b.Name)
	slices.Sort(actual)
	expected := slices.Sorted(slices.Values(b.Slaves))
	r := Reported{Name: ReportedBondSlaves, Expected: strings.Join(expected, " "), Actual: strings.Join(actual, " ")}
	r.InSync = r.Expected == r.Actual
	return r
}

// kernelOptionValue is the kernel's value of an option in the notation of
// the configuration.
func kernelOptionValue(have []BondOption, name string) string {
	v, _ := BondOptionValue(have, name)
	if spec, ok := findBondOption(name); ok && v != "" {
		if nv, ok := spec.normalize(v); ok {
			return nv
		}
	}
	return v
}

// InSync reports whether every field is in sync, and the differences.
func InSync(r []Reported) (bool, []string) {
	var diffs []string
	for _, x := range r {
		if !x.InSync {
			diffs = append(diffs, x.Name+": expected "+quote(x.Expected)+", actual "+quote(x.Actual))
		}
	}
	return len(diffs) == 0, diffs
}

func quote(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func primaryAddr(l *Link, family int) *Addr {
	for i := range l.Addrs {
		a := &l.Addrs[i]
		if a.LinkLocal || (family == 4) != a.Prefix.Addr().Is4() {
			continue
		}
		return a
	}
	return nil
}

func maskText(bits, family int) string {
	if family == 4 {
		return net.IP(net.CIDRMask(bits, 32)).String()
	}
	return strconv.Itoa(bits)
}
