package engine

import (
	"fmt"
	"slices"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// readState reads the kernel's state: one dump.
func (e *Engine) readState() (*netconf.State, error) {
	st, err := e.opts.Kernel.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the kernel state: %w", err)
	}
	return st, nil
}

// Namespace is a network namespace the engine manages (netconf/kernel's),
// named here so that callers of the engine need not import the kernel
// package.
type Namespace = kernel.Namespace

// LinkStats reads a link's counters, which change without notifications:
// always live.
func (e *Engine) LinkStats(name string) (netconf.LinkStats, error) {
	return kernel.ReadLinkStats(e.opts.Namespace, name)
}

// snapshot returns the catalogue and the running configuration as readers
// see them.
func (e *Engine) snapshot() ([]*netconf.Network, *netconf.Config) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.networks, e.running
}

func (e *Engine) networkByID(id string) *netconf.Network {
	nets, _ := e.snapshot()
	i := slices.IndexFunc(nets, func(n *netconf.Network) bool { return n.ID == id })
	if i < 0 {
		return nil
	}
	return nets[i]
}

// nicNameResolver maps NIC and bond ids to device names: the kernel's links
// and the bonds of the configuration (which may not exist yet).
func (e *Engine) nicNameResolver(st *netconf.State, cfg *netconf.Config) func(string) (string, bool) {
	var names map[string]string // id → name, built on the first lookup
	return func(id string) (string, bool) {
		if names == nil {
			names = make(map[string]string, len(st.Links)+len(cfg.Bonds))
			for _, b := range cfg.Bonds {
				names[NicID(e.hostID, b.Name)] = b.Name
			}
			for _, l := range st.Links { // a link wins over a bond to be
				names[NicID(e.hostID, l.Name)] = l.Name
			}
		}
		name, ok := names[id]
		return name, ok
	}
}

// attachmentID is stable per host and network.
func attachmentID(hostID, networkID string) string {
	return NicID(hostID, "attachment/"+networkID)
}
