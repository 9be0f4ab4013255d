package agent

import "github.com/hostnetd/hostnetd/netconf"

// A write decides everything before its first kernel write: it merges the
// request into the running configuration (mergeChange), then plans the
// kernel writes (planChange). Both only read, so a dry run calls them too
// and stops there; a transaction goes on to apply.

// merged is a change merged into the running configuration and validated.
type merged struct {
	cur     *netconf.State     // the kernel, read for the merge
	running *netconf.Config    // the running configuration it was merged into
	nets    []*netconf.Network // the catalogue of running
	cfg     *netconf.Config    // the configuration to run
	how     applyHow
}

// mergeChange reads the kernel and merges and validates ch into the
// running configuration. A broken rule is its API fault.
func (a *Agent) mergeChange(ch change) (merged, error) {
	oldNets, running := a.snapshot()
	nets := oldNets
	if ch.networks != nil {
		nets = ch.networks
	}
	cur, err := a.readState()
	if err != nil {
		return merged{}, err
	}
	cfg, resynced, err := netconf.MergeAndSync(netconf.MergeInput{
		Request: ch.request, Running: running, Networks: nets, Kernel: cur,
		NicName:                a.nicNameResolver(cur, running),
		NewAttachmentID:        func(netID string) string { return attachmentID(a.hostID, netID) },
		MaxConnectivityTimeout: a.opts.MaxConnectivityTimeout,
		OutOfSync:              outOfSync(running, nets, cur),
	})
	if err != nil {
		return merged{}, ruleFault(err)
	}
	how := applyHow{synced: append(ch.request.SyncedAttachments, resynced...)}
	if ch.request.CheckConnectivity {
		how.await = a.connectivityTimeout(ch.request)
	}
	return merged{cur: cur, running: running, nets: oldNets, cfg: cfg, how: how}, nil
}

// scopedPlan is a configuration change planned against the kernel: the
// targets before and after, the devices in scope (nil: all) and the plan.
type scopedPlan struct {
	oldT, newT *netconf.Target
	scope      []string
	plan       netconf.Plan
}

// planChange plans the kernel writes that take cur from running (with the
// catalogue oldNets) to cfg (with newNets, or oldNets when nil). It reads
// the IPv6 settings and bridge options of the devices involved into cur,
// and writes nothing.
func (a *Agent) planChange(cur *netconf.State, running *netconf.Config, oldNets []*netconf.Network, cfg *netconf.Config, newNets []*netconf.Network, how applyHow) (scopedPlan, error) {
	if newNets == nil {
		newNets = oldNets
	}
	oldT, newT := netconf.BuildTarget(running, oldNets), netconf.BuildTarget(cfg, newNets)
	if err := a.readSysctls(cur, netconf.DeviceNames(oldT, newT)); err != nil {
		return scopedPlan{}, err
	}
	var scope []string
	if !how.full {
		scope = append(netconf.ChangedDevices(oldT, newT), syncedDevices(cfg, newNets, how.synced)...)
	}
	return scopedPlan{oldT: oldT, newT: newT, scope: scope, plan: netconf.MakeScopedPlan(cur, oldT, newT, scope)}, nil
}
