package netconf

import (
	"net/netip"
	"slices"
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
}

// Device returns the target device of that name.
func (t *Target) Device(name string) *Device {
	for _, d := range t.Devices {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// BuildTarget derives the devices of a configuration: per network, the
// southbound NIC or bond, an optional VLAN device and an optional bridge;
// the MTU of a southbound device is the largest of the networks on it.
func BuildTarget(cfg *Config, networks []*Network) *Target {
	t := &Target{}
	get := func(name string, kind LinkKind) *Device {
		if d := t.Device(name); d != nil {
			return d
		}
		d := &Device{Name: name, Kind: kind}
		t.Devices = append(t.Devices, d)
		return d
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
		if slices.ContainsFunc(cfg.Bonds, func(b BondConfig) bool { return b.Name == a.Nic }) {
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
			top.Master = br.Name
			top = br
		}
		top.Addrs = append(append(top.Addrs, a.IPv4.Addrs...), a.IPv6.Addrs...)
		top.KeepDynamic = a.IPv4.Method == BootDHCP || a.IPv6.Method != BootNone && a.IPv6.Method != BootStatic
	}
	for i := range cfg.Bonds {
		b := &cfg.Bonds[i]
		bond := t.Device(b.Name)
		if bond.MTU == 0 {
			bond.MTU = DefaultMTU
		}
		for _, s := range b.Slaves {
			slave := get(s, KindDevice)
			slave.Master, slave.MTU = b.Name, bond.MTU
		}
	}
	for _, d := range t.Devices {
		if d.MTU == 0 {
			d.MTU = DefaultMTU
		}
	}
	t.sort()
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
