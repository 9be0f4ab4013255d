package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/netconftest"
)

// fakeKernel is the engine's Kernel in root-free tests, as tailscale's
// router tests have their fakeOS: a simulated kernel (netconftest) that
// records every step the engine makes as its ip line, and that a test
// arms to misbehave on the engine's next plan: refuse a chosen step, make
// a step without really making it, lie on read-back, or die before a step
// (a crash). Every arming is for the next Apply only: the rollback that
// follows goes through an honest kernel, as it does on a real host.
type fakeKernel struct {
	mu    sync.Mutex
	k     *netconftest.Kernel
	lines []string // every step made (or acknowledged), as its ip line
	// applies counts the calls of Apply: a plan, or a part of a rollback.
	applies int
	// fails refuse, one Apply with steps each, the first step of that
	// Apply they return true for; drop acknowledges a step of the next Apply without
	// making it.
	fails []func(i int, s netconf.Step) bool
	drop  func(i int, s netconf.Step) bool
	// lieMTU, armed, makes reads report a device the next plan creates
	// with a wrong MTU, until the following Apply (the rollback).
	lieMTU bool
	lying  string // the device whose MTU reads misreport
	// crash makes the next plan die before the first step it returns true
	// for: the call never returns, as a killed daemon never goes on.
	crash   func(i int, s netconf.Step) bool
	crashed chan struct{}
}

var _ engine.Kernel = (*fakeKernel)(nil)

func newFakeKernel(nics ...string) *fakeKernel {
	return &fakeKernel{k: netconftest.New(nics...)}
}

// errInjected is the failure of a refused step.
var errInjected = errors.New("failure injected by the test")

// Apply implements engine.Applier.
func (f *fakeKernel) Apply(_ context.Context, plan netconf.Plan) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applies++
	var fail func(i int, s netconf.Step) bool
	if len(f.fails) > 0 && len(plan) > 0 { // (a rollback may have nothing to undo in one of its parts)
		fail, f.fails = f.fails[0], f.fails[1:]
	}
	drop, crash, lie := f.drop, f.crash, f.lieMTU
	f.drop, f.crash, f.lieMTU, f.lying = nil, nil, false, ""
	for i, s := range plan {
		switch {
		case crash != nil && crash(i, s):
			close(f.crashed)
			f.mu.Unlock()
			select {} // killed: this engine never runs again
		case fail != nil && fail(i, s):
			return i, fmt.Errorf("step %d (%s): %w", i, s, errInjected)
		case drop != nil && drop(i, s):
			drop = nil
			f.lines = append(f.lines, s.String())
			continue
		}
		if err := f.k.Step(s); err != nil {
			return i, fmt.Errorf("step %d (%s): %w", i, s, err)
		}
		f.lines = append(f.lines, s.String())
		if lie && s.Op == netconf.OpLinkAdd && f.lying == "" {
			f.lying = s.Link
		}
	}
	return len(plan), nil
}

// Read implements engine.Kernel: a copy of the simulated state, with the
// lie armed, if any.
func (f *fakeKernel) Read() (*netconf.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.k.Clone()
	if l, ok := st.Link(f.lying); ok && f.lying != "" {
		l.MTU++ // verification compares MTUs; a rollback deletes the device whatever its MTU
	}
	return st, nil
}

// ReadEthtool implements engine.Kernel: the simulated NICs have no ethtool
// settings.
func (f *fakeKernel) ReadEthtool([]string) (map[string]*netconf.EthtoolState, error) {
	return map[string]*netconf.EthtoolState{}, nil
}

// ReadQoS implements engine.Kernel: the simulated kernel has no traffic
// control, and the transitions use no QoS.
func (f *fakeKernel) ReadQoS([]string) (map[string]*netconf.QoSState, error) {
	return map[string]*netconf.QoSState{}, nil
}

// QoSSupported implements engine.Kernel: the simulated kernel refuses
// host network QoS, as a kernel without HFSC does.
func (f *fakeKernel) QoSSupported() error {
	return errors.New("the simulated kernel has no traffic control")
}

// image is the canonical text of the kernel's state (netconftest.Image).
func (f *fakeKernel) image() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return netconftest.Image(f.k.State())
}

// state is a copy of the kernel's true state, lie or not.
func (f *fakeKernel) state() *netconf.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.k.Clone()
}

// take returns the ip lines recorded since the last take, and the number
// of Apply calls they came in.
func (f *fakeKernel) take() (lines []string, applies int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lines, applies = f.lines, f.applies
	f.lines, f.applies = nil, 0
	return lines, applies
}

// failAt refuses step i of the next plan; with more indices, step i of
// the next Apply, then the second's of the Apply after it (a rollback),
// and so on.
func (f *fakeKernel) failAt(i ...int) {
	f.arm(func() {
		for _, i := range i {
			f.fails = append(f.fails, func(j int, _ netconf.Step) bool { return j == i })
		}
	})
}

// droppable is the last step of a plan whose omission verification
// must see, or -1: the removal of a device, or a step on a device (or into
// a master) the plan creates. (A step on a NIC that leaves hostnetd's
// hands, such as bringing a former bond slave up, is not verified: the
// new configuration says nothing of it.)
func droppable(plan netconf.Plan) int {
	created := map[string]bool{}
	last := -1
	for i, s := range plan {
		switch s.Op {
		case netconf.OpLinkAdd:
			created[s.Link] = true
		case netconf.OpLinkDel:
			last = i
		case netconf.OpSetMTU, netconf.OpAddrAdd, netconf.OpSetUp, netconf.OpSysctl, netconf.OpBridgeSet:
			if created[s.Link] {
				last = i
			}
		case netconf.OpSetMaster:
			if created[s.Master] {
				last = i
			}
		}
	}
	return last
}

// drop makes step i of the next plan without really making it: the
// kernel says yes and does nothing.
func (f *fakeKernel) dropAt(i int) {
	f.arm(func() { f.drop = func(j int, _ netconf.Step) bool { return j == i } })
}

// lieOnReadBack makes reads after the next plan misreport the MTU of the
// first device it creates, until the rollback writes.
func (f *fakeKernel) lieOnReadBack() { f.arm(func() { f.lieMTU = true }) }

// crashAt kills the engine before step i of its next plan; the returned
// channel is closed when it died.
func (f *fakeKernel) crashAt(i int) <-chan struct{} {
	crashed := make(chan struct{})
	f.arm(func() {
		f.crashed = crashed
		f.crash = func(j int, _ netconf.Step) bool { return j == i }
	})
	return crashed
}

// disarm takes back what was armed for a plan that never came.
func (f *fakeKernel) disarm() {
	f.arm(func() { f.fails, f.drop, f.crash, f.lieMTU, f.lying = nil, nil, nil, false, "" })
}

func (f *fakeKernel) arm(set func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set()
}

// reboot loses every device the engine made and every address and route:
// the kernel after a reboot, with only its NICs.
func (f *fakeKernel) reboot(nics ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.k = netconftest.New(nics...)
}
