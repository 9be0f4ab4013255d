package engine

import (
	"github.com/hostnetd/hostnetd/netconf"
)

// A write decides everything before its first kernel write, in two calls
// of netconf: it merges the request into the running configuration
// (mergeChange: netconf.MergeChange), then plans the kernel writes
// (planChange: netconf.PlanChange). Both only read, so a dry run calls
// them too and stops there; a transaction goes on to apply.

// merged is a change merged into the running configuration and validated.
type merged struct {
	cur     *netconf.State     // the kernel as planning must see it; nil: read it then
	running *netconf.Config    // the running configuration it was merged into
	nets    []*netconf.Network // the catalogue of running
	cfg     *netconf.Config    // the configuration to run
	how     applyHow
}

// mergeChange merges and validates ch into the running configuration. A
// broken rule is its engine error. Validation and drift need the kernel's
// links and addresses, which the monitor's view has, up to date, without a
// dump; planning reads the kernel afresh, and only when there is something
// to plan.
func (e *Engine) mergeChange(ch Change) (merged, error) {
	nets, running := e.snapshot()
	view, err := e.observedState()
	if err != nil {
		return merged{}, err
	}
	m, err := netconf.MergeChange(netconf.ChangeInput{NewNetworks: ch.Networks, MergeInput: netconf.MergeInput{
		Request: ch.Request, Running: running, Networks: nets, Kernel: view,
		NicName:                e.nicNameResolver(view, running),
		NewAttachmentID:        func(netID string) string { return attachmentID(e.hostID, netID) },
		MaxConnectivityTimeout: e.opts.MaxConnectivityTimeout,
		OutOfSync:              e.driftedAttachments(running, nets, view),
		Ethtool:                e.readEthtool,
		QoSSupported:           e.opts.Kernel.QoSSupported,
		QoS:                    e.readQoS,
	}})
	if err != nil {
		return merged{}, RuleError(err)
	}
	return merged{running: running, nets: nets, cfg: m.Config, how: applyHow{synced: m.Synced, await: m.Await}}, nil
}

// planChange plans the kernel writes that take the kernel from running
// (with the catalogue oldNets) to cfg (with newNets, or oldNets when nil),
// from cur, or when cur is nil from a fresh read if any device is in
// scope; it writes nothing.
func (e *Engine) planChange(cur *netconf.State, running *netconf.Config, oldNets []*netconf.Network, cfg *netconf.Config, newNets []*netconf.Network, how applyHow) (netconf.PlannedChange, error) {
	view := cur
	if view == nil {
		var err error
		if view, err = e.observedState(); err != nil {
			return netconf.PlannedChange{}, err
		}
	}
	return netconf.PlanChange(netconf.PlanInput{
		Running: running, OldNetworks: oldNets, Desired: cfg, NewNetworks: newNets, View: view,
		Synced: how.synced, Full: how.full,
		OldTarget: func() *netconf.Target {
			return e.targets.Get(running, oldNets, nil, func() *netconf.Target { return netconf.BuildTarget(running, oldNets) })
		},
		Read: func(oldT, newT *netconf.Target) (*netconf.State, error) {
			st := cur
			if st == nil {
				var err error
				if st, err = e.readState(); err != nil {
					return nil, err
				}
			}
			return e.withEthtool(st, oldT, newT), nil
		},
	})
}
