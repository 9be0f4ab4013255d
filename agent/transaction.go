package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/xmlapi"
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

// change is one write: a request merged into the running configuration,
// possibly with a new network catalogue (a PUT on an attached network).
type change struct {
	request  netconf.ChangeSet
	networks []*netconf.Network // nil: the catalogue is unchanged
}

// txResult says what a transaction did.
type txResult struct {
	Running *netconf.Config
	Plan    netconf.Plan
	Writes  int
}

// lockWriter takes the single writer slot, waiting at most the configured
// time; readers never take it.
func (a *Agent) lockWriter(ctx context.Context) (func(), error) {
	timer := time.NewTimer(a.opts.WriteWait)
	defer timer.Stop()
	select {
	case a.writer <- struct{}{}:
		select {
		case <-a.stopping: // hand the slot to the stop (shutdown.go)
			<-a.writer
			return nil, stoppingFault()
		default:
		}
		a.gate.enter()
		a.pauseView()
		nets0, running0 := a.snapshot()
		return func() {
			a.syncView(nets0, running0) // the next read sees what this write did
			a.gate.leave()
			<-a.writer
		}, nil
	case <-a.stopping:
		return nil, stoppingFault()
	case <-timer.C:
		return nil, operationInProgress()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// operationInProgress answers a write, or a dry run, that waited its
// --write-wait for the running write in vain.
func operationInProgress() *Fault {
	return newFault(http.StatusConflict, CodeOperationInProgress, "Operation Failed",
		"another network operation is in progress; try again later")
}

// transact runs one write from request to committed running configuration:
// merge and validate, plan, apply, verify; on a failure after the first
// kernel write the kernel is put back to the configuration it ran before.
func (a *Agent) transact(ctx context.Context, ch change) (txResult, error) {
	unlock, err := a.lockWriter(ctx)
	if err != nil {
		return txResult{}, err
	}
	defer unlock()
	return a.transactLocked(ctx, ch)
}

// transactLocked is transact for a caller that holds the writer slot.
func (a *Agent) transactLocked(ctx context.Context, ch change) (res txResult, err error) {
	ctx, tx := a.beginTx(ctx, "request")
	defer func() { a.endTx(tx, res, err) }()
	m, err := a.mergeChange(ch)
	if err != nil {
		return txResult{}, err
	}
	return a.applyMerged(ctx, ch, m)
}

// applyMerged applies a validated change and, if the request asks, commits
// it to the persistent configuration in the same store.
func (a *Agent) applyMerged(ctx context.Context, ch change, m merged) (txResult, error) {
	how := m.how
	how.persist = ch.request.CommitOnSuccess
	return a.applyConfig(ctx, m.cur, m.cfg, ch.networks, how)
}

// transactAsync is transact for an async setupnetworks: it takes the
// writer slot and validates the change like transact, so a busy host or a
// bad request is answered as usual, then applies it in the background,
// under Run's transaction context rather than the request's, which ends
// with the answer. The outcome is in the returned action (echo is the
// request it answers, size the bytes of its body), the events and the log, and a stop waits for it
// (or cancels it after the grace: it rolls back) as for any transaction,
// since it holds the writer slot until it has ended.
func (a *Agent) transactAsync(ctx context.Context, ch change, echo *xmlapi.Node, size int) (*asyncAction, error) {
	unlock, err := a.lockWriter(ctx)
	if err != nil {
		return nil, err
	}
	base := a.txCtx
	if base == nil { // an agent served without Run, as in handler tests
		base = context.WithoutCancel(ctx)
	}
	txCtx, tx := a.beginTx(base, "request")
	m, err := a.mergeChange(ch)
	if err != nil {
		a.endTx(tx, txResult{}, err)
		unlock()
		return nil, err
	}
	act := a.asyncActions.add(echo, size)
	go func() {
		defer unlock()
		res, err := a.applyMerged(txCtx, ch, m)
		a.endTx(tx, res, err)
		a.asyncActions.finish(act, err)
	}()
	return act, nil
}

// applyHow says how applyConfig applies a configuration.
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

// applyConfig makes the kernel run cfg (with the catalogue nets, or the
// current one when nil) and, once verified, makes it the running
// configuration. cur is the kernel as read before, or nil: then it is read
// if the change touches any device.
func (a *Agent) applyConfig(ctx context.Context, cur *netconf.State, cfg *netconf.Config, nets []*netconf.Network, how applyHow) (txResult, error) {
	if a.dhcp.stopUnwanted(cfg) {
		// Their leases' addresses and routes are gone: plan from the kernel
		// as it is now. A rollback restores the addresses, and the clients
		// of the configuration that runs again are started again.
		cur = nil
	}
	oldNets, running := a.snapshot()
	planning := time.Now()
	sp, err := a.planChange(cur, running, oldNets, cfg, nets, how)
	if err != nil {
		return txResult{}, err
	}
	notePhase(ctx, phasePlan, planning)
	plan := sp.plan
	cur = sp.cur
	a.log.Debug("plan", zap.String("transaction", txID(ctx)), zap.String("plan", plan.String()))
	// The state to store is encoded before the first kernel write, so
	// that the journal can name it: see recoverJournal.
	commit, err := a.prepareCommit(cfg, nets, how.persist)
	if err != nil {
		return txResult{Plan: plan}, faultOfState(err, false)
	}
	j, writes, err := a.applyAndVerify(ctx, plan, cur, sp.oldT, sp.newT, sp.scope, how.await, commit)
	if err != nil {
		a.reconcileDHCP(ctx) // the configuration that runs again may need its clients back
		return txResult{Plan: plan, Writes: writes}, err
	}
	// Crash order: the new state is stored (catalogue, running.json: the
	// commit point, then persistent.json) while the journal is still on
	// disk, and only then is the journal removed. A crash before the
	// rename of running.json rolls the kernel back at the next start; one
	// after it finds running.json holding the journal's change, which is
	// then kept.
	var notPersisted error
	if err := a.commitState(commit); errors.As(err, new(*notPersistedError)) {
		notPersisted = notPersistedFault(err) // committed as running: no rollback
	} else if err != nil {
		if j != nil {
			err = a.rollBack(ctx, j, writes, stateFault(err, true))
			if nerr := a.restoreNetworks(j); nerr != nil {
				a.log.Error("cannot put the network catalogue back", zap.Error(nerr))
			}
		} else {
			err = faultOfState(err, false)
		}
		a.reconcileDHCP(ctx)
		return txResult{Plan: plan, Writes: writes}, err
	}
	if j != nil {
		if err := a.removeJournal(); err != nil {
			// The change is stored: the journal names it, so a restart keeps it.
			a.log.Error("the change is committed but its journal could not be removed", zap.Error(err))
		}
	}
	if notPersisted != nil {
		a.reconcileDHCP(ctx)
		a.updateDNS()
		return txResult{Running: cfg, Plan: plan, Writes: writes}, notPersisted
	}
	if committedNets, committed := a.snapshot(); committed == cfg && !sp.pending {
		// (an unchanged one was not committed; one with pending
		// attachments has a target that changes when their NIC appears)
		a.targets.put(cfg, committedNets, nil, sp.newT)
	}
	a.reconcileDHCP(ctx)
	a.updateDNS()
	if len(plan) > 0 {
		a.events.add("normal", "NETWORK_CHANGE_APPLIED", fmt.Sprintf("network configuration applied and verified: %d kernel writes", writes))
	}
	return txResult{Running: cfg, Plan: plan, Writes: writes}, nil
}

// applyAndVerify applies the plan and checks the kernel read back. Before
// the first write it journals a snapshot of every device the plan can
// touch, with the state the change will store (commit); on any failure it
// restores that snapshot exactly (links, masters, bond options, MTUs,
// admin states, addresses, routes). On success it returns the journal,
// still on disk, for the caller to remove once the new state is stored
// (nil when the plan is empty: nothing was journaled).
func (a *Agent) applyAndVerify(ctx context.Context, plan netconf.Plan, before *netconf.State, oldT, newT *netconf.Target, scope []string, await time.Duration, commit *stateCommit) (*journal, int, error) {
	if len(plan) == 0 {
		return nil, 0, nil // nothing changes, so nothing can cut the manager off
	}
	a.noteBigPlan(len(plan))
	names := netconf.TouchableNames(before, oldT, newT)
	snap := netconf.SnapshotTarget(before, names)
	netconf.SnapshotEthtool(snap, before, oldT, newT)
	j := &journal{Version: journalVersion, Started: time.Now(), Next: newT, Snapshot: snap, Names: names,
		Before: &netconf.State{Routes: before.Routes, Rules: before.Rules}, Commit: commit.digest, Networks: commit.oldNetworks}
	if err := a.writeJournal(j); err != nil {
		return nil, 0, faultOfState(err, false)
	}
	start := time.Now()
	done, err := a.apply(ctx, a.instrument(plan))
	notePhase(ctx, phaseWrite, start)
	if err == nil {
		verifying := time.Now()
		err = a.verify(ctx, oldT, newT, scope)
		notePhase(ctx, phaseVerify, verifying)
	}
	a.noteApply(ctx, start, done)
	if err == nil && await > 0 {
		if f := a.awaitConnectivity(ctx, await); f != nil {
			return nil, done, a.rollBack(ctx, j, done, a.interrupted(ctx, f))
		}
	}
	if err == nil {
		return j, done, nil
	}
	return nil, done, a.rollBack(ctx, j, done, a.interrupted(ctx, newFault(http.StatusBadRequest, netconf.CodeFailedIfup, "Operation Failed",
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

// rollBack restores the journaled snapshot after cause and returns the
// fault to answer: cause itself, or a 500 that says the rollback failed.
func (a *Agent) rollBack(ctx context.Context, j *journal, done int, cause *Fault) error {
	// The rollback must run to the end even if the request was cancelled.
	rbErr := a.restoreSnapshot(context.WithoutCancel(ctx), j)
	a.noteRollback(ctx, rbErr)
	if rbErr != nil {
		a.events.add("error", "ROLLBACK_FAILED", fmt.Sprintf("%s; rolling it back failed too: %v", cause.Detail, rbErr))
		a.setAsideJournal(rbErr)
		return newFault(http.StatusInternalServerError, cause.Code, "Operation Failed",
			"%s; rolling it back failed too (%v): the host may be half-configured", cause.Detail, rbErr)
	}
	a.events.add("warning", cause.Code, fmt.Sprintf("%s (%d steps undone)", cause.Detail, done))
	if err := a.removeJournal(); err != nil {
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

// verify reads the kernel back until it contains the target, for a short
// bounded time: links settle (a bond raises its slaves asynchronously).
func (a *Agent) verify(ctx context.Context, oldT, newT *netconf.Target, scope []string) error {
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
		if st, err = a.verifiedState(); err != nil {
			return err
		}
		st = a.withEthtool(st, oldT, newT) // oldT: QoS its devices lose
		if err = netconf.VerifyScoped(oldT, newT, st, scope); err == nil {
			if err = netconf.VerifyLinkStates(oldT, newT, st, scope); err == nil {
				return nil
			}
		}
	}
	return err
}

// nicNameResolver maps NIC and bond ids to device names: the kernel's links
// and the bonds of the configuration (which may not exist yet).
func (a *Agent) nicNameResolver(st *netconf.State, cfg *netconf.Config) func(string) (string, bool) {
	var names map[string]string // id → name, built on the first lookup
	return func(id string) (string, bool) {
		if names == nil {
			names = make(map[string]string, len(st.Links)+len(cfg.Bonds))
			for _, b := range cfg.Bonds {
				names[nicID(a.hostID, b.Name)] = b.Name
			}
			for _, l := range st.Links { // a link wins over a bond to be
				names[nicID(a.hostID, l.Name)] = l.Name
			}
		}
		name, ok := names[id]
		return name, ok
	}
}

// attachmentID is stable per host and network.
func attachmentID(hostID, networkID string) string {
	return nicID(hostID, "attachment/"+networkID)
}

// ruleFault turns a validation error into its API fault.
func ruleFault(err error) error {
	var re *netconf.RuleError
	if !errors.As(err, &re) {
		return err
	}
	status := http.StatusBadRequest
	if re.Conflict {
		status = http.StatusConflict
	}
	return newFault(status, re.Code, "Operation Failed", "Cannot setup Networks. %s", re.Msg)
}

// snapshot returns the catalogue and the running configuration as readers
// see them.
func (a *Agent) snapshot() ([]*netconf.Network, *netconf.Config) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.networks, a.running
}

func (a *Agent) networkByID(id string) *netconf.Network {
	nets, _ := a.snapshot()
	i := slices.IndexFunc(nets, func(n *netconf.Network) bool { return n.ID == id })
	if i < 0 {
		return nil
	}
	return nets[i]
}

// syncedDevices names the devices of the attachments a request
// synchronises, which are re-applied even though their configuration does
// not change.
func syncedDevices(cfg *netconf.Config, nets []*netconf.Network, ids []string) []string {
	var names []string
	for _, at := range cfg.Attachments {
		if !slices.Contains(ids, at.ID) {
			continue
		}
		if i := slices.IndexFunc(nets, func(n *netconf.Network) bool { return n.ID == at.NetworkID }); i >= 0 {
			names = append(names, netconf.AttachmentDevices(at, nets[i])...)
		}
	}
	return names
}

// reconcileDHCP runs the DHCP clients the running configuration needs. It
// reads the kernel (for the NICs' MACs) only when there is something to
// reconcile: most transactions on most hosts involve no DHCP.
func (a *Agent) reconcileDHCP(ctx context.Context) {
	nets, running := a.snapshot()
	if !a.dhcp.active() && !usesDHCP(running) {
		return
	}
	st, err := a.readState()
	if err != nil {
		a.log.Error("cannot start DHCP clients", zap.Error(err))
		return
	}
	a.dhcp.reconcile(ctx, running, nets, st)
}

func usesDHCP(cfg *netconf.Config) bool {
	return slices.ContainsFunc(cfg.Attachments, func(at netconf.Attachment) bool {
		return at.IPv4.Method == netconf.BootDHCP || at.IPv6.Method == netconf.BootDHCP || at.IPv6.Method == netconf.BootPolyDHCPAutoconf
	})
}

// outOfSync lists the differences of each running attachment that drifted
// from its configuration.
func outOfSync(cfg *netconf.Config, nets []*netconf.Network, st *netconf.State) map[string][]string {
	out := map[string][]string{}
	byID := networksByID(nets)
	drift := netconf.NewDriftCache(cfg, st)
	for _, at := range cfg.Attachments {
		net := byID[at.NetworkID]
		if net == nil {
			continue
		}
		if ok, diffs := netconf.InSync(attachmentReported(drift, at, net, st)); !ok {
			out[at.ID] = diffs
		}
	}
	return out
}

// networksByID indexes the catalogue, for lookups per attachment.
func networksByID(nets []*netconf.Network) map[string]*netconf.Network {
	out := make(map[string]*netconf.Network, len(nets))
	for _, n := range nets {
		out[n.ID] = n
	}
	return out
}

// attachmentReported is how an attachment compares with the kernel: its
// drift, its devices' link state, and whether it is pending (pending.go).
func attachmentReported(drift *netconf.DriftCache, at netconf.Attachment, net *netconf.Network, st *netconf.State) []netconf.Reported {
	r := drift.AttachmentDrift(at, net)
	if ls, down := netconf.LinkStateDrift(at, net, st); down {
		r = append(r, ls)
	}
	return r
}
