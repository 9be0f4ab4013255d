package engine

import (
	"context"
	"errors"
	"slices"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/lldp"
)

// The engine's surface for the agent: reads of the committed configuration
// and of the kernel, and the writes, each one transaction under the writer
// slot. Everything else is the engine's own.

// CodeNoCheckPending answers a confirmation with nothing to confirm.
const CodeNoCheckPending = "NO_CONNECTIVITY_CHECK_PENDING"

// Snapshot returns the network catalogue and the running configuration
// as readers see them. Both are replaced whole by a commit, never
// modified: callers must not modify them either.
func (e *Engine) Snapshot() ([]*netconf.Network, *netconf.Config) { return e.snapshot() }

// Network is the catalogue's network of that id, or nil.
func (e *Engine) Network(id string) *netconf.Network { return e.networkByID(id) }

// State is the kernel's state as the monitor sees it (a dump without a
// monitor), brought up to every notification already queued. It is
// shared: callers must not modify it.
func (e *Engine) State() (*netconf.State, error) { return e.observedState() }

// Drifted maps each running attachment that drifted from its
// configuration in st to its differences.
func (e *Engine) Drifted(st *netconf.State) map[string][]string {
	nets, running := e.snapshot()
	return e.driftedAttachments(running, nets, st)
}

// NicName maps NIC and bond ids to device names: st's links and the
// running configuration's bonds (which may not exist yet).
func (e *Engine) NicName(st *netconf.State) func(id string) (string, bool) {
	_, running := e.snapshot()
	return e.nicNameResolver(st, running)
}

// UnmanagedNetworks lists the bridges and VLAN devices of st that the
// running configuration does not own.
func (e *Engine) UnmanagedNetworks(st *netconf.State) []netconf.Unmanaged {
	return e.unmanagedNetworks(st)
}

// Neighbors are the LLDP neighbours last heard on a link.
func (e *Engine) Neighbors(link string) []*lldp.Neighbor { return e.lldp.neighbors(link) }

// Busy reports whether a write holds the writer slot.
func (e *Engine) Busy() bool { return len(e.writer) > 0 }

// Dirty reports whether the running configuration has changes that are
// not committed to the persistent one.
func (e *Engine) Dirty() bool { return e.configDirty() }

// Status is the service manager's STATUS= line when no write runs.
func (e *Engine) Status() string { return e.idleStatus() }

// ReleaseMemory gives the heap of a large transaction back to the system,
// once its answer is out (memory.go); it costs nothing otherwise.
func (e *Engine) ReleaseMemory() { e.releaseMemory() }

// Confirm confirms the connectivity of the change waiting for it; Conflict
// when none waits. It does not take the writer slot: the change holds it.
func (e *Engine) Confirm() error {
	if !e.check.confirm() {
		return newError(Conflict, CodeNoCheckPending, "Operation Failed",
			"no network change is waiting for a connectivity confirmation")
	}
	return nil
}

// Commit makes the running configuration the persistent one
// (commitnetconfig).
func (e *Engine) Commit(ctx context.Context) error {
	unlock, err := e.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return e.commitPersistent()
}

// EditCatalogue is how the catalogue changes: edit gets the catalogue and
// the running configuration, under the writer slot, and returns the new
// catalogue with the request that goes with it (attachments a label
// moves). Names stay unique. A change that touches no attachment is
// stored at once; one that does goes through a transaction.
func (e *Engine) EditCatalogue(ctx context.Context, edit func(nets []*netconf.Network, running *netconf.Config) ([]*netconf.Network, netconf.ChangeSet, error)) (Result, error) {
	unlock, err := e.lockWriter(ctx)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	nets, running := e.snapshot()
	next, cs, err := edit(nets, running)
	if err != nil {
		return Result{}, RuleError(err)
	}
	if err := netconf.CheckNetworkNames(next); err != nil {
		return Result{}, RuleError(err)
	}
	if len(running.Attachments) == 0 && len(cs.ModifiedAttachments) == 0 {
		return Result{Running: running}, e.commitRunning(running, next)
	}
	return e.transactHeld(ctx, Change{Networks: next, Request: cs})
}

// RemoveUnmanaged deletes the unmanaged network of that name, journaled
// and rolled back like any other transaction.
func (e *Engine) RemoveUnmanaged(ctx context.Context, name string) (res Result, err error) {
	unlock, err := e.lockWriter(ctx)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	ctx, tx := e.beginTx(ctx, "request")
	defer func() { e.endTx(tx, res, err) }()
	return e.removeUnmanaged(ctx, name)
}

// SyncAll re-applies every attachment that drifted from its configuration,
// as one transaction.
func (e *Engine) SyncAll(ctx context.Context) (Result, error) {
	st, err := e.readState()
	if err != nil {
		return Result{}, err
	}
	st = e.withRunningEthtool(st)
	nets, running := e.snapshot()
	var ids []string
	for id := range e.driftedAttachments(running, nets, st) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return e.Transact(ctx, Change{Request: netconf.ChangeSet{SyncedAttachments: ids}})
}

// CheckSynced refuses (NotFound) an unknown attachment id among those a
// request synchronises.
func (e *Engine) CheckSynced(ids []string) error {
	_, running := e.snapshot()
	for _, id := range ids {
		if !slices.ContainsFunc(running.Attachments, func(at netconf.Attachment) bool { return at.ID == id }) {
			return notFound("network_attachment", id)
		}
	}
	return nil
}

// KindOf is the kind of an engine error, Internal for any other error.
func KindOf(err error) Kind {
	var ee *Error
	if errors.As(err, &ee) {
		return ee.Kind
	}
	return Internal
}
