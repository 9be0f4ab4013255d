package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// Host network QoS: the data center's QoS catalogue, which networks name
// by id (each keeps a copy of its entry), stored in qoss.json; and the
// traffic control of the devices carrying networks with a QoS, read
// through the Kernel for planning, verification, rollback and drift as
// ethtool settings are.

// qossFile is the QoS catalogue.
const qossFile = "qoss.json"

// qosCatalogue holds the QoS catalogue, read on first use. mu is taken
// before the writer slot by the catalogue's writes, and guards the fields
// that follow.
type qosCatalogue struct {
	mu      sync.Mutex
	loaded  bool
	entries []*netconf.HostNetworkQoS
}

// lockQoSs takes the catalogue, loaded; the caller calls the function it
// returns to release it.
func (e *Engine) lockQoSs() (*qosCatalogue, func(), error) {
	c := &e.qoss
	c.mu.Lock()
	if !c.loaded {
		entries, _, err := loadStateFile(e.log, e.opts.StateDir, qossFile, true, checkQoSs)
		if err != nil {
			c.mu.Unlock()
			return nil, nil, fmt.Errorf("reading the QoS catalogue: %w", err)
		}
		c.entries, c.loaded = entries, true
	}
	return c, c.mu.Unlock, nil
}

func checkQoSs(qs []*netconf.HostNetworkQoS) error {
	for i, q := range qs {
		if q == nil || q.ID == "" || q.Linkshare == nil {
			return fmt.Errorf("QoS %d: no id or no link share", i)
		}
	}
	return nil
}

// QoSs returns the QoS catalogue.
func (e *Engine) QoSs() ([]*netconf.HostNetworkQoS, error) {
	c, unlock, err := e.lockQoSs()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return c.entries, nil
}

// storeQoSs writes the catalogue and makes it current; c.mu must be held.
func (e *Engine) storeQoSs(c *qosCatalogue, entries []*netconf.HostNetworkQoS) error {
	data, err := encodeJSON(entries)
	if err != nil {
		return fmt.Errorf("encoding the QoS catalogue: %w", err)
	}
	if err := e.writeState(stateFile{qossFile, data}); err != nil {
		return faultOfState(err, false)
	}
	c.entries = entries
	return nil
}

// AddQoS adds an entry made of ch, with the given id.
func (e *Engine) AddQoS(id string, ch netconf.QoSChange) (*netconf.HostNetworkQoS, error) {
	c, unlock, err := e.lockQoSs()
	if err != nil {
		return nil, err
	}
	defer unlock()
	next, q, err := netconf.AddQoS(c.entries, id, ch)
	if err != nil {
		return nil, RuleError(err)
	}
	return q, e.storeQoSs(c, next)
}

// UpdateQoS changes an entry and the networks that name it: in one
// transaction when any of them is attached, since their classes change.
func (e *Engine) UpdateQoS(ctx context.Context, id string, ch netconf.QoSChange) (*netconf.HostNetworkQoS, Result, error) {
	c, unlock, err := e.lockQoSs()
	if err != nil {
		return nil, Result{}, err
	}
	defer unlock()
	var nextQs []*netconf.HostNetworkQoS
	var q *netconf.HostNetworkQoS
	res, err := e.EditCatalogue(ctx, func(nets []*netconf.Network, _ *netconf.Config) (next []*netconf.Network, _ netconf.ChangeSet, err error) {
		nextQs, next, q, err = netconf.UpdateQoS(c.entries, nets, id, ch)
		return next, netconf.ChangeSet{}, err
	})
	if err != nil {
		return nil, res, err
	}
	return q, res, e.storeQoSs(c, nextQs)
}

// RemoveQoS removes an entry no network names. It holds the writer slot,
// so that no network comes to name it meanwhile.
func (e *Engine) RemoveQoS(ctx context.Context, id string) error {
	c, unlock, err := e.lockQoSs()
	if err != nil {
		return err
	}
	defer unlock()
	unlockWriter, err := e.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer unlockWriter()
	nets, _ := e.snapshot()
	next, err := netconf.RemoveQoS(c.entries, nets, id)
	if err != nil {
		return RuleError(err)
	}
	return e.storeQoSs(c, next)
}

// hasQoS reports whether any attachment of cfg runs a host network QoS.
func hasQoS(cfg *netconf.Config, nets []*netconf.Network) bool {
	if !slices.ContainsFunc(nets, func(n *netconf.Network) bool { return n.QoS != nil }) &&
		!slices.ContainsFunc(cfg.Attachments, func(at netconf.Attachment) bool { return at.QoS != nil }) {
		return false
	}
	byID := make(map[string]*netconf.Network, len(nets))
	for _, n := range nets {
		byID[n.ID] = n
	}
	return slices.ContainsFunc(cfg.Attachments, func(at netconf.Attachment) bool {
		n := byID[at.NetworkID]
		return n != nil && netconf.EffectiveQoS(at, n) != nil
	})
}

// withQoS returns st with the traffic control of every device whose QoS
// the targets manage, read now; st itself when there is none to read.
func (e *Engine) withQoS(st *netconf.State, targets ...*netconf.Target) *netconf.State {
	var missing []string
	for _, name := range netconf.QoSDevices(targets...) {
		if st.QoS[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return st
	}
	read, err := e.opts.Kernel.ReadQoS(missing)
	if err != nil {
		e.log.Warn("reading traffic control", zap.Error(err))
	}
	out := *st
	out.QoS = make(map[string]*netconf.QoSState, len(st.QoS)+len(read))
	maps.Copy(out.QoS, st.QoS)
	maps.Copy(out.QoS, read)
	return &out
}

// watchTC has the drift watcher look again when traffic control changes:
// a class changed with tc sends no link notification.
func (e *Engine) watchTC(ctx context.Context) {
	if err := kernel.WatchTC(ctx, e.opts.Namespace, e.kickDrift); err != nil {
		e.log.Warn("cannot follow traffic control changes; host network QoS drift is reported on reads only", zap.Error(err))
	}
}

// readQoS reads one device's traffic control, to validate a request.
func (e *Engine) readQoS(dev string) (*netconf.QoSState, error) {
	m, err := e.opts.Kernel.ReadQoS([]string{dev})
	return m[dev], err
}
