package engine

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// driftSettle lets a burst of kernel notifications (one ip command sends
// several) end before the attachments are compared again.
const driftSettle = 100 * time.Millisecond

// lookPace bounds what the watchers that follow the kernel's view (drift,
// LLDP) cost while the kernel keeps announcing changes: after a look that
// took d, the next waits at least lookPace·d. After a large change the
// kernel announces the operational state of the new VLANs a hundred
// devices a second (linkwatch), for as many seconds as there are hundreds
// of them; a look at each announcement reads every link and compares
// every attachment, n²/100 in all. Paced by their own cost, the looks
// take at most a quarter of a CPU, and are as many at 4000 networks as at
// 1000.
const lookPace = 3

// pacedWait is how long a watcher waits after a kick, given its settle
// time and what its last look cost.
func pacedWait(settle, lastLook time.Duration) time.Duration {
	return max(settle, lookPace*lastLook)
}

// startMonitor starts following the kernel: from now on reads are served
// from the monitor's view, and drift is reported as it happens. Without a
// monitor (it could not subscribe) reads fall back to dumps.
func (e *Engine) startMonitor(ctx context.Context) (watching <-chan struct{}) {
	done := make(chan struct{})
	// The LLDP listeners follow the links (lldp.go); they stop with ctx.
	lldpDone := make(chan struct{})
	go func() {
		defer close(lldpDone)
		e.lldp.run(ctx)
	}()
	m, err := kernel.StartMonitor(ctx, e.opts.Namespace, func() { e.kickDrift(); e.lldp.kicked() })
	if err != nil {
		e.log.Error("cannot follow the kernel's changes; reads dump the kernel and drift is reported on reads only", zap.Error(err))
		go func() {
			defer close(done)
			<-lldpDone
		}()
		return done
	}
	e.monitor.Store(m)
	e.lldp.kicked()
	e.watchEthtool(ctx)
	e.watchTC(ctx)
	go func() {
		defer close(done)
		e.watchDrift(ctx, e.driftKick)
		<-m.Done()
		<-lldpDone
	}()
	return done
}

// observedState is the kernel's state for reads: the monitor's view, or a
// dump when there is no monitor. The view is first brought up to every
// notification already queued, so a read that follows a change (ours or an
// administrator's) sees it; on an unchanged host that costs no dump. It is
// shared: callers must not modify it.
func (e *Engine) observedState() (*netconf.State, error) {
	if m := e.monitor.Load(); m != nil {
		if _, err := m.Sync(); err == nil {
			if st, err := m.State(); err == nil {
				return e.withRunningEthtool(st), nil
			}
		}
	}
	st, err := e.readState()
	if err != nil {
		return nil, err
	}
	return e.withRunningEthtool(st), nil
}

// syncView brings the monitor's view up to the kernel after a write, so
// that a read that follows the write's answer sees it, and has the drift
// watcher look again: the notifications of the write came while it was
// not looking.
//
// The drift watcher looks again only if something it compares changed:
// the kernel (this write's, or a change the view took in meanwhile, which
// Sync reports itself), the running configuration or the catalogue, or a
// look it skipped because the write held the slot. After a request that
// changed nothing, comparing a thousand attachments again would only take
// CPU from the next request.
func (e *Engine) syncView(nets0 []*netconf.Network, running0 *netconf.Config) {
	wrote := e.viewStale
	if m := e.monitor.Load(); m != nil {
		if err := m.Resume(wrote); err != nil {
			e.log.Warn("bringing the kernel view up to date", zap.Error(err))
		}
	}
	e.viewStale = false
	nets, running := e.snapshot()
	if e.driftSkipped.Swap(false) || wrote || running != running0 || !netconf.SameCatalogue(nets, nets0) {
		e.kickDrift()
	}
}

// pauseView holds the monitor's own reading of notifications while a
// write runs (see kernel.Monitor.Pause); syncView resumes it.
func (e *Engine) pauseView() {
	if m := e.monitor.Load(); m != nil {
		m.Pause()
	}
}

// verifiedState reads the kernel for verification: a full dump, through
// the monitor when there is one, which then needs no notification of the
// writes made so far.
func (e *Engine) verifiedState() (*netconf.State, error) {
	if m := e.monitor.Load(); m != nil {
		st, err := m.Resync()
		if err == nil {
			e.viewStale = false
			return st, nil
		}
		e.log.Warn("reading the kernel through the monitor", zap.Error(err))
	}
	return e.readState()
}

// kickDrift asks the drift watcher to compare the attachments again.
func (e *Engine) kickDrift() {
	select {
	case e.driftKick <- struct{}{}:
	default:
	}
}

// watchDrift records an event when an attachment drifts from its
// configuration and when it is back in sync, each time the monitor's view
// changes. It returns when ctx ends.
func (e *Engine) watchDrift(ctx context.Context, kick <-chan struct{}) {
	drifted := map[string]string{} // attachment id → differences
	var lastLook time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pacedWait(driftSettle, lastLook)):
		}
		select { // fold the notifications of the settle time into this read
		case <-kick:
		default:
		}
		if len(e.writer) > 0 {
			// A transaction is changing the host; it reports its own
			// outcome, and its end has this look again.
			e.driftSkipped.Store(true)
			continue
		}
		start := time.Now()
		st, err := e.observedState()
		if err != nil {
			e.log.Warn("reading the kernel after a change", zap.Error(err))
			continue
		}
		nets, running := e.snapshot()
		now := map[string]string{}
		for id, diffs := range e.driftedAttachments(running, nets, st) {
			now[id] = strings.Join(diffs, "; ")
		}
		for _, id := range slices.Sorted(maps.Keys(now)) {
			if drifted[id] != now[id] {
				e.events.record("warning", "NETWORK_OUT_OF_SYNC", "attachment "+id+" drifted from its configuration: "+now[id])
			}
		}
		for id := range drifted {
			if _, still := now[id]; !still {
				e.events.record("normal", "NETWORK_IN_SYNC", "attachment "+id+" is in sync again")
			}
		}
		drifted = now
		e.applyAppeared(ctx, st) // pending attachments whose NIC appeared
		lastLook = time.Since(start)
	}
}
