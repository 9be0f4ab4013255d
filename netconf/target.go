package netconf

import (
	"hash/adler32"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Device is one kernel device as a configuration wants it.
type Device struct {
	Name string
	// Kind is KindDevice for a NIC, which hostnetd never creates, or the
	// kind of a device it creates: KindBond, KindVLAN or KindBridge.
	Kind   LinkKind
	MTU    int
	Master string // the bond or bridge it is enslaved to
	VLAN   *VLAN
	Bond   *BondConfig
	STP    bool
	// Addrs are the static addresses; any other permanent address on a
	// managed device is removed. Dynamic addresses are left alone when
	// KeepDynamic is set (a DHCP or autoconf attachment).
	Addrs       []netip.Prefix
	KeepDynamic bool
	// DynAddrs are dynamic addresses to restore with their lifetimes
	// (snapshot targets only).
	DynAddrs []Addr
	// Down asks for the device to be administratively down; targets built
	// from a configuration want every device up.
	Down bool
	// MAC, when set, is given to a device hostnetd creates, so a device
	// re-created by a rollback comes back with its old address.
	MAC string
	// Routes and Rules are the routes through this device and the policy
	// rules of its network's source routing.
	Routes []Route
	Rules  []Rule
	// IPv6Sysctls are the device's IPv6 settings (IPv6SysctlKeys): off on
	// bridge ports, bond slaves and VLAN-only bases, and on a network's
	// top device as its IPv6 boot protocol asks.
	IPv6Sysctls map[string]string
	// BridgeOpts are a bridge's options (stp_state and the network's
	// bridge_opts), as sysfs names and decimal values.
	BridgeOpts map[string]string
	// Ethtool are the device's ethtool settings (its attachments'
	// ethtool_opts); nil leaves them alone.
	Ethtool *EthtoolSettings `json:",omitempty"`
	// QoS is the HFSC shaping of a NIC or bond (its networks' host
	// network QoS); nil leaves its traffic control alone, an empty one
	// removes hostnetd's.
	QoS *DeviceQoS `json:",omitempty"`
}

// tier orders devices bottom-up: NICs, bonds, VLANs, bridges.
func (d *Device) tier() int {
	switch d.Kind {
	case KindBond:
		return 1
	case KindVLAN:
		return 2
	case KindBridge:
		return 3
	}
	return 0
}

// Target is the set of devices a configuration manages, bottom-up.
type Target struct {
	Devices []*Device
	// byName indexes Devices once they are complete (index); a target
	// assembled otherwise is searched in order.
	byName map[string]*Device
}

// Device returns the target device of that name.
func (t *Target) Device(name string) *Device {
	if t.byName != nil && len(t.byName) == len(t.Devices) {
		return t.byName[name]
	}
	for _, d := range t.Devices {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// index makes Device a map lookup: planning and verification look devices
// up by name for every device, which must not cost a scan of them all.
func (t *Target) index() {
	t.byName = make(map[string]*Device, len(t.Devices))
	for _, d := range t.Devices {
		t.byName[d.Name] = d
	}
}

// BuildTarget derives the devices of a configuration: per network, the
// southbound NIC or bond, an optional VLAN device and an optional bridge;
// the MTU of a southbound device is the largest of the networks on it.
func BuildTarget(cfg *Config, networks []*Network) *Target {
	t := &Target{byName: map[string]*Device{}}
	get := func(name string, kind LinkKind) *Device {
		if d := t.byName[name]; d != nil {
			return d
		}
		d := &Device{Name: name, Kind: kind}
		t.Devices = append(t.Devices, d)
		t.byName[name] = d
		return d
	}
	bonds := make(map[string]bool, len(cfg.Bonds))
	for _, b := range cfg.Bonds {
		bonds[b.Name] = true
	}
	netByID := map[string]*Network{}
	for _, n := range networks {
		netByID[n.ID] = n
	}
	for i := range cfg.Bonds {
		b := &cfg.Bonds[i]
		get(b.Name, KindBond).Bond = b
	}
	for _, a := range cfg.Attachments {
		net := netByID[a.NetworkID]
		if net == nil {
			continue
		}
		kind := KindDevice
		if bonds[a.Nic] {
			kind = KindBond
		}
		south := get(a.Nic, kind)
		south.MTU = max(south.MTU, net.EffectiveMTU())
		top := south
		if net.VLAN != nil {
			top = get(VLANDeviceName(a.Nic, *net.VLAN), KindVLAN)
			top.VLAN = &VLAN{ID: *net.VLAN, Base: a.Nic}
			top.MTU = net.EffectiveMTU()
		}
		if net.Bridged() {
			br := get(net.Name, KindBridge)
			br.MTU, br.STP = net.EffectiveMTU(), net.STP
			br.BridgeOpts = bridgeOpts(net, a.Properties)
			top.Master = br.Name
			top = br
		}
		top.Addrs = append(append(top.Addrs, a.IPv4.Addrs...), a.IPv6.Addrs...)
		top.KeepDynamic = a.IPv4.Method == BootDHCP || a.IPv6.Method != BootNone && a.IPv6.Method != BootStatic
		addRouting(top, a, net)
		top.IPv6Sysctls = ipv6Sysctls(a.IPv6.Method)
	}
	for i := range cfg.Bonds {
		b := &cfg.Bonds[i]
		bond := t.byName[b.Name]
		if bond.MTU == 0 {
			bond.MTU = DefaultMTU
		}
		for _, s := range b.Slaves {
			slave := get(s, KindDevice)
			slave.Master, slave.MTU = b.Name, bond.MTU
		}
	}
	addQoS(t, cfg, netByID)
	addEthtool(t, cfg, get)
	for _, d := range t.Devices {
		if d.MTU == 0 {
			d.MTU = DefaultMTU
		}
		if d.IPv6Sysctls == nil { // not a network's top device
			d.IPv6Sysctls = ipv6Off
		}
	}
	t.sort()
	t.index()
	return t
}

// sort orders devices bottom-up, by name within a tier, so plans are stable.
func (t *Target) sort() {
	slices.SortStableFunc(t.Devices, func(a, b *Device) int {
		if a.tier() != b.tier() {
			return a.tier() - b.tier()
		}
		return strings.Compare(a.Name, b.Name)
	})
}

var ipv6Off = map[string]string{"disable_ipv6": "1"}

var (
	stpOff = map[string]string{"stp_state": "0"}
	stpOn  = map[string]string{"stp_state": "1"}
)

// bridgeOpts are the options of a VM network's bridge: STP as the network
// says, and the attachment's bridge_opts (validated by Merge).
func bridgeOpts(net *Network, props map[string]string) map[string]string {
	shared := stpOff
	if net.STP {
		shared = stpOn
	}
	custom := strings.Fields(props["bridge_opts"])
	if len(custom) == 0 {
		// Most bridges have no options of their own: they share one map
		// (a target is never modified), which is a map less per bridge
		// kept in the running target.
		return shared
	}
	opts := maps.Clone(shared)
	for _, kv := range custom {
		k, v, _ := strings.Cut(kv, "=")
		if n, err := strconv.ParseUint(v, 0, 32); err == nil {
			opts[k] = strconv.FormatUint(n, 10)
		}
	}
	return opts
}

// IPv6Defaults are the kernel's settings of a new device, which a NIC gets
// back when it leaves hostnetd's management.
var IPv6Defaults = map[string]string{"disable_ipv6": "0", "accept_ra": "1", "autoconf": "1"}

// ipv6Sysctls maps an IPv6 boot protocol to the device settings that
// realise it: none disables IPv6; static takes no router advertisement;
// autoconf takes them and forms addresses from their prefixes (SLAAC);
// dhcp takes them for the routes only.
func ipv6Sysctls(m BootProtocol) map[string]string {
	switch m {
	case BootStatic:
		return map[string]string{"disable_ipv6": "0", "accept_ra": "0", "autoconf": "0"}
	case BootAutoconf, BootPolyDHCPAutoconf:
		return map[string]string{"disable_ipv6": "0", "accept_ra": "1", "autoconf": "1"}
	case BootDHCP:
		return map[string]string{"disable_ipv6": "0", "accept_ra": "1", "autoconf": "0"}
	}
	return ipv6Off
}

// SourceRoutePriority is the priority of the policy rules of source
// routing, as VDSM uses.
const SourceRoutePriority = 3200

// SourceRouteTable is the routing table of a network's source routing: the
// adler32 checksum of its top device's name, as VDSM computes it.
func SourceRouteTable(top string) int { return int(adler32.Checksum([]byte(top))) }

// addRouting gives a network's top device its routes: the main table's
// default route when the network owns it, and for static IPv4 with a
// gateway, its own table (a default route and its subnet) with rules that
// send traffic from and to its subnet there, so replies leave through the
// network they came in on.
func addRouting(top *Device, a Attachment, net *Network) {
	for _, cfg := range []IPConfig{a.IPv4, a.IPv6} {
		if cfg.Method != BootStatic || !cfg.Gateway.IsValid() || len(cfg.Addrs) == 0 {
			continue
		}
		routes, rules := GatewayRouting(top.Name, cfg.Addrs[0], cfg.Gateway, net.HasUsage(UsageDefaultRoute))
		top.Routes = append(top.Routes, routes...)
		top.Rules = append(top.Rules, rules...)
	}
}

// GatewayRouting is the routing of a network whose top device has the
// primary address addr and the gateway gw, static or learned from DHCP:
// the main table's default route when the network owns it (owner), and for
// IPv4 its own table (a default route and its subnet) with the rules that
// send traffic from and to its subnet there.
func GatewayRouting(top string, addr netip.Prefix, gw netip.Addr, owner bool) ([]Route, []Rule) {
	any := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if gw.Is6() {
		any = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	var routes []Route
	if owner {
		routes = append(routes, Route{Dst: any, Gateway: gw, Link: top, Table: MainTable})
	}
	if !gw.Is4() {
		return routes, nil
	}
	table, subnet := SourceRouteTable(top), addr.Masked()
	routes = append(routes,
		Route{Dst: any, Gateway: gw, Link: top, Table: table},
		Route{Dst: subnet, Link: top, Table: table})
	rules := []Rule{
		{Priority: SourceRoutePriority, Src: subnet, Table: table},
		{Priority: SourceRoutePriority, Dst: subnet, Table: table},
	}
	return routes, rules
}

// TopDevice is the device that holds a network's addresses: its bridge, or
// its VLAN device, or its NIC or bond.
func TopDevice(a Attachment, net *Network) string {
	switch {
	case net.Bridged():
		return net.Name
	case net.VLAN != nil:
		return VLANDeviceName(a.Nic, *net.VLAN)
	}
	return a.Nic
}

// AttachmentDevices names the devices that realise an attachment: its NIC
// or bond, its VLAN device and its bridge.
func AttachmentDevices(a Attachment, net *Network) []string {
	names := []string{a.Nic}
	if net.VLAN != nil {
		names = append(names, VLANDeviceName(a.Nic, *net.VLAN))
	}
	if net.Bridged() {
		names = append(names, net.Name)
	}
	return names
}

// addEthtool gives devices the ethtool settings of the attachments'
// ethtool_opts (validated by Merge, so no two disagree).
func addEthtool(t *Target, cfg *Config, get func(string, LinkKind) *Device) {
	for _, a := range cfg.Attachments {
		if _, ok := a.Properties[EthtoolOptsProperty]; !ok {
			continue
		}
		for dev, s := range ethtoolTargets(a, bondSlaves(cfg, a.Nic)) {
			d := t.byName[dev]
			if d == nil {
				d = get(dev, KindDevice)
			}
			if d.Ethtool == nil {
				d.Ethtool = &EthtoolSettings{}
			}
			_ = d.Ethtool.merge(s)
		}
	}
}

// bondSlaves are the slaves of the named bond of cfg, none when it is not
// one.
func bondSlaves(cfg *Config, name string) []string {
	for _, b := range cfg.Bonds {
		if b.Name == name {
			return b.Slaves
		}
	}
	return nil
}
