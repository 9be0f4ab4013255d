package engine

import (
	"fmt"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// readState reads the managed namespace's kernel state.
func (e *Engine) readState() (*netconf.State, error) {
	st, err := kernel.ReadState(e.opts.Namespace)
	if err != nil {
		return nil, fmt.Errorf("reading the kernel state: %w", err)
	}
	return st, nil
}
