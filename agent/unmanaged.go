package agent

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// unmanagedNetworks lists the bridges and VLAN devices of st that the
// running configuration does not own.
func (a *Agent) unmanagedNetworks(st *netconf.State) []netconf.Unmanaged {
	nets, running := a.snapshot()
	return netconf.UnmanagedNetworks(st, netconf.BuildTarget(running, nets))
}

// findUnmanaged finds an unmanaged network by id (its name in hex) or name.
func findUnmanaged(us []netconf.Unmanaged, key string) (netconf.Unmanaged, bool) {
	for _, u := range us {
		if key == xmlapi.UnmanagedNetworkID(u.Name) || key == u.Name {
			return u, true
		}
	}
	return netconf.Unmanaged{}, false
}

// listUnmanagedNetworks is GET /hosts/{id}/unmanagednetworks.
func (a *Agent) listUnmanagedNetworks(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	limit, err := maxParam(r)
	if err != nil {
		return response{}, err
	}
	st, err := a.observedState()
	if err != nil {
		return response{}, err
	}
	us := a.unmanagedNetworks(st)
	if limit >= 0 && limit < len(us) {
		us = us[:limit]
	}
	return ok(xmlapi.UnmanagedNetworks(a.ctx(), us)), nil
}

// getUnmanagedNetwork is GET /hosts/{id}/unmanagednetworks/{id}.
func (a *Agent) getUnmanagedNetwork(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	st, err := a.observedState()
	if err != nil {
		return response{}, err
	}
	key := r.param("unmanagednetwork")
	u, found := findUnmanaged(a.unmanagedNetworks(st), key)
	if !found {
		return response{}, notFound("unmanaged_network", key)
	}
	return ok(xmlapi.UnmanagedNetwork(a.ctx(), u)), nil
}

// deleteUnmanagedNetwork is DELETE /hosts/{id}/unmanagednetworks/{id}:
// one transaction that deletes the device, journaled and rolled back like
// any other.
func (a *Agent) deleteUnmanagedNetwork(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	unlock, err := a.lockWriter(r.Context())
	if err != nil {
		return response{}, err
	}
	defer unlock()
	ctx, tx := a.beginTx(r.Context(), "request")
	res, err := a.removeUnmanaged(ctx, r.param("unmanagednetwork"))
	a.endTx(tx, res, err)
	return response{status: http.StatusOK, writes: res.Writes}, err
}

// removeUnmanaged deletes the unmanaged network named by key, as found
// in the kernel read afresh under the writer slot: it snapshots the device
// and its ports to the journal, applies, verifies that the device is
// gone, and on any failure restores the snapshot.
func (a *Agent) removeUnmanaged(ctx context.Context, key string) (txResult, error) {
	planning := time.Now()
	st, err := a.readState()
	if err != nil {
		return txResult{}, err
	}
	u, found := findUnmanaged(a.unmanagedNetworks(st), key)
	if !found {
		return txResult{}, notFound("unmanaged_network", key)
	}
	plan, names := netconf.UnmanagedRemoval(st, u)
	notePhase(ctx, phasePlan, planning)
	j := &journal{Started: time.Now(), Next: netconf.SnapshotTarget(st, nil), Snapshot: netconf.SnapshotTarget(st, names),
		Names: names, Before: &netconf.State{Routes: st.Routes, Rules: st.Rules}}
	if err := a.writeJournal(j); err != nil {
		return txResult{}, err
	}
	res := txResult{Plan: plan}
	start := time.Now()
	res.Writes, err = a.apply(ctx, a.instrument(plan))
	notePhase(ctx, phaseWrite, start)
	if err == nil {
		verifying := time.Now()
		err = a.verifyGone(u.Name)
		notePhase(ctx, phaseVerify, verifying)
	}
	a.noteApply(ctx, start, res.Writes)
	if err != nil {
		return res, a.rollBack(ctx, j, res.Writes, a.interrupted(ctx, newFault(http.StatusBadRequest, netconf.CodeFailedIfup, "Operation Failed",
			"removing unmanaged network %s failed at %q; the host was rolled back", u.Name, failedStep(err))))
	}
	if err := a.removeJournal(); err != nil {
		return res, err
	}
	a.events.add("normal", "UNMANAGED_NETWORK_REMOVED", fmt.Sprintf("unmanaged network %s removed: %d kernel writes", u.Name, res.Writes))
	return res, nil
}

// verifyGone reads the kernel back: the deleted device must be gone.
func (a *Agent) verifyGone(name string) error {
	st, err := a.readState()
	if err != nil {
		return err
	}
	if _, still := st.Link(name); still {
		return fmt.Errorf("verify: %s is still there", name)
	}
	return nil
}
