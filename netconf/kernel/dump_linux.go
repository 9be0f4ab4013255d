package kernel

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
)

// dumpAttempts bounds the retries of a dump the kernel interrupted because
// its tables changed under it (NLM_F_DUMP_INTR); cilium retries 30 times.
const dumpAttempts = 10

// retryDump runs a netlink dump until it completes without interruption.
// Every dump hostnetd makes goes through it: a partial dump would make a
// device look missing and the planner recreate it.
func retryDump[T any](what string, dump func() (T, error)) (T, error) {
	var (
		res T
		err error
	)
	for range dumpAttempts {
		res, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return res, fmt.Errorf("listing %s: %w", what, err)
	}
	return res, nil
}
