package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/netconf/kernel"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// DefaultMaxBodyBytes is the default limit on a request body. A setupnetworks
// for 1000 networks is about 400 KiB.
const DefaultMaxBodyBytes = 1 << 20

// Options configure an Agent.
type Options struct {
	Namespace    *kernel.Namespace // required: the namespace whose interfaces are managed
	StateDir     string            // required: persistent state (host id, configuration)
	RunDir       string            // required: per-boot state (markers)
	MaxBodyBytes int64             // optional: DefaultMaxBodyBytes when 0
	Version      string            // optional: reported in the API root
	// HostName is the host's name in the API; optional, the machine's
	// host name (os.Hostname) when empty.
	HostName string
	// WriteWait bounds how long a write waits for the running one before
	// it gets 409; optional, DefaultWriteWait when 0.
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
	// StepDelay is a test hook: a pause before each kernel write, so that
	// crash tests can kill the daemon in the middle of a plan.
	StepDelay time.Duration
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout bound the time a
	// client may take to send its request headers and its whole request,
	// and how long an idle connection stays open; MaxConnections bounds
	// the connections served at once per listener (more wait). Optional:
	// the Default… values of limits.go when 0.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	MaxConnections                              int
	// FailStep is a test hook: a step of a plan for which it returns true
	// fails as if the kernel refused it. Never set in production.
	FailStep func(index int, step netconf.Step) bool
	// Access says who may use the TCP listeners (see access.go).
	Access AccessOptions
	// ShutdownGrace bounds how long a stop waits for the transaction in
	// flight to finish before cancelling it (it then rolls back);
	// optional, DefaultShutdownGrace when 0.
	ShutdownGrace time.Duration
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
}

// Agent is the hostnetd daemon. New prepares it; Run serves until its
// context is cancelled; Close releases it.
type Agent struct {
	log    *zap.Logger
	opts   Options
	hostID string
	router router
	// writer is the single writer slot: a transaction holds it throughout.
	writer chan struct{}
	// gate tells readers that plan (dry runs) whether a writer came by.
	gate writerGate
	// restored is closed when restore at boot has finished.
	restored chan struct{}
	// check is the connectivity check a transaction may be waiting on.
	check connectivityCheck
	// drift remembers which attachments drifted (driftedAttachments).
	drift snapshotMemo[map[string][]string]
	// dhcp runs the DHCP clients of the running configuration.
	dhcp *dhcpClients
	// dnsWrite serialises the rewrites of resolv.conf.
	dnsWrite sync.Mutex
	// events is what happened to the host's network, for GET events.
	events *eventLog
	// asyncActions are the async setupnetworks accepted, for GET.
	asyncActions asyncActions
	// monitor keeps the kernel's state for reads; nil until Run starts it.
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
	targets snapshotMemo[*netconf.Target]
	// qoss is the data center's QoS catalogue (qos.go).
	qoss qosCatalogue
	// bodies bounds the request bodies handled at once (bodybudget.go).
	bodies *byteBudget
	// access checks the requests of TCP listeners; metrics counts.
	access  *access
	metrics *metrics
	// stopping is closed when Run begins to stop: no transaction starts.
	stopping chan struct{}
	// txCtx is Run's context for transactions, which a stop cancels only
	// after the shutdown grace: an async setupnetworks runs under it once
	// its request has been answered. Set before serving.
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

// New prepares an agent: it creates the state and run directories and loads
// (or creates) the host id. It starts nothing.
func New(log *zap.Logger, opts Options) (*Agent, error) {
	if opts.Namespace == nil {
		return nil, errors.New("agent.New: a namespace is required")
	}
	if opts.StateDir == "" || opts.RunDir == "" {
		return nil, errors.New("agent.New: state and run directories are required")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
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
	if err := opts.setHTTPDefaults(); err != nil {
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	acc, err := newAccess(log.Named("access"), opts.Access)
	if err != nil {
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	for _, dir := range []string{opts.StateDir, opts.RunDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("agent.New: %w", err)
		}
	}
	ownLock := opts.StateLock == nil
	if ownLock {
		if opts.StateLock, err = LockStateDir(opts.StateDir); err != nil {
			return nil, fmt.Errorf("agent.New: %w", err)
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
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	stored, err := loadStoredState(log, opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	a := &Agent{log: log, opts: opts, hostID: hostID, writer: make(chan struct{}, 1), restored: make(chan struct{}),
		driftKick: make(chan struct{}, 1),
		networks:  stored.Networks, running: stored.Running, access: acc, stopping: make(chan struct{})}
	a.events = &eventLog{log: log.Named("events")}
	// The first event: an engine always has some, and clients take the
	// newest as where to follow from (Ansible's ovirt_host: list(max=1)[0]).
	a.events.add("normal", "HOSTNETD_STARTED", "hostnetd "+opts.Version+" started")
	a.bodies = newByteBudget(bodyBudgetBodies * opts.MaxBodyBytes)
	a.dhcp = newDHCPClients(log, opts.Namespace, opts.StateDir)
	a.metrics = newMetrics(a)
	a.dhcp.metrics = a.metrics
	a.lldp = newLLDPListeners(log.Named("lldp"), opts.Namespace, a.events.record, a.metrics.registry)
	a.lldp.state = a.observedState
	a.lldp.busy = func() bool { return len(a.writer) > 0 }
	a.dhcp.onLease = a.updateDNS
	a.dhcp.record = a.events.record
	if a.persistent, err = a.loadPersistent(); err != nil {
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	if stored.runningLost {
		// The kernel's configuration is unknown: restore the persistent
		// one as at boot.
		a.running = a.persistent
		data, err := encodeJSON(a.persistent)
		if err == nil {
			err = a.writeState(stateFile{runningFile, data})
		}
		if err != nil {
			return nil, fmt.Errorf("agent.New: %w", err)
		}
		if err := os.Remove(filepath.Join(opts.RunDir, restoredMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("agent.New: %w", err)
		}
	}
	a.routes()
	a.ownLock = ownLock
	ok = true
	return a, nil
}

// HostID is the id of the host this agent serves.
func (a *Agent) HostID() string { return a.hostID }

// Handler is the agent's HTTP handler, for tests and custom servers: the
// API, /metrics and the SSO endpoints. Requests that arrived on a TCP
// listener need credentials (access.go); others are trusted.
func (a *Agent) Handler() http.Handler { return a.guard(http.HandlerFunc(a.serveHTTP)) }

// Run serves the API on every listener until ctx is cancelled, then stops
// gracefully (shutdown.go): the transaction in flight, if any, finishes or
// rolls back before Run returns. A cancelled context is a normal stop.
func (a *Agent) Run(ctx context.Context, listeners ...net.Listener) error {
	if len(listeners) == 0 {
		return errors.New("agent.Run: no listener")
	}
	stopped := ctx
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// Transactions, restore and recovery run under txCtx, which a stop
	// cancels only after the shutdown grace.
	txCtx, cancelTx := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelTx()
	defer a.startWatchdog()()
	// Recover before serving: a transaction interrupted by a crash is
	// rolled back before anyone can read or write.
	if err := a.recoverJournal(txCtx); err != nil {
		return fmt.Errorf("agent.Run: %w", err)
	}
	watching := a.startMonitor(ctx)
	restoreErr := make(chan error, 1)
	go func() {
		err := a.restoreAtBoot(txCtx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("restoring the persistent configuration failed", zap.Error(err))
		}
		if ctx.Err() == nil {
			a.notifyReady(err)
		}
		restoreErr <- err
	}()
	a.txCtx = txCtx
	srv := a.newServer(txCtx)
	listeners = a.limitConnections(listeners)
	errc := make(chan error, len(listeners))
	for _, ln := range listeners {
		a.log.Info("serving", zap.String("address", ln.Addr().Network()+":"+ln.Addr().String()))
		go func() { errc <- srv.Serve(ln) }()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	stop()
	if err := a.shutdown(srv, cancelTx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("shutting down the HTTP server: %w", err))
	}
	if err := <-restoreErr; err != nil && stopped.Err() == nil {
		runErr = errors.Join(runErr, fmt.Errorf("restoring the persistent configuration: %w", err))
	}
	// Leases are kept, not released: a restarted hostnetd takes them over.
	a.dhcp.closeAll()
	<-watching
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}

// Close releases the agent. It is safe to call more than once.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		if a.ownLock {
			a.opts.StateLock.Release()
		}
	})
	return nil
}

func (a *Agent) ctx() xmlapi.Context {
	carried := a.carriedNetworks()
	_, running := a.snapshot()
	return xmlapi.Context{
		HostID: a.hostID,
		NicID:  func(name string) string { return nicID(a.hostID, name) },
		NicNetwork: func(name string) (string, string, bool) {
			c, ok := carried[name]
			return c.networkID, c.top, ok
		},
		BondConfig: func(name string) *netconf.BondConfig {
			for i := range running.Bonds {
				if running.Bonds[i].Name == name {
					return &running.Bonds[i]
				}
			}
			return nil
		},
	}
}

type carriedNetwork struct{ networkID, top string }

// carriedNetworks maps each interface that carries a network (the NIC or
// bond of an untagged one, the VLAN device of a tagged one) to the network
// and the device that holds its addresses.
func (a *Agent) carriedNetworks() map[string]carriedNetwork {
	nets, running := a.snapshot()
	out := make(map[string]carriedNetwork, len(running.Attachments))
	byID := networksByID(nets)
	for _, at := range running.Attachments {
		net := byID[at.NetworkID]
		if net == nil {
			continue
		}
		carrier := at.Nic
		if net.VLAN != nil {
			carrier = netconf.VLANDeviceName(at.Nic, *net.VLAN)
		}
		top := carrier
		if net.Bridged() {
			top = net.Name
		}
		out[carrier] = carriedNetwork{networkID: net.ID, top: top}
	}
	return out
}
