package engine

import (
	"context"
	"maps"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// The link dump carries no ethtool settings: they are read by ioctl, for
// the devices whose settings the targets at hand manage (ethtool_opts),
// and added to a copy of the state.

// withEthtool returns st with the ethtool settings of every device of the
// targets that has some, read now; st itself when there are none to read.
// The traffic control of host network QoS is read the same way (qos.go).
func (e *Engine) withEthtool(st *netconf.State, targets ...*netconf.Target) *netconf.State {
	st = e.withQoS(st, targets...)
	var missing []string
	for _, name := range netconf.EthtoolDevices(targets...) {
		if st.Ethtool[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return st
	}
	read, err := e.opts.Kernel.ReadEthtool(missing)
	if err != nil {
		e.log.Warn("reading ethtool settings", zap.Error(err))
	}
	out := *st
	out.Ethtool = make(map[string]*netconf.EthtoolState, len(st.Ethtool)+len(read))
	maps.Copy(out.Ethtool, st.Ethtool)
	maps.Copy(out.Ethtool, read)
	return &out
}

// withRunningEthtool is withEthtool for the running configuration's
// devices, as reads and drift need.
func (e *Engine) withRunningEthtool(st *netconf.State) *netconf.State {
	nets, running := e.snapshot()
	if !hasEthtoolOpts(running) && !hasQoS(running, nets) {
		return st
	}
	t := e.targets.Get(running, nets, nil, func() *netconf.Target { return netconf.BuildTarget(running, nets) })
	return e.withEthtool(st, t)
}

// hasEthtoolOpts reports whether any attachment of cfg has ethtool_opts.
func hasEthtoolOpts(cfg *netconf.Config) bool {
	for _, at := range cfg.Attachments {
		if _, ok := at.Properties[netconf.EthtoolOptsProperty]; ok {
			return true
		}
	}
	return false
}

// readEthtool reads one device's ethtool settings, to validate a request.
func (e *Engine) readEthtool(dev string) (*netconf.EthtoolState, error) {
	m, err := e.opts.Kernel.ReadEthtool([]string{dev})
	return m[dev], err
}

// watchEthtool has the drift watcher look again when ethtool settings
// change: rings, coalescing and pause send no link notification.
func (e *Engine) watchEthtool(ctx context.Context) {
	if err := kernel.WatchEthtool(ctx, e.opts.Namespace, e.kickDrift); err != nil {
		e.log.Warn("cannot follow ethtool changes; ring, coalescing and pause drift is reported on reads only", zap.Error(err))
	}
}
