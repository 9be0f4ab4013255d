package xmlapi

import "github.com/hostnetd/hostnetd/netconf"

// Prefix is the API prefix hostnetd writes into every href. Requests may use
// any of the accepted prefixes; answers always use the canonical one.
const Prefix = "/ovirt-engine/api"

// Context carries what rendering needs to know beyond the entity itself.
type Context struct {
	HostID string
	// NicID maps an interface name to its stable id.
	NicID func(name string) string
	// NicNetwork tells which network an interface carries and the device
	// that holds the network's addresses (its bridge, or itself); optional.
	NicNetwork func(name string) (networkID, top string, ok bool)
	// NicOutOfSync tells whether a network on the interface drifted from
	// its configuration (custom_configuration); optional.
	NicOutOfSync func(name string) bool
	// BondConfig returns the configuration of the named bond, nil for a
	// bond hostnetd does not manage; optional.
	BondConfig func(name string) *netconf.BondConfig

	href string // the host's href, when made once (withHref)
}

func (c Context) bondConfig(name string) *netconf.BondConfig {
	if c.BondConfig == nil {
		return nil
	}
	return c.BondConfig(name)
}

func (c Context) nicNetwork(name string) (string, string, bool) {
	if c.NicNetwork == nil {
		return "", "", false
	}
	return c.NicNetwork(name)
}

// hostHref is the host's href; a collection renders it once (withHref).
func (c Context) hostHref() string {
	if c.href != "" {
		return c.href
	}
	return Prefix + "/hosts/" + c.HostID
}

// withHref is c with its host's href made once, for a collection that
// names its host in every item.
func (c Context) withHref() Context {
	c.href = c.hostHref()
	return c
}

func (c Context) nicHref(id string) string { return c.nicHrefIn(alone, id) }

// nicHrefIn is nicHref made in s's strings.
func (c Context) nicHrefIn(s *nodeSlab, id string) string {
	return s.concat(c.hostHref(), "/nics/", id)
}

func (c Context) nicRef(name string) *Node {
	id := c.NicID(name)
	return Ref("host_nic", id, c.nicHref(id))
}
func (c Context) hostRef() *Node { return Ref("host", c.HostID, c.hostHref()) }

// SetupNetworksHref is where an accepted async setupnetworks is followed.
func (c Context) SetupNetworksHref(id string) string { return c.hostHref() + "/setupnetworks/" + id }
