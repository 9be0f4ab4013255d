package engine

import (
	"context"
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
)

// Pending attachments. An attachment of the running configuration whose
// NIC is not in the kernel (late at boot, or unplugged) is pending: it
// stays in the running configuration, and so in what a commit makes
// persistent, but no plan touches it, and a request that does not name it
// is validated and applied without it, so that one missing NIC blocks no
// other change. It is reported out of sync (host_nic: expected the NIC,
// actual "missing"). When the monitor sees the NIC appear, the attachment
// is applied, as a synchronisation of it.

// CodeAttachmentPending is the event of an attachment left pending, and
// CodePendingApplied the one of a pending attachment applied.
const (
	CodeAttachmentPending = "NETWORK_ATTACHMENT_PENDING"
	CodePendingApplied    = "NETWORK_ATTACHMENT_PENDING_APPLIED"
)

// pendingOf lists the attachments of cfg whose NIC is neither a link of st
// nor a bond of cfg.
func pendingOf(cfg *netconf.Config, st *netconf.State) []netconf.Attachment {
	var out []netconf.Attachment
	for _, at := range cfg.Attachments {
		if _, ok := st.Link(at.Nic); ok {
			continue
		}
		if slices.ContainsFunc(cfg.Bonds, func(b netconf.BondConfig) bool { return b.Name == at.Nic }) {
			continue
		}
		out = append(out, at)
	}
	return out
}

// effective is cfg without its pending attachments: what the kernel can
// run. It is cfg itself when nothing is pending.
func effective(cfg *netconf.Config, st *netconf.State) *netconf.Config {
	pending := pendingOf(cfg, st)
	if len(pending) == 0 {
		return cfg
	}
	out := cfg.Clone()
	out.Attachments = slices.DeleteFunc(out.Attachments, func(at netconf.Attachment) bool {
		return slices.ContainsFunc(pending, func(p netconf.Attachment) bool { return p.ID == at.ID })
	})
	return out
}

// splitPending prepares a request for merging into a running configuration
// with pending attachments: the running configuration to merge into is
// the effective one plus the pending attachments the request names (it
// removes or modifies them: their rules apply), the request loses the
// synchronisations of the others (a missing NIC cannot be synchronised),
// and kept are the pending attachments to carry over unchanged.
func splitPending(req netconf.ChangeSet, running *netconf.Config, nets []*netconf.Network, st *netconf.State) (netconf.ChangeSet, *netconf.Config, []netconf.Attachment) {
	pending := pendingOf(running, st)
	if len(pending) == 0 {
		return req, running, nil
	}
	byRef := func(r netconf.Ref) string { // network id of a reference, or ""
		for _, n := range nets {
			if r.ID != "" && n.ID == r.ID || r.ID == "" && r.Name != "" && n.Name == r.Name {
				return n.ID
			}
		}
		return ""
	}
	named := func(at netconf.Attachment) bool {
		for _, r := range req.RemovedAttachments {
			if r.ID == at.ID || r.ID == "" && byRef(r.Network) == at.NetworkID {
				return true
			}
		}
		for _, m := range req.ModifiedAttachments {
			if m.ID == at.ID || m.ID == "" && m.Network != nil && byRef(*m.Network) == at.NetworkID {
				return true
			}
		}
		return false
	}
	var kept []netconf.Attachment
	base := running.Clone()
	base.Attachments = base.Attachments[:0]
	for _, at := range running.Attachments {
		if slices.ContainsFunc(pending, func(p netconf.Attachment) bool { return p.ID == at.ID }) && !named(at) {
			kept = append(kept, at)
			continue
		}
		base.Attachments = append(base.Attachments, at)
	}
	req.SyncedAttachments = slices.DeleteFunc(slices.Clone(req.SyncedAttachments), func(id string) bool {
		return slices.ContainsFunc(kept, func(p netconf.Attachment) bool { return p.ID == id })
	})
	return req, base, kept
}

// withPending puts the pending attachments kept back into a merged
// configuration, unless the request attached their network elsewhere, in
// the order of the running configuration (new attachments last), so that
// a request that changes nothing leaves an equal configuration.
func withPending(cfg *netconf.Config, kept []netconf.Attachment, running *netconf.Config) *netconf.Config {
	if len(kept) == 0 {
		return cfg
	}
	out := cfg.Clone()
	for _, at := range kept {
		if !slices.ContainsFunc(out.Attachments, func(o netconf.Attachment) bool { return o.NetworkID == at.NetworkID }) {
			out.Attachments = append(out.Attachments, at)
		}
	}
	pos := func(id string) int {
		if i := slices.IndexFunc(running.Attachments, func(o netconf.Attachment) bool { return o.ID == id }); i >= 0 {
			return i
		}
		return len(running.Attachments)
	}
	slices.SortStableFunc(out.Attachments, func(a, b netconf.Attachment) int { return pos(a.ID) - pos(b.ID) })
	return out
}

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
		res, err := e.applyConfig(txCtx, nil, running, nil, applyHow{synced: appeared})
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
	for _, at := range pendingOf(running, st) {
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
	for _, at := range pendingOf(running, st) {
		set[at.ID] = true
		e.events.record("warning", CodeAttachmentPending, fmt.Sprintf("attachment %s is pending: its NIC %s is missing; it is applied when the NIC appears", at.ID, at.Nic))
	}
	e.pendingNICs.Store(&set)
}
