package agent

import (
	"context"
	"net/http"
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

const (
	// rollbackWait bounds the wait for a transaction cancelled at the end
	// of the grace to roll back. Rollbacks take milliseconds; one that
	// hangs is left to the journal, which the next start rolls back.
	rollbackWait = 30 * time.Second
	// handlerWait is what the other requests (reads, an events stream)
	// get to end once no transaction runs any more.
	handlerWait = 5 * time.Second
)

// shutdown stops the agent after Run's context ended: no transaction
// starts any more, the one in flight finishes (or, after the grace, is
// cancelled and rolls back), then the HTTP server stops. The kernel is
// never left half-applied by a stop: a transaction ends committed or rolled
// back, and if even the rollback outlives rollbackWait its journal is still
// on disk for the next start.
func (a *Agent) shutdown(srv *http.Server, cancelTx context.CancelFunc) error {
	close(a.stopping)
	a.notify("STOPPING=1\nSTATUS=stopping")
	served := make(chan error, 1)
	// Shutdown closes the listeners at once, then waits for the requests
	// in progress, among them the transaction's.
	go func() { served <- srv.Shutdown(context.Background()) }()
	a.drainTransactions(cancelTx)
	timer := time.NewTimer(handlerWait)
	defer timer.Stop()
	select {
	case err := <-served:
		return err
	case <-timer.C:
		cancelTx() // ends the remaining requests' contexts
		err := srv.Close()
		<-served
		return err
	}
}

// drainTransactions takes the writer slot for good, waiting for the
// transaction in flight to end, at most the shutdown grace; then it
// cancels the transaction, which rolls back, and waits for that.
func (a *Agent) drainTransactions(cancelTx context.CancelFunc) {
	grace := time.NewTimer(a.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case a.writer <- struct{}{}:
		return
	case <-grace.C:
	}
	a.log.Warn("stopping: the transaction in flight did not finish within the shutdown grace; cancelling it, it rolls back",
		zap.Duration("grace", a.opts.ShutdownGrace))
	cancelTx()
	wait := time.NewTimer(rollbackWait)
	defer wait.Stop()
	select {
	case a.writer <- struct{}{}:
	case <-wait.C:
		a.log.Error("stopping: the cancelled transaction has not ended; exiting anyway, its journal is rolled back at the next start",
			zap.Duration("waited", rollbackWait))
	}
}

// stoppingFault answers a write that waited for the writer slot while
// hostnetd began to stop.
func stoppingFault() *Fault {
	return newFault(http.StatusServiceUnavailable, CodeShuttingDown, "Service unavailable",
		"hostnetd is stopping; retry when it is back")
}

// interrupted is the fault of a transaction that failed because the stop
// cancelled it (shutdown grace over), or else cause.
func (a *Agent) interrupted(ctx context.Context, cause *Fault) *Fault {
	select {
	case <-a.stopping:
		if ctx.Err() != nil {
			return newFault(http.StatusServiceUnavailable, CodeShuttingDown, "Service unavailable",
				"hostnetd stopped before the change was complete; the host was rolled back")
		}
	default:
	}
	return cause
}
