package engine

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// Applier makes the kernel writes of a plan, in order, and returns how
// many it made. The engine's only way to write the kernel: a transaction's
// plan and its rollback both go through it.
type Applier interface {
	Apply(ctx context.Context, plan netconf.Plan) (int, error)
}

// Kernel is what the engine reads and writes of the host's kernel: its
// state (one dump), the ethtool settings of some devices (which no dump
// carries), and the writes of plans.
type Kernel interface {
	Applier
	Read() (*netconf.State, error)
	ReadEthtool(devices []string) (map[string]*netconf.EthtoolState, error)
	// ReadQoS reads the traffic control of devices; QoSSupported says,
	// without changing anything, whether host network QoS can be applied.
	ReadQoS(devices []string) (map[string]*netconf.QoSState, error)
	QoSSupported() error
}

// NamespaceKernel is the Kernel of a network namespace, through netlink.
type NamespaceKernel struct{ Namespace *kernel.Namespace }

// Apply implements Applier.
func (k NamespaceKernel) Apply(ctx context.Context, plan netconf.Plan) (int, error) {
	return kernel.Apply(ctx, k.Namespace, plan)
}

// Read implements Kernel.
func (k NamespaceKernel) Read() (*netconf.State, error) { return kernel.ReadState(k.Namespace) }

// ReadEthtool implements Kernel.
func (k NamespaceKernel) ReadEthtool(devices []string) (map[string]*netconf.EthtoolState, error) {
	return kernel.ReadEthtool(k.Namespace, devices)
}

// ReadQoS implements Kernel.
func (k NamespaceKernel) ReadQoS(devices []string) (map[string]*netconf.QoSState, error) {
	return kernel.ReadQoS(k.Namespace, devices)
}

// QoSSupported implements Kernel.
func (k NamespaceKernel) QoSSupported() error { return kernel.QoSSupported(k.Namespace) }

// ApplierFunc adapts a function to Applier.
type ApplierFunc func(ctx context.Context, plan netconf.Plan) (int, error)

// Apply implements Applier.
func (f ApplierFunc) Apply(ctx context.Context, plan netconf.Plan) (int, error) { return f(ctx, plan) }

// StepError is the failure an injected fault reports for a step.
type StepError struct {
	Index int
	Step  netconf.Step
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %d (%s): failure injected by a test", e.Index, e.Step)
}

// forwardKey marks the context of a transaction's own plan, as opposed to
// a rollback's or a DHCP client's writes: failure injection acts on the
// first only.
type forwardKey struct{}

// IsForwardPlan reports whether ctx is that of a transaction's own plan.
func IsForwardPlan(ctx context.Context) bool { return ctx.Value(forwardKey{}) != nil }

// FailStep wraps a Kernel for tests (and only them): the first step of a
// transaction's own plan for which fail returns true is not made and
// fails, as if the kernel refused it; the steps before it are made.
// Rollbacks and DHCP writes pass untouched.
func FailStep(next Kernel, fail func(index int, step netconf.Step) bool) Kernel {
	return wrapped{next, func(ctx context.Context, plan netconf.Plan) (int, error) {
		for i, s := range plan {
			if fail(i, s) {
				done, err := next.Apply(ctx, plan[:i])
				if err != nil {
					return done, err
				}
				return done, &StepError{Index: i, Step: s}
			}
		}
		return next.Apply(ctx, plan)
	}}
}

// PauseBeforeEachStep wraps a Kernel for crash tests (hostnetd's
// --test-step-delay): a pause before each write of a transaction's own
// plan, logged, so that a test can kill the daemon after exactly i
// writes.
func PauseBeforeEachStep(next Kernel, log *zap.Logger, delay time.Duration) Kernel {
	return wrapped{next, func(ctx context.Context, plan netconf.Plan) (int, error) {
		for i := range plan {
			// Crash tests read this line.
			log.Info("test step delay: pausing before a kernel write", zap.Int("step", i), zap.Int("steps", len(plan)))
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return i, ctx.Err()
			}
			if _, err := next.Apply(ctx, plan[i:i+1]); err != nil {
				return i, err
			}
		}
		return len(plan), nil
	}}
}

// wrapped is a Kernel whose transactions' own plans go through apply.
type wrapped struct {
	Kernel
	apply ApplierFunc
}

func (w wrapped) Apply(ctx context.Context, plan netconf.Plan) (int, error) {
	if !IsForwardPlan(ctx) {
		return w.Kernel.Apply(ctx, plan)
	}
	return w.apply(ctx, plan)
}

// writePlan makes a transaction's own plan.
func (e *Engine) writePlan(ctx context.Context, plan netconf.Plan) (int, error) {
	e.viewStale = true
	if m := e.monitor.Load(); m != nil && len(plan) >= bigPlan {
		m.Quiet() // verify's Resync, or syncView's Resume, follows again
	}
	return e.opts.Kernel.Apply(context.WithValue(ctx, forwardKey{}, true), plan)
}
