package agent

import (
	"github.com/hostnetd/hostnetd/netconf"
)

// A write decides everything before its first kernel write: it merges the
// request into the running configuration (mergeChange), then plans the
// kernel writes (planChange). Both only read, so a dry run calls them too
// and stops there; a transaction goes on to apply.

// merged is a change merged into the running configuration and validated.
type merged struct {
	cur     *netconf.State     // the kernel as planning must see it; nil: read it then
	running *netconf.Config    // the running configuration it was merged into
	nets    []*netconf.Network // the catalogue of running
	cfg     *netconf.Config    // the configuration to run
	how     applyHow
}

// mergeChange merges and validates ch into the running configuration. A
// broken rule is its API fault. Validation and drift need the kernel's
// links and addresses, which the monitor's view has, up to date, without a
// dump; planning reads the kernel afresh, and only when there is something
// to plan.
func (a *Agent) mergeChange(ch change) (merged, error) {
	oldNets, running := a.snapshot()
	nets := oldNets
	if ch.networks != nil {
		nets = ch.networks
	}
	view, err := a.observedState()
	if err != nil {
		return merged{}, err
	}
	nicName := a.nicNameResolver(view, running)
	request, labels, err := netconf.ExpandLabels(netconf.LabelInput{
		Request: ch.request, Running: running, Networks: nets, NicName: nicName,
		NicExists: func(name string) bool { return nicExists(view, ch.request, name) },
	})
	if err != nil {
		return merged{}, ruleFault(err)
	}
	// Attachments whose NIC is missing are pending (pending.go): they are
	// carried over, not validated, unless the request names them.
	req, base, kept := splitPending(request, running, nets, view)
	cfg, resynced, err := netconf.MergeAndSync(netconf.MergeInput{
		Request: req, Running: base, Networks: nets, Kernel: view,
		NicName:                nicName,
		NewAttachmentID:        func(netID string) string { return attachmentID(a.hostID, netID) },
		MaxConnectivityTimeout: a.opts.MaxConnectivityTimeout,
		OutOfSync:              a.driftedAttachments(running, nets, view),
		Ethtool:                a.readEthtool,
		QoSSupported:           a.qosSupported,
		QoS:                    a.readQoS,
	})
	if err != nil {
		return merged{}, ruleFault(err)
	}
	if err := netconf.CheckLabels(labels, cfg, nets, view); err != nil {
		return merged{}, ruleFault(err)
	}
	cfg = withPending(cfg, kept, running)
	cfg.Labels = labels
	how := applyHow{synced: append(req.SyncedAttachments, resynced...)}
	if ch.request.CheckConnectivity {
		how.await = a.connectivityTimeout(ch.request)
	}
	return merged{running: running, nets: oldNets, cfg: cfg, how: how}, nil
}

// scopedPlan is a configuration change planned against the kernel: the
// targets before and after, the devices in scope (nil: all), the plan and
// the kernel it was planned from (nil when nothing was in scope).
type scopedPlan struct {
	oldT, newT *netconf.Target
	scope      []string
	plan       netconf.Plan
	cur        *netconf.State
	// pending says the configuration planned has pending attachments.
	pending bool
}

// planChange plans the kernel writes that take the kernel from running
// (with the catalogue oldNets) to cfg (with newNets, or oldNets when nil),
// from cur, or when cur is nil from a fresh read if any device is in
// scope; it writes nothing. A request is a delta: when it changes no
// device, none is in scope and the plan is empty.
func (a *Agent) planChange(cur *netconf.State, running *netconf.Config, oldNets []*netconf.Network, cfg *netconf.Config, newNets []*netconf.Network, how applyHow) (scopedPlan, error) {
	if newNets == nil {
		newNets = oldNets
	}
	// Pending attachments (their NIC is missing) are left out of both
	// targets: no plan touches them.
	view := cur
	if view == nil {
		var err error
		if view, err = a.observedState(); err != nil {
			return scopedPlan{}, err
		}
	}
	effRunning, effCfg := effective(running, view), effective(cfg, view)
	var oldT *netconf.Target
	if effRunning == running {
		oldT = a.targets.get(running, oldNets, nil, func() *netconf.Target { return netconf.BuildTarget(running, oldNets) })
	} else {
		oldT = netconf.BuildTarget(effRunning, oldNets)
	}
	// A target follows from its configuration and catalogue alone: a
	// request that changes neither (a re-sent one) has the same target,
	// and no device that changed.
	unchanged := sameSlice(newNets, oldNets) && effCfg.Equal(effRunning)
	newT := oldT
	if !unchanged {
		newT = netconf.BuildTarget(effCfg, newNets)
	}
	var scope []string // nil: every device
	if !how.full {
		scope = syncedDevices(cfg, newNets, how.synced)
		if !unchanged {
			scope = append(netconf.ChangedDevices(oldT, newT), scope...)
		}
		scope = append([]string{}, scope...) // empty, not nil: no device
	}
	sp := scopedPlan{oldT: oldT, newT: newT, scope: scope, cur: cur, pending: effCfg != cfg}
	if scope != nil && len(scope) == 0 {
		return sp, nil
	}
	if sp.cur == nil {
		var err error
		if sp.cur, err = a.readState(); err != nil {
			return scopedPlan{}, err
		}
	}
	sp.cur = a.withEthtool(sp.cur, oldT, newT)
	sp.plan = netconf.MakeScopedPlan(sp.cur, oldT, newT, scope)
	return sp, nil
}

// sameSlice reports whether a and b are the same slice (catalogues are
// replaced whole, never modified in place).
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// nicExists tells whether a label may name the interface: a NIC or bond
// of the kernel (not loopback, a bridge or a VLAN device), or a bond the
// request creates.
func nicExists(view *netconf.State, request netconf.ChangeSet, name string) bool {
	if l, ok := view.Link(name); ok && name != "lo" && l.Kind != netconf.KindBridge && l.Kind != netconf.KindVLAN {
		return true
	}
	for _, b := range request.ModifiedBonds {
		if b.Ref.Name == name {
			return true
		}
	}
	return false
}
