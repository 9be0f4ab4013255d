package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
)

// Transaction tuning.
const (
	// DefaultWriteWait bounds how long a write waits for the one running
	// before it (the engine queues setupnetworks for 20 s).
	DefaultWriteWait = 20 * time.Second
	// DefaultMaxConnectivityTimeout bounds connectivity_timeout.
	DefaultMaxConnectivityTimeout = 120
	verifyAttempts                = 5
	verifyInterval                = 200 * time.Millisecond
)

// CodeOperationInProgress answers a write that found another one running.
const CodeOperationInProgress = "NETWORK_OPERATION_IN_PROGRESS"

// Change is one write: a request merged into the running configuration,
// possibly with a new network catalogue (a PUT on an attached network).
type Change struct {
	Request  netconf.ChangeSet
	Networks []*netconf.Network // nil: the catalogue is unchanged
}

// Result says what a transaction did: the running configuration it
// committed (nil when it failed), its plan and the kernel writes made.
type Result struct {
	Running *netconf.Config
	Plan    netconf.Plan
	Writes  int
}

// lockWriter takes the single writer slot, waiting at most the configured
// time; readers never take it.
func (e *Engine) lockWriter(ctx context.Context) (func(), error) {
	timer := time.NewTimer(e.opts.WriteWait)
	defer timer.Stop()
	select {
	case e.writer <- struct{}{}:
		select {
		case <-e.stopping: // hand the slot to the stop (shutdown.go)
			<-e.writer
			return nil, stoppingFault()
		default:
		}
		e.gate.enter()
		e.pauseView()
		nets0, running0 := e.snapshot()
		return func() {
			e.syncView(nets0, running0) // the next read sees what this write did
			e.gate.leave()
			<-e.writer
		}, nil
	case <-e.stopping:
		return nil, stoppingFault()
	case <-timer.C:
		return nil, operationInProgress()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// operationInProgress answers a write, or a dry run, that waited its
// --write-wait for the running write in vain.
func operationInProgress() *Error {
	return newError(Busy, CodeOperationInProgress, "Operation Failed",
		"another network operation is in progress; try again later")
}

// Transact runs one write from request to committed running configuration:
// merge and validate, plan, apply, verify; on a failure after the first
// kernel write the kernel is put back to the configuration it ran before.
func (e *Engine) Transact(ctx context.Context, ch Change) (Result, error) {
	unlock, err := e.lockWriter(ctx)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	return e.transactHeld(ctx, ch)
}

// transactHeld is Transact for a caller that holds the writer slot.
func (e *Engine) transactHeld(ctx context.Context, ch Change) (res Result, err error) {
	ctx, tx := e.beginTx(ctx, "request")
	defer func() { e.endTx(tx, res, err) }()
	m, err := e.mergeChange(ch)
	if err != nil {
		return Result{}, err
	}
	return e.applyValidated(ctx, ch, m)
}

// applyValidated applies a validated change and, if the request asks, commits
// it to the persistent configuration in the same store.
func (e *Engine) applyValidated(ctx context.Context, ch Change, m merged) (Result, error) {
	how := m.how
	how.persist = ch.Request.CommitOnSuccess
	return e.planApplyCommit(ctx, m.cur, m.cfg, ch.Networks, how)
}

// TransactAsync is Transact for an async setupnetworks: it takes the
// writer slot and validates the change as Transact does, so a busy host or
// a bad request is answered as usual, then applies it in the background,
// under Start's transaction context rather than the request's, which ends
// with the answer, and calls done with the outcome. A stop waits for it (or
// cancels it after the grace: it rolls back) as for any transaction, since
// it holds the writer slot until it has ended.
func (e *Engine) TransactAsync(ctx context.Context, ch Change, done func(Result, error)) error {
	unlock, err := e.lockWriter(ctx)
	if err != nil {
		return err
	}
	base := e.txCtx
	if base == nil { // an engine never started, as in handler tests
		base = context.WithoutCancel(ctx)
	}
	txCtx, tx := e.beginTx(base, "request")
	m, err := e.mergeChange(ch)
	if err != nil {
		e.endTx(tx, Result{}, err)
		unlock()
		return err
	}
	go func() {
		res, err := e.applyValidated(txCtx, ch, m)
		e.endTx(tx, res, err)
		// The slot is free before the caller hears: a write that follows
		// the news does not find the host busy.
		unlock()
		done(res, err)
	}()
	return nil
}

// applyHow says how planApplyCommit applies a configuration.
type applyHow struct {
	// await, when set, is how long the change waits for its connectivity
	// to be confirmed.
	await time.Duration
	// full plans for every managed device (restore at boot); otherwise a
	// request is a delta and only the devices it changes are touched,
	// with those of the attachments it synchronises.
	full   bool
	synced []string
	// persist makes the configuration persistent too (commit_on_success).
	persist bool
}

// planApplyCommit makes the kernel run cfg (with the catalogue nets, or the
// current one when nil) and, once verified, makes it the running
// configuration. cur is the kernel as read before, or nil: then it is read
// if the change touches any device.
func (e *Engine) planApplyCommit(ctx context.Context, cur *netconf.State, cfg *netconf.Config, nets []*netconf.Network, how applyHow) (Result, error) {
	if e.dhcp.stopUnwanted(cfg) {
		// Their leases' addresses and routes are gone: plan from the kernel
		// as it is now. A rollback restores the addresses, and the clients
		// of the configuration that runs again are started again.
		cur = nil
	}
	oldNets, running := e.snapshot()
	planning := time.Now()
	sp, err := e.planChange(cur, running, oldNets, cfg, nets, how)
	if err != nil {
		return Result{}, err
	}
	notePhase(ctx, phasePlan, planning)
	plan := sp.Plan
	e.log.Debug("plan", zap.String("transaction", txID(ctx)), zap.Stringer("plan", plan))
	// The state to store is encoded before the first kernel write, so
	// that the journal can name it: see recoverJournal.
	commit, err := e.prepareCommit(cfg, nets, how.persist)
	if err != nil {
		return Result{Plan: plan}, faultOfState(err, false)
	}
	j, writes, err := e.applyJournaled(ctx, sp, how.await, commit)
	if err != nil {
		e.reconcileDHCP(ctx) // the configuration that runs again may need its clients back
		return Result{Plan: plan, Writes: writes}, err
	}
	// Crash order: the new state is stored (catalogue, running.json: the
	// commit point, then persistent.json) while the journal is still on
	// disk, and only then is the journal removed. A crash before the
	// rename of running.json rolls the kernel back at the next start; one
	// after it finds running.json holding the journal's change, which is
	// then kept.
	var notPersisted error
	if err := e.commitState(commit); errors.As(err, new(*notPersistedError)) {
		notPersisted = notPersistedFault(err) // committed as running: no rollback
	} else if err != nil {
		if j != nil {
			err = e.rollBack(ctx, j, writes, stateFault(err, true))
			if nerr := e.restoreNetworks(j); nerr != nil {
				e.log.Error("cannot put the network catalogue back", zap.Error(nerr))
			}
		} else {
			err = faultOfState(err, false)
		}
		e.reconcileDHCP(ctx)
		return Result{Plan: plan, Writes: writes}, err
	}
	if j != nil {
		if err := e.removeJournal(); err != nil {
			// The change is stored: the journal names it, so a restart keeps it.
			e.log.Error("the change is committed but its journal could not be removed", zap.Error(err))
		}
	}
	if notPersisted != nil {
		e.reconcileDHCP(ctx)
		e.updateDNS()
		return Result{Running: cfg, Plan: plan, Writes: writes}, notPersisted
	}
	if committedNets, committed := e.snapshot(); committed == cfg && !sp.Pending {
		// (an unchanged one was not committed; one with pending
		// attachments has a target that changes when their NIC appears)
		e.targets.Put(cfg, committedNets, nil, sp.New)
	}
	e.reconcileDHCP(ctx)
	e.updateDNS()
	if len(plan) > 0 {
		e.events.add("normal", "NETWORK_CHANGE_APPLIED", fmt.Sprintf("network configuration applied and verified: %d kernel writes", writes))
	}
	return Result{Running: cfg, Plan: plan, Writes: writes}, nil
}

// applyJournaled applies the plan and checks the kernel read back. Before
// the first write it journals the plan's snapshot of every device it can
// touch, with the state the change will store (commit); on any failure it
// restores that snapshot exactly (links, masters, bond options, MTUs,
// admin states, addresses, routes). On success it returns the journal,
// still on disk, for the caller to remove once the new state is stored
// (nil when the plan is empty: nothing was journaled).
func (e *Engine) applyJournaled(ctx context.Context, sp netconf.PlannedChange, await time.Duration, commit *stateCommit) (*journal, int, error) {
	if len(sp.Plan) == 0 {
		return nil, 0, nil // nothing changes, so nothing can cut the manager off
	}
	e.noteBigPlan(len(sp.Plan))
	j := &journal{Version: journalVersion, Started: time.Now(), Next: sp.New, Snapshot: sp.Snapshot, Names: sp.Touchable,
		Before: &netconf.State{Routes: sp.Kernel.Routes, Rules: sp.Kernel.Rules}, Commit: commit.digest, Networks: commit.oldNetworks}
	if err := e.writeJournal(j); err != nil {
		return nil, 0, faultOfState(err, false)
	}
	start := time.Now()
	done, err := e.writePlan(ctx, sp.Plan)
	notePhase(ctx, phaseWrite, start)
	if err == nil {
		verifying := time.Now()
		err = e.verify(ctx, sp)
		notePhase(ctx, phaseVerify, verifying)
	}
	e.noteApply(ctx, start, done)
	if err == nil && await > 0 {
		if f := e.awaitConnectivity(ctx, await); f != nil {
			return nil, done, e.rollBack(ctx, j, done, e.interrupted(ctx, f))
		}
	}
	if err == nil {
		return j, done, nil
	}
	return nil, done, e.rollBack(ctx, j, done, e.interrupted(ctx, newError(ApplyFailed, netconf.CodeFailedIfup, "Operation Failed",
		"applying the change failed at %q; the host was rolled back", failedStep(err))))
}

// faultOfState answers a failure to store state as CodeStateWriteFailed,
// and passes any other error on.
func faultOfState(err error, rolledBack bool) error {
	var we *stateWriteError
	if errors.As(err, &we) {
		return stateFault(we, rolledBack)
	}
	return err
}

// verify reads the kernel back until it contains the target, for a short
// bounded time: links settle (a bond raises its slaves asynchronously).
func (e *Engine) verify(ctx context.Context, sp netconf.PlannedChange) error {
	var err error
	for attempt := range verifyAttempts {
		if attempt > 0 {
			select {
			case <-time.After(verifyInterval):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		var st *netconf.State
		if st, err = e.verifiedState(); err != nil {
			return err
		}
		// sp.Old too: a device that loses its QoS is read to check it.
		if err = netconf.VerifyChange(sp, e.withEthtool(st, sp.Old, sp.New)); err == nil {
			return nil
		}
		if attempt+1 < verifyAttempts {
			// What the kernel had not done yet says what verification
			// waits for, and what costs a transaction verifyInterval.
			e.log.Info("verification read the kernel before it was done; reading again", zap.Int("attempt", attempt+1), zap.Error(err))
		}
	}
	return err
}
