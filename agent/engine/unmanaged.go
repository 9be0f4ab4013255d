package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hostnetd/hostnetd/netconf"
)

// unmanagedNetworks lists the bridges and VLAN devices of st that the
// running configuration does not own.
func (e *Engine) unmanagedNetworks(st *netconf.State) []netconf.Unmanaged {
	nets, running := e.snapshot()
	return netconf.UnmanagedNetworks(st, netconf.BuildTarget(running, nets))
}

// removeUnmanaged deletes the unmanaged network of that name, as found
// in the kernel read afresh under the writer slot: it snapshots the device
// and its ports to the journal, applies, verifies that the device is
// gone, and on any failure restores the snapshot.
func (e *Engine) removeUnmanaged(ctx context.Context, name string) (Result, error) {
	planning := time.Now()
	st, err := e.readState()
	if err != nil {
		return Result{}, err
	}
	us := e.unmanagedNetworks(st)
	i := slices.IndexFunc(us, func(u netconf.Unmanaged) bool { return u.Name == name })
	if i < 0 {
		return Result{}, notFound("unmanaged_network", name)
	}
	u := us[i]
	plan, names := netconf.UnmanagedRemoval(st, u)
	notePhase(ctx, phasePlan, planning)
	j := &journal{Started: time.Now(), Next: netconf.SnapshotTarget(st, nil), Snapshot: netconf.SnapshotTarget(st, names),
		Names: names, Before: &netconf.State{Routes: st.Routes, Rules: st.Rules}}
	if err := e.writeJournal(j); err != nil {
		return Result{}, err
	}
	res := Result{Plan: plan}
	start := time.Now()
	res.Writes, err = e.writePlan(ctx, plan)
	notePhase(ctx, phaseWrite, start)
	if err == nil {
		verifying := time.Now()
		err = e.verifyGone(u.Name)
		notePhase(ctx, phaseVerify, verifying)
	}
	e.noteApply(ctx, start, res.Writes)
	if err != nil {
		return res, e.rollBack(ctx, j, res.Writes, e.interrupted(ctx, newError(ApplyFailed, netconf.CodeFailedIfup, "Operation Failed",
			"removing unmanaged network %s failed at %q; the host was rolled back", u.Name, failedStep(err))))
	}
	if err := e.removeJournal(); err != nil {
		return res, err
	}
	e.events.add("normal", "UNMANAGED_NETWORK_REMOVED", fmt.Sprintf("unmanaged network %s removed: %d kernel writes", u.Name, res.Writes))
	return res, nil
}

// verifyGone reads the kernel back: the deleted device must be gone.
func (e *Engine) verifyGone(name string) error {
	st, err := e.readState()
	if err != nil {
		return err
	}
	if _, still := st.Link(name); still {
		return fmt.Errorf("verify: %s is still there", name)
	}
	return nil
}
