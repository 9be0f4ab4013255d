package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// Options configure an Engine.
type Options struct {
	Namespace *kernel.Namespace // the namespace whose interfaces are managed (or Kernel)
	StateDir  string            // required: persistent state (host id, configuration)
	RunDir    string            // required: per-boot state (markers)
	Version   string            // optional: hostnetd's version, for the metrics
	// WriteWait bounds how long a write waits for the running one before
	// it gets Busy; optional, DefaultWriteWait when 0.
	WriteWait time.Duration
	// MaxConnectivityTimeout bounds connectivity_timeout, in seconds;
	// optional, DefaultMaxConnectivityTimeout when 0.
	MaxConnectivityTimeout int
	// ConnectivityProbes are tcp:HOST:PORT targets whose reachability over
	// a new configuration confirms connectivity; optional.
	ConnectivityProbes []string
	// ResolvConf is the resolv.conf whose top hostnetd manages; optional
	// (empty: name servers are not written).
	ResolvConf string
	// ShutdownGrace bounds how long Drain waits for the transaction in
	// flight to finish before cancelling it (it then rolls back);
	// optional, DefaultShutdownGrace when 0.
	ShutdownGrace time.Duration
	// Kernel is the kernel the engine reads and writes; optional, that of
	// Namespace when nil. Tests wrap it to fail a step (FailStep); root-free
	// tests put a simulated one here, and do not Start the engine (the
	// monitor, DHCP and LLDP need a real namespace).
	Kernel Kernel
	// StateHook is a test hook, never set in production: it is called with
	// "write" before each file of the state directory is written (an error
	// fails the write as a full disk would), with "rename" before a written
	// file replaces the old one (an error fails the rename), and with "replace" or
	// "remove" once a file was replaced or removed (crash tests kill the
	// daemon there).
	StateHook func(op, name string) error
	// StateLock is the lock of StateDir when the caller took it (the
	// daemon does, before it creates a sandbox); when nil, New takes it
	// and Close releases it.
	StateLock *StateLock
	// Notify passes a state on to the service manager (STATUS=… lines);
	// optional.
	Notify func(state string)
}

// Engine is hostnetd's transaction engine: it owns the single writer slot,
// the network catalogue, the running and persistent configurations and
// their stores, the journal, restore at boot, the DHCP clients, the
// kernel monitor with drift and pending attachments, and the LLDP
// listeners. It knows nothing of HTTP or XML: the agent translates.
type Engine struct {
	// qoss is the QoS catalogue (qos.go).
	qoss   qosCatalogue
	log    *zap.Logger
	opts   Options
	hostID string
	// writer is the single writer slot: a transaction holds it throughout.
	writer chan struct{}
	// gate tells readers that plan (dry runs) whether a writer came by.
	gate writerGate
	// restored is closed when restore at boot has finished.
	restored chan struct{}
	// check is the connectivity check a transaction may be waiting on.
	check connectivityCheck
	// drift remembers which attachments drifted (driftedAttachments).
	drift netconf.SnapshotMemo[map[string][]string]
	// dhcp runs the DHCP clients of the running configuration.
	dhcp *dhcpClients
	// dnsWrite serialises the rewrites of resolv.conf.
	dnsWrite sync.Mutex
	// events is what happened to the host's network.
	events *EventLog
	// monitor keeps the kernel's state for reads; nil until Start.
	monitor atomic.Pointer[kernel.Monitor]
	// lldp receives LLDP on every NIC (lldp.go).
	lldp *lldpListeners
	// driftKick wakes the drift watcher.
	driftKick chan struct{}
	// viewStale says the kernel was written since the monitor last dumped
	// it; the writer slot guards it.
	viewStale bool
	// bigTx says a transaction planned bigPlan steps or more since the
	// memory was last released (releaseMemory).
	bigTx atomic.Bool
	// driftSkipped says the drift watcher skipped a look while a write
	// held the slot; the write's end has it look again.
	driftSkipped atomic.Bool
	// pendingNICs are the attachments pending at the drift watcher's last
	// look, pendingBusy says one is applying those that appeared
	// (pending.go).
	pendingNICs atomic.Pointer[pendingSet]
	pendingBusy atomic.Bool
	// targets remembers the running configuration's target: every
	// transaction plans from it, and building it costs as much as merging
	// a request for the whole host. Targets are never modified once built.
	targets netconf.SnapshotMemo[*netconf.Target]
	metrics *metrics
	// stopping is closed when Drain begins: no transaction starts.
	stopping chan struct{}
	// txCtx is the context of transactions that outlive their request
	// (async ones, pending attachments); set by Start.
	txCtx context.Context

	// mu guards the fields that follow: the committed catalogue and
	// running configuration, replaced whole (never mutated) by a commit,
	// so readers hold the lock only to copy the pointers.
	mu         sync.RWMutex
	networks   []*netconf.Network
	running    *netconf.Config
	persistent *netconf.Config

	closeOnce sync.Once
	// ownLock says New took the state directory's lock, for Close.
	ownLock bool
}

// New prepares an engine: it creates the state and run directories, takes
// the state directory's lock (unless the caller holds it), loads (or
// creates) the host id and loads the stored state. It starts nothing.
func New(log *zap.Logger, opts Options) (*Engine, error) {
	if opts.Namespace == nil && opts.Kernel == nil {
		return nil, errors.New("engine.New: a namespace or a kernel is required")
	}
	if opts.StateDir == "" || opts.RunDir == "" {
		return nil, errors.New("engine.New: state and run directories are required")
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.WriteWait == 0 {
		opts.WriteWait = DefaultWriteWait
	}
	if opts.MaxConnectivityTimeout == 0 {
		opts.MaxConnectivityTimeout = DefaultMaxConnectivityTimeout
	}
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	if opts.Kernel == nil {
		opts.Kernel = NamespaceKernel{Namespace: opts.Namespace}
	}
	if opts.Notify == nil {
		opts.Notify = func(string) {}
	}
	for _, dir := range []string{opts.StateDir, opts.RunDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("engine.New: %w", err)
		}
	}
	ownLock := opts.StateLock == nil
	if ownLock {
		var err error
		if opts.StateLock, err = LockStateDir(opts.StateDir); err != nil {
			return nil, fmt.Errorf("engine.New: %w", err)
		}
	}
	ok := false
	defer func() {
		if !ok && ownLock {
			opts.StateLock.Release()
		}
	}()
	hostID, err := loadHostID(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("engine.New: %w", err)
	}
	stored, err := loadStoredState(log, opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("engine.New: %w", err)
	}
	e := &Engine{log: log, opts: opts, hostID: hostID, writer: make(chan struct{}, 1), restored: make(chan struct{}),
		driftKick: make(chan struct{}, 1), networks: stored.Networks, running: stored.Running, stopping: make(chan struct{})}
	e.events = &EventLog{log: log.Named("events")}
	// The first event: an engine always has some, and clients take the
	// newest as where to follow from (Ansible's ovirt_host: list(max=1)[0]).
	e.events.add("normal", "HOSTNETD_STARTED", "hostnetd "+opts.Version+" started")
	e.dhcp = newDHCPClients(log, opts.Namespace, opts.StateDir)
	e.dhcp.applier = opts.Kernel
	e.metrics = newMetrics(e)
	e.dhcp.metrics = e.metrics
	e.lldp = newLLDPListeners(log.Named("lldp"), opts.Namespace, e.events.record, e.metrics.registry)
	e.lldp.state = e.observedState
	e.lldp.busy = func() bool { return len(e.writer) > 0 }
	e.dhcp.onLease = e.updateDNS
	e.dhcp.record = e.events.record
	if e.persistent, err = e.loadPersistent(); err != nil {
		return nil, fmt.Errorf("engine.New: %w", err)
	}
	if e.running.Equal(e.persistent) {
		// The usual case, everything committed: one copy, not two (a
		// configuration of thousands of networks is megabytes). Both are
		// replaced whole on change, never edited, so they can share.
		e.running = e.persistent
	}
	if stored.runningLost {
		// The kernel's configuration is unknown: restore the persistent
		// one as at boot.
		e.running = e.persistent
		data, err := encodeJSON(e.persistent)
		if err == nil {
			err = e.writeState(stateFile{runningFile, data})
		}
		if err != nil {
			return nil, fmt.Errorf("engine.New: %w", err)
		}
		if err := os.Remove(filepath.Join(opts.RunDir, restoredMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("engine.New: %w", err)
		}
	}
	e.ownLock = ownLock
	ok = true
	return e, nil
}

// Start follows the kernel from now on (the monitor, drift, pending
// attachments and the LLDP listeners), until ctx ends; the returned
// channel is closed once all of that has stopped. Transactions that
// outlive their request run under txCtx. Recover first: Start assumes the
// kernel holds no interrupted transaction.
func (e *Engine) Start(ctx, txCtx context.Context) (stopped <-chan struct{}) {
	e.txCtx = txCtx
	return e.startMonitor(ctx)
}

// Recover rolls back a transaction that a crash interrupted, if its
// journal is on disk; call it before anything reads or writes.
func (e *Engine) Recover(ctx context.Context) error { return e.recoverJournal(ctx) }

// Restore makes the kernel match the persistent configuration on the
// first start after a boot (restore.go); Restored is closed once it ends.
func (e *Engine) Restore(ctx context.Context) error { return e.restoreAtBoot(ctx) }

// StopClients stops the DHCP clients, keeping their leases: a restarted
// hostnetd takes them over.
func (e *Engine) StopClients() { e.dhcp.closeAll() }

// Close releases the state directory. It is safe to call more than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		if e.ownLock {
			e.opts.StateLock.Release()
		}
	})
	return nil
}

// HostID is the id of the host this engine manages.
func (e *Engine) HostID() string { return e.hostID }

// Events is the log of what happened to the host's network.
func (e *Engine) Events() *EventLog { return e.events }

// notify passes a state on to the service manager.
func (e *Engine) notify(state string) { e.opts.Notify(state) }
