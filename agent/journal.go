package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/internal/atomicfile"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

const journalFile = "journal.json"

// journal is written before the first kernel write of a transaction and
// removed when it ends, committed or rolled back. Finding one at start
// means hostnetd died mid-transaction: the kernel is rolled back to the
// snapshot before anything is served.
type journal struct {
	Started time.Time
	// Next is the target being applied: what to remove if it was created.
	Next *netconf.Target
	// Snapshot is every device the transaction could touch, as it was.
	Snapshot *netconf.Target
	// Names are the devices whose routes are restored.
	Names []string
	// Before is the routing of the state read before the first write
	// (its routes and rules only: the devices are in Snapshot).
	Before *netconf.State
}

func (a *Agent) journalPath() string { return filepath.Join(a.opts.StateDir, journalFile) }

func (a *Agent) writeJournal(j *journal) error {
	// Compact: it is written before every change and read only after a
	// crash.
	data, err := json.Marshal(j)
	if err == nil {
		err = atomicfile.Write(a.journalPath(), data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("writing the transaction journal: %w", err)
	}
	return nil
}

func (a *Agent) removeJournal() error {
	if err := os.Remove(a.journalPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the transaction journal: %w", err)
	}
	return atomicfile.SyncDir(a.opts.StateDir)
}

// recoverJournal rolls back a transaction interrupted by a crash. A journal
// that cannot be rolled back is set aside, loudly: it must never block the
// transactions that follow.
func (a *Agent) recoverJournal(ctx context.Context) error {
	var j journal
	found, err := loadJSON(a.journalPath(), &j)
	if err != nil || !found {
		if err != nil {
			a.setAsideJournal(err)
		}
		return nil
	}
	a.log.Warn("found the journal of an interrupted transaction; rolling it back", zap.Time("started", j.Started))
	a.notify("STATUS=rolling back an interrupted transaction")
	if err := a.restoreSnapshot(ctx, &j); err != nil {
		a.log.Error("ROLLBACK OF THE INTERRUPTED TRANSACTION FAILED: the host may be half-configured", zap.Error(err))
		a.setAsideJournal(err)
		return nil
	}
	a.log.Info("the interrupted transaction was rolled back")
	return a.removeJournal()
}

func (a *Agent) setAsideJournal(cause error) {
	aside := a.journalPath() + ".failed-" + time.Now().UTC().Format("20060102T150405")
	if err := os.Rename(a.journalPath(), aside); err != nil {
		a.log.Error("cannot set the journal aside", zap.Error(err), zap.NamedError("cause", cause))
		return
	}
	a.log.Error("journal set aside", zap.String("path", aside), zap.NamedError("cause", cause))
}

// restoreSnapshot puts the devices of a journal back as they were: links
// first, then, since taking a link down drops its routes, the routes.
func (a *Agent) restoreSnapshot(ctx context.Context, j *journal) error {
	a.viewStale = true
	now, err := a.readState()
	if err != nil {
		return err
	}
	now = a.withEthtool(now, j.Next, j.Snapshot)
	n, err := kernel.Apply(ctx, a.opts.Namespace, netconf.MakePlan(now, j.Next, j.Snapshot))
	a.metrics.rollbackWrites(n)
	if err != nil {
		return err
	}
	if now, err = a.readState(); err != nil {
		return err
	}
	steps := append(netconf.RouteSteps(now, j.Before, j.Names), netconf.RuleSteps(now, j.Before)...)
	n, err = kernel.Apply(ctx, a.opts.Namespace, steps)
	a.metrics.rollbackWrites(n)
	return err
}
