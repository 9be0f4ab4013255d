package netconf

import "sync"

// SnapshotMemo remembers one value derived from the running configuration,
// the catalogue and, for some values, the monitor's view of the kernel.
// All three are immutable snapshots: the configuration and the catalogue
// are replaced whole on commit, and the view is replaced, never edited,
// when the kernel changes. So the same three mean the same value, and the
// value is derived again only when one of them was replaced.
type SnapshotMemo[V any] struct {
	mu   sync.Mutex
	cfg  *Config
	nets []*Network
	st   *State
	v    V
	ok   bool
}

// Get returns the value for cfg, nets and st, derived if the memo holds
// another. The value is shared: callers must not modify it.
func (m *SnapshotMemo[V]) Get(cfg *Config, nets []*Network, st *State, derive func() V) V {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.ok || m.cfg != cfg || m.st != st || !SameCatalogue(m.nets, nets) {
		m.cfg, m.nets, m.st, m.v, m.ok = cfg, nets, st, derive(), true
	}
	return m.v
}

// Put records v as the value for cfg, nets and st.
func (m *SnapshotMemo[V]) Put(cfg *Config, nets []*Network, st *State, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg, m.nets, m.st, m.v, m.ok = cfg, nets, st, v, true
}
