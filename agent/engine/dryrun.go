package engine

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/dhcp4"
	"github.com/hostnetd/hostnetd/agent/dhcp6"
	"github.com/hostnetd/hostnetd/netconf"
)

// A dry run (POST setupnetworks?dry_run=true) merges, validates and plans a
// request exactly as a transaction does, and stops there: no kernel write,
// no journal, no store, no DHCP client, no event.
//
// It does not take the writer slot, so it never holds up a write; but it
// must plan from a kernel and a running configuration that agree, which
// they do not while a transaction runs (half its plan applied, or applied
// and waiting for connectivity, and not yet committed). So a dry run reads
// between writes: it waits until no writer holds the slot, reads and
// plans, and starts again if a writer took the slot meanwhile (writerGate,
// a sequence lock). It waits as long as a write would (--write-wait) and
// then gets the same 409.

// writerGate counts the writer slot's takings and releases, so a reader
// can tell whether a writer came by while it read.
type writerGate struct {
	// mu guards the fields that follow.
	mu  sync.Mutex
	seq uint64 // odd while a writer holds the slot
	// released is closed when the writer holding the slot releases it.
	released chan struct{}
}

// enter and leave bracket a writer's hold of the slot.
func (g *writerGate) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	g.released = make(chan struct{})
}

func (g *writerGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	close(g.released)
}

// idle waits until no writer holds the slot and returns the sequence
// number to check with unchanged.
func (g *writerGate) idle(ctx context.Context, timeout <-chan time.Time) (uint64, error) {
	for {
		g.mu.Lock()
		seq, released := g.seq, g.released
		g.mu.Unlock()
		if seq%2 == 0 {
			return seq, nil
		}
		select {
		case <-released:
		case <-timeout:
			return 0, operationInProgress()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// unchanged reports whether no writer took the slot since idle returned seq.
func (g *writerGate) unchanged(seq uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seq == seq
}

// DryRun merges and plans ch against one consistent view of the kernel and
// the configuration, and applies nothing. A request the transaction would
// refuse gets the same fault.
// DryRunPlan is what a change would do: its plan, the links it takes down
// at some point, and the DHCP leases it releases before the plan runs.
type DryRunPlan struct {
	Steps          netconf.Plan
	LinksDown      []string
	ReleasedLeases []Lease
}

// Lease is a DHCP lease by its device and address (invalid when the client
// holds none yet).
type Lease struct {
	Device  string
	Address netip.Prefix
}

func (e *Engine) DryRun(ctx context.Context, ch Change) (DryRunPlan, error) {
	timer := time.NewTimer(e.opts.WriteWait)
	defer timer.Stop()
	for {
		seq, err := e.gate.idle(ctx, timer.C)
		if err != nil {
			return DryRunPlan{}, err
		}
		view, err := e.planOnly(ch)
		if e.gate.unchanged(seq) {
			return view, err
		}
		e.log.Debug("a write ran during a dry run; planning again")
	}
}

// planOnly is a transaction up to its plan, with the DHCP clients the
// change stops simulated rather than stopped.
func (e *Engine) planOnly(ch Change) (DryRunPlan, error) {
	m, err := e.mergeChange(ch)
	if err != nil {
		return DryRunPlan{}, err
	}
	// The plan must see the kernel without the addresses of the leases the
	// change releases: this dry run's own read of it, which it may edit.
	leases := e.dhcp.wouldRelease(m.cfg)
	if len(leases) > 0 {
		if m.cur, err = e.readState(); err != nil {
			return DryRunPlan{}, err
		}
	}
	for _, l := range leases {
		l.removeFrom(m.cur)
	}
	sp, err := e.planChange(m.cur, m.running, m.nets, m.cfg, ch.Networks, m.how)
	if err != nil {
		return DryRunPlan{}, err
	}
	view := DryRunPlan{Steps: sp.Plan}
	if sp.Kernel != nil {
		view.LinksDown = sp.Plan.LinksDown(sp.Kernel)
	}
	for _, l := range leases {
		view.ReleasedLeases = append(view.ReleasedLeases, Lease{Device: l.link, Address: l.addr})
	}
	e.log.Debug("dry run planned", zap.Int("steps", len(sp.Plan)), zap.Stringer("plan", sp.Plan))
	return view, nil
}

// releasedLease is what a DHCP client removes from the kernel when a
// transaction stops it: its lease's address and the routing it installed.
type releasedLease struct {
	link   string
	addr   netip.Prefix // invalid when the client holds no lease
	routes []netconf.Route
	rules  []netconf.Rule
}

// wouldRelease is what stopUnwanted(cfg) would release, without stopping
// anything. (A client that has not yet re-acquired the lease it loaded at
// start would also remove that lease's address; it is not counted.)
func (d *dhcpClients) wouldRelease(cfg *netconf.Config) []releasedLease {
	wanted := wantedClients(cfg)
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []releasedLease
	for _, id := range slices.Sorted(maps.Keys(d.clients)) {
		if wanted[id] {
			continue
		}
		c := d.clients[id]
		l := releasedLease{link: c.link}
		switch cl := c.client.(type) {
		case *dhcp4.Client:
			if lease, bound := cl.Lease(); bound {
				l.addr = lease.Address
			}
		case *dhcp6.Client:
			if lease, bound := cl.Lease(); bound {
				l.addr = lease.Address
			}
		}
		c.mu.Lock()
		l.routes, l.rules = slices.Clone(c.routes), slices.Clone(c.rules)
		c.mu.Unlock()
		out = append(out, l)
	}
	return out
}

// removeFrom edits st as the release would change the kernel.
func (l releasedLease) removeFrom(st *netconf.State) {
	for i := range st.Links {
		if st.Links[i].Name == l.link {
			st.Links[i].Addrs = slices.DeleteFunc(st.Links[i].Addrs, func(a netconf.Addr) bool { return a.Prefix == l.addr })
		}
	}
	st.Routes = slices.DeleteFunc(st.Routes, func(r netconf.Route) bool {
		return slices.ContainsFunc(l.routes, func(w netconf.Route) bool {
			return r.Dst == w.Dst && r.Gateway == w.Gateway && r.Link == w.Link && r.Table == w.Table
		})
	})
	st.Rules = slices.DeleteFunc(st.Rules, func(r netconf.Rule) bool { return slices.Contains(l.rules, r) })
}
