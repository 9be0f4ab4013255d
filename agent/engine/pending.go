package engine

import (
	"context"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
)

// Pending attachments (netconf/pending.go) are left out of every plan;
// when the monitor sees the NIC of one appear, the engine applies it, as
// a synchronisation of it.

// CodeAttachmentPending is the event of an attachment left pending, and
// CodePendingApplied the one of a pending attachment applied.
const (
	CodeAttachmentPending = "NETWORK_ATTACHMENT_PENDING"
	CodePendingApplied    = "NETWORK_ATTACHMENT_PENDING_APPLIED"
)

// applyAppeared applies the attachments pending at the last look whose
// NIC the kernel now has (st), as one transaction that synchronises them,
// in the background: the drift watcher calls it each time the view
// changed. A failure leaves them pending, to be tried again at the next
// change.
func (e *Engine) applyAppeared(ctx context.Context, st *netconf.State) {
	_, running := e.snapshot()
	now := pendingIDs(running, st)
	if len(appearedSince(e.pendingNICs.Load(), now, running)) == 0 {
		e.pendingNICs.Store(&now)
		return
	}
	if !e.pendingBusy.CompareAndSwap(false, true) {
		return // already on it
	}
	go func() {
		defer e.pendingBusy.Store(false)
		unlock, err := e.lockWriter(ctx)
		if err != nil {
			return
		}
		defer unlock()
		st, err := e.observedState()
		if err != nil {
			return
		}
		_, running := e.snapshot() // as it is now that the slot is held
		now := pendingIDs(running, st)
		appeared := appearedSince(e.pendingNICs.Load(), now, running)
		if len(appeared) == 0 {
			e.pendingNICs.Store(&now)
			return
		}
		txCtx, tx := e.beginTx(ctx, "pending")
		res, err := e.planApplyCommit(txCtx, nil, running, nil, applyHow{synced: appeared})
		e.endTx(tx, res, err)
		if err != nil {
			e.log.Error("applying the attachments whose NIC appeared failed; they stay pending", zap.Strings("attachments", appeared), zap.Error(err))
			return
		}
		e.pendingNICs.Store(&now)
		for _, id := range appeared {
			if i := slices.IndexFunc(running.Attachments, func(o netconf.Attachment) bool { return o.ID == id }); i >= 0 {
				e.events.record("normal", CodePendingApplied, fmt.Sprintf("attachment %s applied: its NIC %s appeared", id, running.Attachments[i].Nic))
			}
		}
	}()
}

// pendingSet is the set of attachments (by id) pending at a look.
type pendingSet map[string]bool

func pendingIDs(running *netconf.Config, st *netconf.State) pendingSet {
	set := pendingSet{}
	for _, at := range netconf.PendingOf(running, st) {
		set[at.ID] = true
	}
	return set
}

// appearedSince lists the attachments of running pending in prev but not
// in now.
func appearedSince(prev *pendingSet, now pendingSet, running *netconf.Config) []string {
	if prev == nil {
		return nil
	}
	var out []string
	for _, at := range running.Attachments {
		if (*prev)[at.ID] && !now[at.ID] {
			out = append(out, at.ID)
		}
	}
	return out
}

// notePending records the pending attachments of the running
// configuration as events, and remembers them for applyAppeared.
func (e *Engine) notePending(st *netconf.State) {
	_, running := e.snapshot()
	set := pendingSet{}
	for _, at := range netconf.PendingOf(running, st) {
		set[at.ID] = true
		e.events.record("warning", CodeAttachmentPending, fmt.Sprintf("attachment %s is pending: its NIC %s is missing; it is applied when the NIC appears", at.ID, at.Nic))
	}
	e.pendingNICs.Store(&set)
}
