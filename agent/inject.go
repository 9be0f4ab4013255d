package agent

import "github.com/hostnetd/hostnetd/netconf"

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
