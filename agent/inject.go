package agent

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// apply executes a plan, one step at a time when the StepDelay test hook
// asks for a pause before each write.
func (a *Agent) apply(ctx context.Context, plan netconf.Plan) (int, error) {
	a.viewStale = true
	if a.opts.StepDelay == 0 {
		return kernel.Apply(ctx, a.opts.Namespace, plan)
	}
	for i := range plan {
		// Crash tests read this line to kill the daemon after exactly i
		// writes.
		a.log.Info("test step delay: pausing before a kernel write", zap.Int("step", i), zap.Int("steps", len(plan)))
		time.Sleep(a.opts.StepDelay)
		if _, err := kernel.Apply(ctx, a.opts.Namespace, plan[i:i+1]); err != nil {
			return i, err
		}
	}
	return len(plan), nil
}

// instrument applies the test hook Options.FailStep, if set, to a plan: the
// step it selects is replaced by one the kernel refuses, so tests can fail
// a transaction at every point of its plan.
func (a *Agent) instrument(plan netconf.Plan) netconf.Plan {
	if a.opts.FailStep == nil {
		return plan
	}
	out := make(netconf.Plan, len(plan))
	copy(out, plan)
	for i := range out {
		if a.opts.FailStep(i, out[i]) {
			out[i] = netconf.Step{Op: netconf.OpSetMTU, Link: out[i].Link, MTU: -1}
		}
	}
	return out
}
