package xmlapi

// Prefix is the API prefix hostnetd writes into every href. Requests may use
// any of the accepted prefixes; answers always use the canonical one.
const Prefix = "/ovirt-engine/api"

// Context carries what rendering needs to know beyond the entity itself.
type Context struct {
	HostID string
	// NicID maps an interface name to its stable id.
	NicID func(name string) string
}

func (c Context) hostHref() string         { return Prefix + "/hosts/" + c.HostID }
func (c Context) nicHref(id string) string { return c.hostHref() + "/nics/" + id }
func (c Context) nicRef(name string) *Node {
	id := c.NicID(name)
	return Ref("host_nic", id, c.nicHref(id))
}
func (c Context) hostRef() *Node { return Ref("host", c.HostID, c.hostHref()) }
