package netconf

import (
	"net/netip"
	"sort"
)

// LinkKind is the kernel's kind of a link ("device" for a physical NIC).
type LinkKind string

// Link kinds hostnetd tells apart. Any other kind is kept as the kernel
// names it.
const (
	KindDevice LinkKind = "device"
	KindVeth   LinkKind = "veth"
	KindBond   LinkKind = "bond"
	KindVLAN   LinkKind = "vlan"
	KindBridge LinkKind = "bridge"
	KindDummy  LinkKind = "dummy"
)

// OperState is the kernel's RFC 2863 operational state, lower case.
type OperState string

// Operational states hostnetd reports; others are kept as the kernel names them.
const (
	OperUp      OperState = "up"
	OperDown    OperState = "down"
	OperUnknown OperState = "unknown"
)

// State is one consistent read of a namespace's links, addresses and routes.
type State struct {
	Links  []Link  // sorted by name
	Routes []Route // main-table and policy-table routes
	Rules  []Rule  // routing policy rules
	// IPv6Sysctls are the IPv6 settings (IPv6SysctlKeys) of every link,
	// by name; the link dump carries them.
	IPv6Sysctls map[string]map[string]string
	// BridgeOpts are the managed options of every bridge, by name; the
	// link dump carries them too.
	BridgeOpts map[string]map[string]string
	// Ethtool are the ethtool settings of the devices whose settings
	// hostnetd manages, by name; the link dump does not carry them, the
	// agent reads them for the devices it needs (nil: none read).
	Ethtool map[string]*EthtoolState
	// QoS is the traffic control of the devices whose host network QoS
	// hostnetd manages, by name; read like Ethtool (nil: none read).
	QoS map[string]*QoSState `json:",omitempty"`

	// linkAt indexes Links by name once IndexLinks made it; without it,
	// Link searches the sorted Links.
	linkAt map[string]int
}

// IndexLinks makes Link a map lookup. A request looks the links of every
// attachment up, several times each: on a host with thousands of devices,
// that binary search was a tenth of a re-apply that changes nothing. A
// State read from the kernel is indexed once and never edited; one that is
// edited afterwards must not be indexed.
func (s *State) IndexLinks() {
	s.linkAt = make(map[string]int, len(s.Links))
	for i := range s.Links {
		s.linkAt[s.Links[i].Name] = i
	}
}

// WithLinks returns a copy of s whose links are links: the same links by
// name, in the same order, some of them changed otherwise. The copy
// shares s's index of links by name.
func (s *State) WithLinks(links []Link) *State {
	c := *s
	c.Links = links
	return &c
}

// IPv6SysctlKeys are the per-device IPv6 settings hostnetd manages.
var IPv6SysctlKeys = []string{"disable_ipv6", "accept_ra", "autoconf"}

// Link is one network interface as the kernel reports it.
type Link struct {
	Index     int
	Name      string
	Kind      LinkKind
	MAC       string // lower-case colon form; empty when the link has none
	MTU       int
	AdminUp   bool
	OperState OperState
	Speed     uint64 // bits/s; 0 when the kernel does not know it
	Master    string // bond or bridge this link is enslaved to
	Addrs     []Addr // in kernel order
	Bond      *Bond  // set for bonds
	BondSlave *BondSlave
	VLAN      *VLAN // set for VLAN devices
	Stats     LinkStats
}

// Addr is one address of a link.
type Addr struct {
	Prefix netip.Prefix
	// Dynamic is true for an address with a finite valid lifetime, which
	// is how DHCP and SLAAC addresses are installed; static ones are
	// permanent.
	Dynamic       bool
	ValidLft      uint32 // seconds; 0 for permanent addresses
	PreferredLft  uint32
	LinkLocal     bool
	Tentative     bool // IPv6 duplicate address detection still running
	AutoconfEUI64 bool // IPv6 interface id derived from the link's MAC
}

// Bond is a bond's mode and options as read from the kernel.
type Bond struct {
	Mode    BondMode
	Options []BondOption // kernel-normalised, in a fixed order, mode excluded
	Slaves  []string     // sorted by name
	// ActiveSlave is the current active slave in modes 1, 5 and 6.
	ActiveSlave string
	// AggregatorID and PartnerMAC are known in 802.3ad mode once LACP ran.
	AggregatorID int
	PartnerMAC   string
}

// BondOption is one name=value bonding option.
type BondOption struct {
	Name  string
	Value string
}

// BondSlave is what the kernel reports about a link enslaved to a bond.
type BondSlave struct {
	AggregatorID int // 802.3ad only
}

// VLAN is an 802.1q device on top of Base.
type VLAN struct {
	ID   int
	Base string
}

// LinkStats are the kernel's interface counters.
type LinkStats struct {
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
}

// Route is one IPv4 or IPv6 route.
type Route struct {
	Dst     netip.Prefix // 0.0.0.0/0 or ::/0 for a default route
	Gateway netip.Addr   // zero when the route is on-link
	Link    string
	Table   int
	Metric  int
	// Protocol is the route's origin (RTPROT_*): 2 for the kernel's own
	// connected routes, which come and go with addresses.
	Protocol int
}

// ProtoKernel marks routes the kernel installs for addresses.
const ProtoKernel = 2

// Rule is a routing policy rule: traffic from (or to) a prefix looks up a
// table.
type Rule struct {
	Priority int
	Src, Dst netip.Prefix // zero when absent
	Table    int
}

// IsDefault reports whether r is a default route.
func (r Route) IsDefault() bool { return r.Dst.Bits() == 0 }

// MainTable is the kernel's main routing table.
const MainTable = 254

// Link returns the link with the given name.
func (s *State) Link(name string) (*Link, bool) {
	if s.linkAt != nil && len(s.linkAt) == len(s.Links) {
		if i, ok := s.linkAt[name]; ok && s.Links[i].Name == name {
			return &s.Links[i], true
		}
		return nil, false
	}
	i := sort.Search(len(s.Links), func(i int) bool { return s.Links[i].Name >= name })
	if i < len(s.Links) && s.Links[i].Name == name {
		return &s.Links[i], true
	}
	return nil, false
}

// DefaultGateway returns the gateway of the default route of the given
// family (4 or 6) that leaves through the named link: the main table's, or
// else the one in a network's own table (source routing), which is where a
// network that does not own the default route keeps its gateway.
func (s *State) DefaultGateway(link string, family int) (netip.Addr, bool) {
	var found netip.Addr
	for _, r := range s.Routes {
		if r.Link != link || !r.IsDefault() || !r.Gateway.IsValid() || (family == 4) != r.Gateway.Is4() {
			continue
		}
		if r.Table == MainTable {
			return r.Gateway, true
		}
		if !found.IsValid() {
			found = r.Gateway
		}
	}
	return found, found.IsValid()
}

// Ports returns the names of the links enslaved to master, sorted.
func (s *State) Ports(master string) []string {
	var ports []string
	for _, l := range s.Links {
		if l.Master == master {
			ports = append(ports, l.Name)
		}
	}
	return ports
}
