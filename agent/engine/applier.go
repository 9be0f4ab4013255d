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

// FailStep is a failure injection for Options.Inject: the first step of a
// forward plan for which fail returns true is not made and fails, as if
// the kernel refused it; the steps before it are made.
func FailStep(fail func(index int, step netconf.Step) bool) func(Applier) Applier {
	return func(next Applier) Applier {
		return ApplierFunc(func(ctx context.Context, plan netconf.Plan) (int, error) {
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
		})
	}
}

// PauseBeforeEachStep is a test hook for Options.Inject: a pause before
// each kernel write of a forward plan, logged, so that crash tests can
// kill the daemon after exactly i writes.
func PauseBeforeEachStep(log *zap.Logger, delay time.Duration) func(Applier) Applier {
	return func(next Applier) Applier {
		return ApplierFunc(func(ctx context.Context, plan netconf.Plan) (int, error) {
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
		})
	}
}

// writePlan makes a transaction's plan: through the injected failures, if
// any, then the applier.
func (e *Engine) writePlan(ctx context.Context, plan netconf.Plan) (int, error) {
	e.viewStale = true
	return e.forward.Apply(ctx, plan)
}
