package engine

import (
	"fmt"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// readState reads the kernel's state: one dump.
func (e *Engine) readState() (*netconf.State, error) {
	st, err := e.opts.Kernel.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the kernel state: %w", err)
	}
	return st, nil
}

// Namespace is a network namespace the engine manages (netconf/kernel's),
// named here so that callers of the engine need not import the kernel
// package.
type Namespace = kernel.Namespace

// LinkStats reads a link's counters, which change without notifications:
// always live.
func (e *Engine) LinkStats(name string) (netconf.LinkStats, error) {
	return kernel.ReadLinkStats(e.opts.Namespace, name)
}
