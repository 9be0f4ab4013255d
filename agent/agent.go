package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// DefaultMaxBodyBytes is the default limit on a request body. A setupnetworks
// for 1000 networks is about 400 KiB.
const DefaultMaxBodyBytes = 1 << 20

// Options configure an Agent.
type Options struct {
	Namespace    *engine.Namespace // required: the namespace whose interfaces are managed
	StateDir     string            // required: persistent state (host id, configuration)
	RunDir       string            // required: per-boot state (markers)
	MaxBodyBytes int64             // optional: DefaultMaxBodyBytes when 0
	Version      string            // optional: reported in the API root
	// HostName is the host's name in the API; optional, the machine's
	// host name (os.Hostname) when empty.
	HostName string
	// WriteWait bounds how long a write waits for the running one before
	// it gets 409; optional, engine.DefaultWriteWait when 0.
	WriteWait time.Duration
	// MaxConnectivityTimeout bounds connectivity_timeout, in seconds;
	// optional, engine.DefaultMaxConnectivityTimeout when 0.
	MaxConnectivityTimeout int
	// ConnectivityProbes are tcp:HOST:PORT targets whose reachability over
	// a new configuration confirms connectivity; optional.
	ConnectivityProbes []string
	// ResolvConf is the resolv.conf whose top hostnetd manages; optional
	// (empty: name servers are not written).
	ResolvConf string
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout bound the time a
	// client may take to send its request headers and its whole request,
	// and how long an idle connection stays open; MaxConnections bounds
	// the connections served at once per listener (more wait). Optional:
	// the Default… values of limits.go when 0.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	MaxConnections                              int
	// Kernel is the kernel the engine reads and writes; optional, the
	// Namespace's when nil. Tests wrap that to fail a step
	// (engine.FailStep).
	Kernel engine.Kernel
	// Access says who may use the TCP listeners (see access.go).
	Access AccessOptions
	// ShutdownGrace bounds how long a stop waits for the transaction in
	// flight to finish before cancelling it (it then rolls back);
	// optional, engine.DefaultShutdownGrace when 0.
	ShutdownGrace time.Duration
	// StateHook is a test hook (engine.Options.StateHook).
	StateHook func(op, name string) error
	// StateLock is the lock of StateDir when the caller took it (the
	// daemon does, before it creates a sandbox); when nil, the engine
	// takes it and Close releases it.
	StateLock *engine.StateLock
}

// Agent is the hostnetd daemon's front: it serves the HTTP API, checks
// access, and translates each request into a call of the engine, which
// does the work. New prepares it; Run serves until its context is
// cancelled; Close releases it.
type Agent struct {
	log    *zap.Logger
	opts   Options
	eng    *engine.Engine
	hostID string
	nicIDs *nicIDs
	// carried remembers carriedNetworks for the current catalogue and
	// running configuration: every answer is rendered with it, and
	// building it for each was most of what a GET /nics of a thousand
	// networks allocated. The map is shared: readers must not modify it.
	carried netconf.SnapshotMemo[map[string]carriedNetwork]
	router  router
	// asyncActions are the async setupnetworks accepted, for GET.
	asyncActions asyncActions
	// bodies bounds the request bodies handled at once (bodybudget.go).
	bodies *byteBudget
	// access checks the requests of TCP listeners; metrics counts.
	access  *access
	metrics *metrics
	// notifier tells systemd how the daemon is doing (notify.go).
	notifier *notifier
}

// New prepares an agent and its engine: it creates the state and run
// directories and loads (or creates) the host id. It starts nothing.
func New(log *zap.Logger, opts Options) (*Agent, error) {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if err := opts.setHTTPDefaults(); err != nil {
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	acc, err := newAccess(log.Named("access"), opts.Access)
	if err != nil {
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	notifier := newNotifier(log)
	eng, err := engine.New(log, engine.Options{
		Namespace: opts.Namespace, StateDir: opts.StateDir, RunDir: opts.RunDir, Version: opts.Version,
		WriteWait: opts.WriteWait, MaxConnectivityTimeout: opts.MaxConnectivityTimeout,
		ConnectivityProbes: opts.ConnectivityProbes, ResolvConf: opts.ResolvConf, ShutdownGrace: opts.ShutdownGrace,
		Kernel: opts.Kernel, StateHook: opts.StateHook, StateLock: opts.StateLock,
		Notify: notifier.notify,
	})
	if err != nil {
		return nil, fmt.Errorf("agent.New: %w", err)
	}
	a := &Agent{log: log, opts: opts, eng: eng, hostID: eng.HostID(), nicIDs: newNicIDs(eng.HostID()), access: acc, notifier: notifier}
	a.bodies = newByteBudget(bodyBudgetBodies * opts.MaxBodyBytes)
	a.metrics = newMetrics(log, eng.Registry())
	a.routes()
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
	if err := a.eng.Recover(txCtx); err != nil {
		return fmt.Errorf("agent.Run: %w", err)
	}
	watching := a.eng.Start(ctx, txCtx)
	restoreErr := make(chan error, 1)
	go func() {
		err := a.eng.Restore(txCtx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("restoring the persistent configuration failed", zap.Error(err))
		}
		if ctx.Err() == nil {
			a.notifyReady(err)
		}
		restoreErr <- err
	}()
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
	a.eng.StopClients()
	<-watching
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}

// Restored is closed once restore at boot has finished (or was not needed).
func (a *Agent) Restored() <-chan struct{} { return a.eng.Restored() }

// Close releases the agent. It is safe to call more than once.
func (a *Agent) Close() error {
	a.notifier.close()
	return a.eng.Close()
}

func (a *Agent) ctx() xmlapi.Context {
	nets, running := a.eng.Snapshot()
	carried := a.carried.Get(running, nets, nil, func() map[string]carriedNetwork { return carriedNetworks(nets, running) })
	return xmlapi.Context{
		HostID: a.hostID,
		NicID:  a.nicIDs.id,
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
func carriedNetworks(nets []*netconf.Network, running *netconf.Config) map[string]carriedNetwork {
	out := make(map[string]carriedNetwork, len(running.Attachments))
	byID := netconf.NetworksByID(nets)
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
