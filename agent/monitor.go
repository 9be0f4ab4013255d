package agent

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// driftSettle lets a burst of kernel notifications (one ip command sends
// several) end before the state is read again.
const driftSettle = 100 * time.Millisecond

// watchDrift follows the kernel's notifications and records an event when
// an attachment drifts from its configuration and when it is back in sync.
// It stops when ctx ends and returns when it has.
func (a *Agent) watchDrift(ctx context.Context) {
	kick := make(chan struct{}, 1)
	err := kernel.Subscribe(ctx, a.opts.Namespace, func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	if err != nil {
		a.log.Error("cannot follow the kernel's changes; drift is reported on reads only", zap.Error(err))
		return
	}
	drifted := map[string]string{} // attachment id → differences
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(driftSettle):
		}
		select { // fold the notifications of the settle time into this read
		case <-kick:
		default:
		}
		if len(a.writer) > 0 {
			continue // a transaction is changing the host; it reports its own outcome
		}
		st, err := a.readState()
		if err != nil {
			a.log.Warn("reading the kernel after a change", zap.Error(err))
			continue
		}
		nets, running := a.snapshot()
		now := map[string]string{}
		for id, diffs := range outOfSync(running, nets, st) {
			now[id] = strings.Join(diffs, "; ")
		}
		for _, id := range slices.Sorted(maps.Keys(now)) {
			if drifted[id] != now[id] {
				a.events.record("warning", "NETWORK_OUT_OF_SYNC", "attachment "+id+" drifted from its configuration: "+now[id])
			}
		}
		for id := range drifted {
			if _, still := now[id]; !still {
				a.events.record("normal", "NETWORK_IN_SYNC", "attachment "+id+" is in sync again")
			}
		}
		drifted = now
	}
}
