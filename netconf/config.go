package netconf

import (
	"maps"
	"net/netip"
	"slices"
)

// Network is a logical network of the catalogue (/networks): what a network
// is, independent of where it is attached.
type Network struct {
	ID          string
	Name        string
	Description string
	Comment     string
	VLAN        *int // nil for an untagged network
	MTU         int  // 0 means the default, 1500
	STP         bool
	Usages      []string // vm, management, display, migration, gluster, default_route
	// DNS are the network's name servers (dns_resolver_configuration).
	DNS []string
	// Label is the network's label: it is attached to the NIC or bond
	// carrying the same label; empty for none.
	Label string `json:",omitempty"`
	// QoS is the host network QoS the network names in the QoS catalogue
	// (a copy of the entry, with its ID); nil for none.
	QoS *HostNetworkQoS `json:",omitempty"`
}

// Usage names with a meaning for hostnetd.
const (
	UsageVM           = "vm"
	UsageManagement   = "management"
	UsageDefaultRoute = "default_route"
)

// Bridged reports whether the network is a VM network, realised as a Linux
// bridge named after the network.
func (n *Network) Bridged() bool { return n.HasUsage(UsageVM) }

// HasUsage reports whether the network has the usage u.
func (n *Network) HasUsage(u string) bool {
	for _, x := range n.Usages {
		if x == u {
			return true
		}
	}
	return false
}

// EffectiveMTU is the MTU the network's devices get.
func (n *Network) EffectiveMTU() int {
	if n.MTU == 0 {
		return DefaultMTU
	}
	return n.MTU
}

// DefaultMTU is the MTU of a device that carries no network.
const DefaultMTU = 1500

// BootProtocol is an address assignment method.
type BootProtocol string

// Assignment methods; autoconf and poly_dhcp_autoconf are IPv6 only.
const (
	BootNone             BootProtocol = "none"
	BootStatic           BootProtocol = "static"
	BootDHCP             BootProtocol = "dhcp"
	BootAutoconf         BootProtocol = "autoconf"
	BootPolyDHCPAutoconf BootProtocol = "poly_dhcp_autoconf"
)

// IPConfig is one address family's configuration of an attachment.
type IPConfig struct {
	Method BootProtocol
	// Addrs are the static addresses; the first is the primary one.
	Addrs   []netip.Prefix
	Gateway netip.Addr // zero when none
}

// Attachment places a network on a NIC or bond of the host, with its
// addressing.
type Attachment struct {
	ID         string
	NetworkID  string
	Nic        string // device name of the NIC or bond
	IPv4       IPConfig
	IPv6       IPConfig
	Properties map[string]string // bridge_opts, for VM networks
	DNS        []string
	// QoS overrides the network's host network QoS; nil keeps it.
	QoS *HostNetworkQoS `json:",omitempty"`
}

// BondConfig is a bond hostnetd manages.
type BondConfig struct {
	Name    string
	Mode    BondMode
	Options []BondOption // without mode; in the order given
	Slaves  []string     // sorted by name
}

// Config is the configuration hostnetd runs (or persists): the attachments
// and bonds of the host. Networks are referenced by id from the catalogue.
type Config struct {
	Attachments []Attachment // sorted by network name at plan time
	Bonds       []BondConfig // sorted by name
	// Labels are the network labels on the host's NICs and bonds,
	// sorted by label.
	Labels []NicLabel `json:",omitempty"`
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	out := &Config{
		Attachments: make([]Attachment, len(c.Attachments)),
		Bonds:       make([]BondConfig, len(c.Bonds)),
		Labels:      slices.Clone(c.Labels),
	}
	for i, a := range c.Attachments {
		out.Attachments[i] = a.clone()
	}
	for i, b := range c.Bonds {
		b.Options = append([]BondOption(nil), b.Options...)
		b.Slaves = append([]string(nil), b.Slaves...)
		out.Bonds[i] = b
	}
	return out
}

// clone returns a deep copy of a.
func (a Attachment) clone() Attachment {
	a.IPv4.Addrs = append([]netip.Prefix(nil), a.IPv4.Addrs...)
	a.IPv6.Addrs = append([]netip.Prefix(nil), a.IPv6.Addrs...)
	a.DNS = append([]string(nil), a.DNS...)
	if a.Properties != nil {
		a.Properties = maps.Clone(a.Properties)
	}
	a.QoS = a.QoS.Clone()
	return a
}

// Equal reports whether two configurations are the same, treating absent
// and empty lists alike.
func (c *Config) Equal(o *Config) bool {
	return slices.EqualFunc(c.Attachments, o.Attachments, Attachment.equal) &&
		slices.EqualFunc(c.Bonds, o.Bonds, BondConfig.equal) && slices.Equal(c.Labels, o.Labels)
}

func (a Attachment) equal(b Attachment) bool {
	return a.ID == b.ID && a.NetworkID == b.NetworkID && a.Nic == b.Nic &&
		a.IPv4.equal(b.IPv4) && a.IPv6.equal(b.IPv6) &&
		maps.Equal(a.Properties, b.Properties) && slices.Equal(a.DNS, b.DNS) && a.QoS.SameValues(b.QoS)
}

func (c IPConfig) equal(o IPConfig) bool {
	return c.Method == o.Method && c.Gateway == o.Gateway && slices.Equal(c.Addrs, o.Addrs)
}

func (b BondConfig) equal(o BondConfig) bool {
	return b.Name == o.Name && b.Mode == o.Mode && slices.Equal(b.Options, o.Options) && slices.Equal(b.Slaves, o.Slaves)
}
