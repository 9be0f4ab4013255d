package engine

import (
	"context"

	"fmt"
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
func (e *Engine) Restored() <-chan struct{} { return e.restored }

// Writable says whether writes are taken: not (Restoring) until restore
// at boot has finished.
func (e *Engine) Writable() error {
	select {
	case <-e.restored:
		return nil
	default:
		return newError(Restoring, CodeRestoreInProgress, "Service unavailable",
			"hostnetd is restoring the persistent network configuration; retry shortly")
	}
}

// restoreAtBoot makes the kernel match the persistent configuration on the
// first start after a boot. It applies the whole configuration at once; if
// the kernel refuses part of it, it goes entity by entity, skipping (and
// logging) the ones that fail, so one bad entity does not block the rest.
// Entities whose NIC or network is gone are skipped up front.
func (e *Engine) restoreAtBoot(ctx context.Context) error {
	defer e.releaseMemory()
	defer close(e.restored)
	marker := filepath.Join(e.opts.RunDir, restoredMarker)
	if _, err := os.Stat(marker); err == nil {
		e.log.Info("restore skipped: already done in this boot; keeping the running configuration")
		e.reconcileDHCP(ctx)
		e.lookPending()
		return nil
	}
	unlock, err := e.lockWriter(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	e.notify("STATUS=" + e.idleStatus())
	start := time.Now()
	cur, err := e.readState()
	if err != nil {
		return err
	}
	nets, _ := e.snapshot()
	e.mu.RLock()
	persistent := e.persistent // replaced whole on commit, never edited
	e.mu.RUnlock()
	wanted := e.restorable(persistent, nets, cur)
	if _, err := e.restoreTx(ctx, cur, wanted); err != nil {
		e.log.Warn("restoring the whole configuration failed; restoring entity by entity", zap.Error(err))
		e.restoreEachEntity(ctx, wanted)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopped in the middle: the next start restores again
	}
	if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing the restore marker: %w", err)
	}
	e.metrics.restored(time.Since(start))
	e.lookPending()
	e.log.Info("persistent configuration restored", zap.Duration("duration", time.Since(start)),
		zap.Int("bonds", len(wanted.Bonds)), zap.Int("attachments", len(wanted.Attachments)))
	return nil
}

// restoreTx applies a configuration to restore as one transaction.
func (e *Engine) restoreTx(ctx context.Context, cur *netconf.State, cfg *netconf.Config) (res Result, err error) {
	ctx, tx := e.beginTx(ctx, "restore")
	defer func() { e.endTx(tx, res, err) }()
	return e.planApplyCommit(ctx, cur, cfg, nil, applyHow{full: true})
}

// restorable drops what cannot be restored on this kernel: bond slaves
// that disappeared (a bond keeps the ones that exist), bonds left without
// a slave, and attachments whose network is gone. An attachment whose NIC
// is missing is kept, pending. When nothing is dropped it returns cfg
// itself, so that the running configuration restore commits is the
// persistent one, not a second copy of it (megabytes on a host with
// thousands of networks).
func (e *Engine) restorable(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) *netconf.Config {
	out := &netconf.Config{}
	byID := netconf.NetworksByID(nets)
	dropped := false
	for _, b := range cfg.Bonds {
		var slaves []string
		for _, s := range b.Slaves {
			if _, ok := st.Link(s); ok {
				slaves = append(slaves, s)
			} else {
				dropped = true
				e.log.Error("restore: bond slave is missing; restoring the bond without it", zap.String("bond", b.Name), zap.String("slave", s))
			}
		}
		if len(slaves) == 0 {
			e.log.Error("restore: skipping a bond none of whose slaves exists", zap.String("bond", b.Name))
			dropped = true
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
			dropped = true
			e.log.Error("restore: skipping an attachment whose network is gone", zap.String("attachment", at.ID))
		case !nicExists && !isBond:
			// Kept, pending (pending.go): no plan touches it, and it is
			// applied when its NIC appears; a commit keeps it persistent.
			e.log.Warn("restore: the NIC of an attachment is missing; the attachment is pending until it appears", zap.String("attachment", at.ID), zap.String("nic", at.Nic))
			out.Attachments = append(out.Attachments, at)
		default:
			out.Attachments = append(out.Attachments, at)
		}
	}
	out.Labels = restorableLabels(cfg.Labels, out, st)
	if !dropped && len(out.Labels) == len(cfg.Labels) {
		return cfg
	}
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
func (e *Engine) restoreEachEntity(ctx context.Context, wanted *netconf.Config) {
	accepted := &netconf.Config{}
	try := func(candidate *netconf.Config, what string) {
		cur, err := e.readState()
		if err == nil {
			candidate.Labels = restorableLabels(wanted.Labels, candidate, cur)
			_, err = e.restoreTx(ctx, cur, candidate)
		}
		if err != nil {
			e.log.Error("restore: skipping an entity that cannot be restored", zap.String("entity", what), zap.Error(err))
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
			e.log.Error("restore: skipping an attachment whose bond could not be restored", zap.String("attachment", at.ID))
			continue
		}
		c := accepted.Clone()
		c.Attachments = append(c.Attachments, at)
		try(c, "attachment "+at.ID)
	}
}

// lookPending records the attachments restore left pending, and has the
// drift watcher look: a NIC may have appeared meanwhile.
func (e *Engine) lookPending() {
	st, err := e.observedState()
	if err != nil {
		e.log.Warn("reading the kernel for pending attachments", zap.Error(err))
		return
	}
	e.notePending(st)
	e.kickDrift()
}
