package agent

import (
	"sync"

	"github.com/hostnetd/hostnetd/netconf"
)

// driftMemo remembers the last answer of outOfSync. Its inputs are
// immutable snapshots (the monitor's view is replaced, never edited, when
// the kernel changes; the running configuration and the catalogue are
// replaced on commit), so the same three mean the same answer. Every
// request that modifies an attachment needs it, the drift watcher computes
// it after every change, and GET /nics needs it too: on a host that did
// not change, they share one computation instead of comparing every
// attachment with the kernel each time.
type driftMemo struct {
	mu   sync.Mutex
	cfg  *netconf.Config
	nets []*netconf.Network
	st   *netconf.State
	out  map[string][]string
}

// outOfSync is the package's outOfSync, remembered. The answer is shared:
// callers must not modify it.
func (d *driftMemo) outOfSync(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) map[string][]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.out != nil && d.cfg == cfg && d.st == st && sameSlice(d.nets, nets) {
		return d.out
	}
	out := outOfSync(cfg, nets, st)
	d.cfg, d.nets, d.st, d.out = cfg, nets, st, out
	return out
}
