package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// rollBack restores the journaled snapshot after cause and returns the
// fault to answer: cause itself, or a 500 that says the rollback failed.
func (e *Engine) rollBack(ctx context.Context, j *journal, done int, cause *Error) error {
	// The rollback must run to the end even if the request was cancelled.
	rbErr := e.restoreSnapshot(context.WithoutCancel(ctx), j)
	e.noteRollback(ctx, rbErr)
	if rbErr != nil {
		e.events.add("error", "ROLLBACK_FAILED", fmt.Sprintf("%s; rolling it back failed too: %v", cause.Detail, rbErr))
		e.setAsideJournal(rbErr)
		return newError(RollbackFailed, cause.Code, "Operation Failed",
			"%s; rolling it back failed too (%v): the host may be half-configured", cause.Detail, rbErr)
	}
	e.events.add("warning", cause.Code, fmt.Sprintf("%s (%d steps undone)", cause.Detail, done))
	if err := e.removeJournal(); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func failedStep(err error) string {
	var ae *kernel.ApplyError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return err.Error()
}

// restoreSnapshot puts the devices of a journal back as they were: links
// first, then, since taking a link down drops its routes, the routes.
func (e *Engine) restoreSnapshot(ctx context.Context, j *journal) error {
	e.viewStale = true
	now, err := e.readState()
	if err != nil {
		return err
	}
	now = e.withEthtool(now, j.Next, j.Snapshot)
	n, err := e.opts.Kernel.Apply(ctx, netconf.MakePlan(now, j.Next, j.Snapshot))
	e.metrics.rollbackWrites(n)
	if err != nil {
		return err
	}
	if now, err = e.readState(); err != nil {
		return err
	}
	n, err = e.opts.Kernel.Apply(ctx, netconf.RestoreRouting(now, j.Before, j.Names))
	e.metrics.rollbackWrites(n)
	return err
}
