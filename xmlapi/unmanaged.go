package xmlapi

import (
	"encoding/hex"

	"github.com/hostnetd/hostnetd/netconf"
)

// UnmanagedNetworkID is an unmanaged network's id: its name in hex (it
// has no other identity, and hex keeps any device name path-safe).
func UnmanagedNetworkID(name string) string { return hex.EncodeToString([]byte(name)) }

// UnmanagedNetworks renders the <unmanaged_networks> collection.
func UnmanagedNetworks(c Context, us []netconf.Unmanaged) *Node {
	n := Elem("unmanaged_networks")
	for _, u := range us {
		item := UnmanagedNetwork(c, u)
		item.Repeated = true
		n.Add(item)
	}
	return n
}

// UnmanagedNetwork renders one unmanaged network as the engine's type:
// its name, its host and the host_nic it sits on.
func UnmanagedNetwork(c Context, u netconf.Unmanaged) *Node {
	id := UnmanagedNetworkID(u.Name)
	n := Elem("unmanaged_network", Text("name", u.Name), c.hostRef()).WithID(id, c.hostHref()+"/unmanagednetworks/"+id)
	if u.Nic != "" {
		n.Add(c.nicRef(u.Nic))
	}
	return n
}
