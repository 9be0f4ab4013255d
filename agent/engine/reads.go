package engine

import (
	"fmt"

	"github.com/hostnetd/hostnetd/netconf"
)

// readState reads the kernel's state: one dump.
func (e *Engine) readState() (*netconf.State, error) {
	st, err := e.opts.Kernel.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the kernel state: %w", err)
	}
	return st, nil
}
