package engine

import (
	"github.com/hostnetd/hostnetd/netconf"
)

// driftedAttachments is outOfSync, remembered: every request that modifies
// attachments needs it, the drift watcher computes it after every change,
// and GET /nics and the metrics need it too. On a host that did not change
// they share one comparison of every attachment with the kernel.
func (e *Engine) driftedAttachments(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) map[string][]string {
	return e.drift.Get(cfg, nets, st, func() map[string][]string { return outOfSync(cfg, nets, st) })
}

// outOfSync lists the differences of each running attachment that drifted
// from its configuration.
func outOfSync(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) map[string][]string {
	out := map[string][]string{}
	byID := netconf.NetworksByID(nets)
	drift := netconf.NewDriftCache(cfg, st)
	for _, at := range cfg.Attachments {
		net := byID[at.NetworkID]
		if net == nil {
			continue
		}
		if ok, diffs := netconf.InSync(netconf.AttachmentReported(drift, at, net, st)); !ok {
			out[at.ID] = diffs
		}
	}
	return out
}
