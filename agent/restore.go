package agent

import (
	"context"

	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
)

// restoredMarker, in the run directory (a tmpfs cleared at boot), says the
// persistent configuration was restored in this boot: a later restart keeps
// the running configuration instead.
const restoredMarker = "restored"

// CodeRestoreInProgress answers writes that arrive before restore finished.
const CodeRestoreInProgress = "RESTORE_IN_PROGRESS"

// Restored is closed once restore at boot has finished (or was not needed).
func (a *Agent) Restored() <-chan struct{} { return a.restored }

// restoreAtBoot makes the kernel match the persistent configuration on the
// first start after a boot. It applies the whole configuration at once; if
// the kernel refuses part of it, it goes entity by entity, skipping (and
// logging) the ones that fail, so one bad entity does not block the rest.
// Entities whose NIC or network is gone are skipped up front.
func (a *Agent) restoreAtBoot(ctx context.Context) error {
	defer a.releaseMemory()
	defer close(a.restored)
	marker := filepath.Join(a.opts.RunDir, restoredMarker)
	if _, err := os.Stat(marker); err == nil {
		a.log.Info("restore skipped: already done in this boot; keeping the running configuration")
		a.reconcileDHCP(ctx)
		a.lookPending()
		return nil
	}
	unlock, err := a.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	a.notify("STATUS=" + a.idleStatus())
	start := time.Now()
	cur, err := a.readState()
	if err != nil {
		return err
	}
	nets, _ := a.snapshot()
	a.mu.RLock()
	persistent := a.persistent.Clone()
	a.mu.RUnlock()
	wanted := a.restorable(persistent, nets, cur)
	if _, err := a.restoreTx(ctx, cur, wanted); err != nil {
		a.log.Warn("restoring the whole configuration failed; restoring entity by entity", zap.Error(err))
		a.restoreEachEntity(ctx, wanted)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopped in the middle: the next start restores again
	}
	if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing the restore marker: %w", err)
	}
	a.metrics.restored(time.Since(start))
	a.lookPending()
	a.log.Info("persistent configuration restored", zap.Duration("duration", time.Since(start)),
		zap.Int("bonds", len(wanted.Bonds)), zap.Int("attachments", len(wanted.Attachments)))
	return nil
}

// restoreTx applies a configuration to restore as one transaction.
func (a *Agent) restoreTx(ctx context.Context, cur *netconf.State, cfg *netconf.Config) (res txResult, err error) {
	ctx, tx := a.beginTx(ctx, "restore")
	defer func() { a.endTx(tx, res, err) }()
	return a.applyConfig(ctx, cur, cfg, nil, applyHow{full: true})
}

// restorable drops what cannot be restored on this kernel: bond slaves
// that disappeared (a bond keeps the ones that exist), bonds left without
// a slave, and attachments whose network is gone. An attachment whose NIC
// is missing is kept, pending.
func (a *Agent) restorable(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) *netconf.Config {
	out := &netconf.Config{}
	byID := networksByID(nets)
	for _, b := range cfg.Bonds {
		var slaves []string
		for _, s := range b.Slaves {
			if _, ok := st.Link(s); ok {
				slaves = append(slaves, s)
			} else {
				a.log.Error("restore: bond slave is missing; restoring the bond without it", zap.String("bond", b.Name), zap.String("slave", s))
			}
		}
		if len(slaves) == 0 {
			a.log.Error("restore: skipping a bond none of whose slaves exists", zap.String("bond", b.Name))
			continue
		}
		b.Slaves = slaves
		out.Bonds = append(out.Bonds, b)
	}
	for _, at := range cfg.Attachments {
		_, nicExists := st.Link(at.Nic)
		isBond := slices.ContainsFunc(out.Bonds, func(b netconf.BondConfig) bool { return b.Name == at.Nic })
		hasNet := byID[at.NetworkID] != nil
		switch {
		case !hasNet:
			a.log.Error("restore: skipping an attachment whose network is gone", zap.String("attachment", at.ID))
		case !nicExists && !isBond:
			// Kept, pending (pending.go): no plan touches it, and it is
			// applied when its NIC appears; a commit keeps it persistent.
			a.log.Warn("restore: the NIC of an attachment is missing; the attachment is pending until it appears", zap.String("attachment", at.ID), zap.String("nic", at.Nic))
			out.Attachments = append(out.Attachments, at)
		default:
			out.Attachments = append(out.Attachments, at)
		}
	}
	out.Labels = restorableLabels(cfg.Labels, out, st)
	return out
}

// restorableLabels keeps the labels whose NIC exists, or whose bond cfg
// restores.
func restorableLabels(labels []netconf.NicLabel, cfg *netconf.Config, st *netconf.State) []netconf.NicLabel {
	var out []netconf.NicLabel
	for _, l := range labels {
		_, nicExists := st.Link(l.Nic)
		if nicExists || slices.ContainsFunc(cfg.Bonds, func(b netconf.BondConfig) bool { return b.Name == l.Nic }) {
			out = append(out, l)
		}
	}
	return out
}

// restoreEachEntity adds the bonds, then the attachments, one transaction
// each; a failing entity is rolled back and skipped.
func (a *Agent) restoreEachEntity(ctx context.Context, wanted *netconf.Config) {
	accepted := &netconf.Config{}
	try := func(candidate *netconf.Config, what string) {
		cur, err := a.readState()
		if err == nil {
			candidate.Labels = restorableLabels(wanted.Labels, candidate, cur)
			_, err = a.restoreTx(ctx, cur, candidate)
		}
		if err != nil {
			a.log.Error("restore: skipping an entity that cannot be restored", zap.String("entity", what), zap.Error(err))
			return
		}
		accepted = candidate
	}
	for _, b := range wanted.Bonds {
		c := accepted.Clone()
		c.Bonds = append(c.Bonds, b)
		try(c, "bond "+b.Name)
	}
	for _, at := range wanted.Attachments {
		if !slices.ContainsFunc(accepted.Bonds, func(b netconf.BondConfig) bool { return b.Name == at.Nic }) &&
			slices.ContainsFunc(wanted.Bonds, func(b netconf.BondConfig) bool { return b.Name == at.Nic }) {
			a.log.Error("restore: skipping an attachment whose bond could not be restored", zap.String("attachment", at.ID))
			continue
		}
		c := accepted.Clone()
		c.Attachments = append(c.Attachments, at)
		try(c, "attachment "+at.ID)
	}
}

// refuseWhileRestoring answers writes with 503 until restore has finished.
func (a *Agent) refuseWhileRestoring(w http.ResponseWriter, r *http.Request, f format) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	select {
	case <-a.restored:
		return false
	default:
	}
	w.Header().Set("Retry-After", "5")
	a.writeFault(w, r, f, newFault(http.StatusServiceUnavailable, CodeRestoreInProgress, "Service unavailable",
		"hostnetd is restoring the persistent network configuration; retry shortly"))
	return true
}

// lookPending records the attachments restore left pending, and has the
// drift watcher look: a NIC may have appeared meanwhile.
func (a *Agent) lookPending() {
	st, err := a.observedState()
	if err != nil {
		a.log.Warn("reading the kernel for pending attachments", zap.Error(err))
		return
	}
	a.notePending(st)
	a.kickDrift()
}
