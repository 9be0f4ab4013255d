package agent

import (
	"sync"

	"github.com/hostnetd/hostnetd/agent/engine"
)

// maxNicIDs bounds the ids nicIDs keeps: a host that keeps creating links
// of new names starts over rather than grow.
const maxNicIDs = 1 << 16

// nicIDs remembers the stable id of each interface name: an id is a SHA-1
// of the host id and the name, and GET /nics names every NIC several times
// (its own id, its bond's, its VLAN's base), thousands on a trunk.
type nicIDs struct {
	hostID string
	mu     sync.Mutex
	ids    map[string]string
}

func newNicIDs(hostID string) *nicIDs { return &nicIDs{hostID: hostID, ids: map[string]string{}} }

func (c *nicIDs) id(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[name]; ok {
		return id
	}
	if len(c.ids) >= maxNicIDs {
		clear(c.ids)
	}
	id := engine.NicID(c.hostID, name)
	c.ids[name] = id
	return id
}
