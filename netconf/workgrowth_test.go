package netconf

import (
	"fmt"
	"testing"
)

// The tests below guard linearity by counting work, never by timing it:
// the same step is run for S(n) and for S(4n) (the benchmark's scenario: a
// bond over two NICs carrying n bridged VLAN networks, each with a static
// address) and the work it does — heap allocations, plan steps — may grow
// at most growthLimit times. Linear work grows 4 times (a little less,
// with the fixed part); a quadratic step 16 times.
const (
	growthN     = 250
	growthLimit = 5.0
)

// scaleWorld is S(n) at the planner's level: the catalogue, the request,
// the configuration it merges into and a simulated kernel holding it.
type scaleWorld struct {
	n      int
	nets   []*Network
	req    ChangeSet
	cfg    *Config
	target *Target
	plan   Plan
	kernel *simKernel
}

func scaleNetworks(n int) []*Network {
	nets := make([]*Network, n)
	for i := range n {
		nets[i] = &Network{ID: fmt.Sprintf("id-net%04d", i), Name: fmt.Sprintf("net%04d", i), VLAN: vid(1 + i), Usages: []string{UsageVM}}
	}
	return nets
}

// scaleRequest is the setupnetworks that creates S(n): the 802.3ad bond
// and n attachments on it, each network's own /24.
func scaleRequest(n int) ChangeSet {
	b := bond("bond0", "eth0", "eth1")
	b.Options = &[]RawOption{{Name: "mode", Value: "4"}, {Name: "miimon", Value: "100"}}
	cs := ChangeSet{ModifiedBonds: []BondChange{b}}
	for i := range n {
		addr := fmt.Sprintf("10.%d.%d.1", 100+i/256, i%256)
		cs.ModifiedAttachments = append(cs.ModifiedAttachments,
			attach(fmt.Sprintf("net%04d", i), "bond0", RawIPAssignment{Method: "static", Address: addr, Netmask: "255.255.255.0"}))
	}
	return cs
}

func (w *scaleWorld) mergeInput(running *Config, st *State) MergeInput {
	return MergeInput{
		Request: w.req, Running: running, Networks: w.nets, Kernel: st,
		NicName:                func(id string) (string, bool) { return "", false },
		NewAttachmentID:        func(netID string) string { return "att-" + netID },
		MaxConnectivityTimeout: 120,
	}
}

// newScaleWorld merges and plans S(n) from a host with only its NICs and
// applies the plan to a simulated kernel.
func newScaleWorld(t *testing.T, n int) *scaleWorld {
	t.Helper()
	w := &scaleWorld{n: n, nets: scaleNetworks(n), req: scaleRequest(n), kernel: newSimKernel("eth0", "eth1")}
	cfg, err := Merge(w.mergeInput(&Config{}, w.kernel.st))
	if err != nil {
		t.Fatalf("S(%d): %v", n, err)
	}
	w.cfg = cfg
	w.target = BuildTarget(cfg, w.nets)
	w.plan = MakePlan(w.kernel.st, &Target{}, w.target)
	if _, err := w.kernel.apply(w.plan); err != nil {
		t.Fatalf("S(%d): %v", n, err)
	}
	return w
}

// allocs is the heap allocations of one run of f.
func allocs(f func()) float64 { return testing.AllocsPerRun(2, f) }

// requireLinear fails when the work measured at 4n is more than
// growthLimit times the work at n.
func requireLinear(t *testing.T, what string, small, large float64) {
	t.Helper()
	if small <= 0 {
		t.Fatalf("%s: no work measured at N=%d", what, growthN)
	}
	growth := large / small
	t.Logf("%s: %.0f at N=%d, %.0f at N=%d (×%.2f)", what, small, growthN, large, 4*growthN, growth)
	if growth > growthLimit {
		t.Errorf("%s grows ×%.2f from N=%d to N=%d: superlinear (linear is ×4)", what, growth, growthN, 4*growthN)
	}
}

// TestPlannerWorkIsLinear: merging the request, building the target and
// planning S(n) from an empty host.
func TestPlannerWorkIsLinear(t *testing.T) {
	small, large := newScaleWorld(t, growthN), newScaleWorld(t, 4*growthN)
	for _, w := range []*scaleWorld{small, large} {
		// lo is not modelled: 2 NICs get the bond; per network a VLAN,
		// a bridge, and their steps.
		if got := len(w.kernel.st.Links); got != 2*w.n+3 {
			t.Fatalf("S(%d) in the simulated kernel has %d links; want %d", w.n, got, 2*w.n+3)
		}
	}
	requireLinear(t, "plan steps", float64(len(small.plan)), float64(len(large.plan)))
	measure := func(w *scaleWorld) (merge, target, plan float64) {
		empty := newSimKernel("eth0", "eth1").st
		merge = allocs(func() { _, _ = Merge(w.mergeInput(&Config{}, empty)) })
		target = allocs(func() { BuildTarget(w.cfg, w.nets) })
		plan = allocs(func() { MakePlan(empty, &Target{}, w.target) })
		return
	}
	sm, st, sp := measure(small)
	lm, lt, lp := measure(large)
	requireLinear(t, "merge allocations", sm, lm)
	requireLinear(t, "target allocations", st, lt)
	requireLinear(t, "plan allocations", sp, lp)
}

// TestNoopReplanWorkIsLinear: the same request again over the kernel that
// holds it — validation against the running configuration, then a plan —
// changes nothing, and its work grows linearly.
func TestNoopReplanWorkIsLinear(t *testing.T) {
	small, large := newScaleWorld(t, growthN), newScaleWorld(t, 4*growthN)
	measure := func(w *scaleWorld) (merge, plan float64) {
		cfg, _, err := MergeAndSync(w.mergeInput(w.cfg, w.kernel.st))
		if err != nil {
			t.Fatalf("S(%d) again: %v", w.n, err)
		}
		next := BuildTarget(cfg, w.nets)
		if p := MakePlan(w.kernel.st, w.target, next); len(p) != 0 {
			t.Fatalf("S(%d) again plans %d steps:\n%.2000s", w.n, len(p), p)
		}
		merge = allocs(func() { _, _, _ = MergeAndSync(w.mergeInput(w.cfg, w.kernel.st)) })
		plan = allocs(func() { MakePlan(w.kernel.st, w.target, next) })
		return
	}
	sm, sp := measure(small)
	lm, lp := measure(large)
	requireLinear(t, "no-op merge allocations", sm, lm)
	requireLinear(t, "no-op plan allocations", sp, lp)
}

// TestDriftWorkIsLinear: comparing every attachment with the kernel, as the
// drift watcher, reads and requests do after each change of the view.
func TestDriftWorkIsLinear(t *testing.T) {
	small, large := newScaleWorld(t, growthN), newScaleWorld(t, 4*growthN)
	measure := func(w *scaleWorld) float64 {
		byID := map[string]*Network{}
		for _, n := range w.nets {
			byID[n.ID] = n
		}
		run := func() int {
			drifted := 0
			c := NewDriftCache(w.cfg, w.kernel.st)
			for _, a := range w.cfg.Attachments {
				r := c.AttachmentDrift(a, byID[a.NetworkID])
				if ls, down := LinkStateDrift(a, byID[a.NetworkID], w.kernel.st); down {
					r = append(r, ls)
				}
				if ok, _ := InSync(r); !ok {
					drifted++
				}
			}
			return drifted
		}
		if d := run(); d != 0 {
			t.Fatalf("S(%d): %d attachments drifted in the kernel the plan made", w.n, d)
		}
		return allocs(func() { run() })
	}
	requireLinear(t, "drift allocations", measure(small), measure(large))
}
