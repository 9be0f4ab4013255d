package engine

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// DefaultShutdownGrace is how long a stop waits for the transaction in
// flight to finish. It stays well inside systemd's TimeoutStopSec (90 s by
// default) together with rollbackWait, so systemd never has to SIGKILL a
// rollback.
const DefaultShutdownGrace = 20 * time.Second

// CodeShuttingDown answers a write that arrives while hostnetd stops.
const CodeShuttingDown = "SHUTTING_DOWN"

// rollbackWait bounds the wait for a transaction cancelled at the end
// of the grace to roll back. Rollbacks take milliseconds; one that
// hangs is left to the journal, which the next start rolls back.
const rollbackWait = 30 * time.Second

// Drain stops the engine taking writes: no transaction starts any more,
// and the one in flight finishes or, after the shutdown grace, is
// cancelled (cancelTx) and rolls back. The kernel is never left
// half-applied by a stop: a transaction ends committed or rolled back,
// and if even the rollback outlives rollbackWait its journal is still on
// disk for the next start.
func (e *Engine) Drain(cancelTx context.CancelFunc) {
	close(e.stopping)
	e.drainTransactions(cancelTx)
}

// drainTransactions takes the writer slot for good, waiting for the
// transaction in flight to end, at most the shutdown grace; then it
// cancels the transaction, which rolls back, and waits for that.
func (e *Engine) drainTransactions(cancelTx context.CancelFunc) {
	grace := time.NewTimer(e.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case e.writer <- struct{}{}:
		return
	case <-grace.C:
	}
	e.log.Warn("stopping: the transaction in flight did not finish within the shutdown grace; cancelling it, it rolls back",
		zap.Duration("grace", e.opts.ShutdownGrace))
	cancelTx()
	wait := time.NewTimer(rollbackWait)
	defer wait.Stop()
	select {
	case e.writer <- struct{}{}:
	case <-wait.C:
		e.log.Error("stopping: the cancelled transaction has not ended; exiting anyway, its journal is rolled back at the next start",
			zap.Duration("waited", rollbackWait))
	}
}

// stoppingFault answers a write that waited for the writer slot while
// hostnetd began to stop.
func stoppingFault() *Error {
	return newError(Stopping, CodeShuttingDown, "Service unavailable",
		"hostnetd is stopping; retry when it is back")
}

// interrupted is the fault of a transaction that failed because the stop
// cancelled it (shutdown grace over), or else cause.
func (e *Engine) interrupted(ctx context.Context, cause *Error) *Error {
	select {
	case <-e.stopping:
		if ctx.Err() != nil {
			return newError(Stopping, CodeShuttingDown, "Service unavailable",
				"hostnetd stopped before the change was complete; the host was rolled back")
		}
	default:
	}
	return cause
}
