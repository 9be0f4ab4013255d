package engine

import (
	"sync"

	"github.com/hostnetd/hostnetd/netconf"
)

// snapshotMemo remembers one value derived from the running configuration,
// the catalogue and, for some values, the monitor's view of the kernel.
// All three are immutable snapshots: the configuration and the catalogue
// are replaced whole on commit, and the view is replaced, never edited,
// when the kernel changes. So the same three mean the same value, and the
// value is derived again only when one of them was replaced.
type snapshotMemo[V any] struct {
	mu   sync.Mutex
	cfg  *netconf.Config
	nets []*netconf.Network
	st   *netconf.State
	v    V
	ok   bool
}

// get returns the value for cfg, nets and st, derived if the memo holds
// another. The value is shared: callers must not modify it.
func (m *snapshotMemo[V]) get(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State, derive func() V) V {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.ok || m.cfg != cfg || m.st != st || !netconf.SameCatalogue(m.nets, nets) {
		m.cfg, m.nets, m.st, m.v, m.ok = cfg, nets, st, derive(), true
	}
	return m.v
}

// put records v as the value for cfg, nets and st.
func (m *snapshotMemo[V]) put(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg, m.nets, m.st, m.v, m.ok = cfg, nets, st, v, true
}

// driftedAttachments is outOfSync, remembered: every request that modifies
// attachments needs it, the drift watcher computes it after every change,
// and GET /nics and the metrics need it too. On a host that did not change
// they share one comparison of every attachment with the kernel.
func (e *Engine) driftedAttachments(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) map[string][]string {
	return e.drift.get(cfg, nets, st, func() map[string][]string { return outOfSync(cfg, nets, st) })
}

// outOfSync lists the differences of each running attachment that drifted
// from its configuration.
func outOfSync(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) map[string][]string {
	out := map[string][]string{}
	byID := netconf.NetworksByID(nets)
	drift := netconf.NewDriftCache(cfg, st)
	for _, at := range cfg.Attachments {
		net := byID[at.NetworkID]
		if net == nil {
			continue
		}
		if ok, diffs := netconf.InSync(netconf.AttachmentReported(drift, at, net, st)); !ok {
			out[at.ID] = diffs
		}
	}
	return out
}
