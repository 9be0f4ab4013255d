// Command hostnetd is the host network configuration agent for hypervisor
// hosts. It serves oVirt's host-networking API over local HTTP and manages
// the interfaces of one network namespace: its own, a named one (--netns),
// or a throwaway sandbox (--sandbox).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/hostnetd/hostnetd/agent"
	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf/kernel"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// args are the parsed command-line flags.
type args struct {
	listen       []string
	stateDir     string
	runDir       string
	netns        string
	sandbox      bool
	sandboxName  string
	logLevel     string
	maxBodyBytes int64
	probes       []string
	writeWait    time.Duration
	maxConnWait  int
	stepDelay    time.Duration
	resolvConf   string
	service      serviceFlags
	maxConns     int
	cpuProfile   string
	hostName     string
	// Crash tests only: a state file whose writes fail as on a full disk,
	// and OP:NAME, the state file operation after which hostnetd kills
	// itself.
	failStateWrite string
	crashAfter     string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func parseArgs(argv []string) (args, error) {
	var a args
	fs := flag.NewFlagSet("hostnetd", flag.ContinueOnError)
	var listen listFlag
	fs.Var(&listen, "listen", "address to serve on, unix:PATH or tcp:HOST:PORT; repeatable (default unix:/run/hostnetd/hostnetd.sock)")
	fs.StringVar(&a.stateDir, "state-dir", "/var/lib/hostnetd", "directory of persistent state")
	fs.StringVar(&a.runDir, "run-dir", "/run/hostnetd", "directory of per-boot state")
	fs.StringVar(&a.netns, "netns", "", "manage the interfaces of this named network namespace instead of the daemon's own")
	fs.BoolVar(&a.sandbox, "sandbox", false, "create and manage a throwaway namespace with veth NICs eth0..eth3; deleted on exit")
	fs.StringVar(&a.sandboxName, "sandbox-name", "hostnetd-sandbox", "name of the sandbox namespace (its switch is NAME-sw)")
	fs.StringVar(&a.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.Int64Var(&a.maxBodyBytes, "max-body-bytes", agent.DefaultMaxBodyBytes, "largest request body accepted")
	fs.StringVar(&a.hostName, "host-name", "", "the host's name in the API (default: the machine's host name)")
	fs.StringVar(&a.resolvConf, "resolv-conf", "", "resolv.conf whose top gets the default-route network's name servers (default /etc/resolv.conf; /etc/netns/NAME/resolv.conf with --netns; RUN-DIR/resolv.conf with --sandbox; \"none\" to leave DNS alone)")
	fs.IntVar(&a.maxConns, "max-connections", agent.DefaultMaxConnections, "connections served at once per listener; more wait")
	fs.DurationVar(&a.stepDelay, "test-step-delay", 0, "for crash tests only: pause before each kernel write")
	fs.StringVar(&a.failStateWrite, "test-fail-state-write", "", "for crash tests only: writes of this state file fail with ENOSPC")
	fs.StringVar(&a.crashAfter, "test-crash-after-state-op", "", "for crash tests only: OP:NAME (replace:running.json, remove:journal.json, …): SIGKILL hostnetd right after it")
	fs.StringVar(&a.cpuProfile, "cpu-profile", "", "for benchmarks: write a CPU profile of the whole run to this file")
	var probes listFlag
	fs.Var(&probes, "connectivity-probe", "tcp:HOST:PORT reached over a new configuration confirms connectivity; repeatable")
	fs.DurationVar(&a.writeWait, "write-wait", engine.DefaultWriteWait, "how long a write waits for the running one before 409")
	fs.IntVar(&a.maxConnWait, "max-connectivity-timeout", engine.DefaultMaxConnectivityTimeout, "largest connectivity_timeout accepted, in seconds; also the wait when a request gives none")
	a.service.register(fs)
	if err := fs.Parse(argv); err != nil {
		return a, err
	}
	if fs.NArg() > 0 {
		return a, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	a.listen = listen
	a.probes = probes
	for _, p := range a.probes {
		if err := engine.ParseProbe(p); err != nil {
			return a, err
		}
	}
	if len(a.listen) == 0 {
		a.listen = []string{"unix:/run/hostnetd/hostnetd.sock"}
	}
	if a.sandbox && a.netns != "" {
		return a, errors.New("--sandbox and --netns exclude each other")
	}
	switch {
	case a.resolvConf == "none":
		a.resolvConf = ""
	case a.resolvConf != "":
	case a.sandbox:
		a.resolvConf = filepath.Join(a.runDir, "resolv.conf")
	case a.netns != "":
		// Where ip netns exec finds a namespace's resolv.conf.
		a.resolvConf = filepath.Join("/etc/netns", a.netns, "resolv.conf")
	default:
		a.resolvConf = "/etc/resolv.conf"
	}
	return a, nil
}

func main() {
	a, err := parseArgs(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostnetd:", err)
		os.Exit(2)
	}
	log, err := newLogger(a.logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostnetd:", err)
		os.Exit(2)
	}
	defer log.Sync() //nolint:errcheck // nothing to do if the log cannot be flushed
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The first signal stops gracefully (the transaction in flight finishes
	// or rolls back); a second one kills, and the journal rolls back at the
	// next start.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, log, a); err != nil {
		log.Error("hostnetd failed", zap.Error(err))
		os.Exit(1)
	}
}

func run(ctx context.Context, log *zap.Logger, a args) (err error) {
	stopProfile, err := startCPUProfile(a.cpuProfile)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()
	listenOpts, err := a.service.listenOptions(a.listen)
	if err != nil {
		return err
	}
	// The state directory is locked before anything else, a sandbox
	// included: a second hostnetd on the same directory stops here.
	lock, err := engine.LockStateDir(a.stateDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	ns, cleanup, err := openManagedNamespace(log, a)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	ag, err := agent.New(log, agent.Options{
		Namespace:              ns,
		StateDir:               a.stateDir,
		RunDir:                 a.runDir,
		MaxBodyBytes:           a.maxBodyBytes,
		Version:                version,
		HostName:               a.hostName,
		WriteWait:              a.writeWait,
		MaxConnectivityTimeout: a.maxConnWait,
		ConnectivityProbes:     a.probes,
		ResolvConf:             a.resolvConf,
		Access:                 a.service.access(),
		ShutdownGrace:          a.service.shutdownGrace,
		MaxConnections:         a.maxConns,
		StateLock:              lock,
		StateHook:              a.stateHook(log),
		Kernel:                 a.kernel(ns, log),
	})
	if err != nil {
		return err
	}
	defer ag.Close()

	var listeners []net.Listener
	defer func() {
		for _, ln := range listeners {
			ln.Close()
		}
	}()
	for _, spec := range a.listen {
		ln, err := agent.ListenWith(spec, listenOpts)
		if err != nil {
			return err
		}
		listeners = append(listeners, ln)
	}
	log.Info("hostnetd started", zap.String("version", version), zap.String("host_id", ag.HostID()),
		zap.String("namespace", namespaceLabel(ns)), zap.Strings("listen", a.listen))
	defer reloadOnHangup(ctx, ag)()
	return ag.Run(ctx, listeners...)
}

// reloadOnHangup reloads the credentials files on each SIGHUP (systemctl
// reload) until ctx ends; the function it returns stops that and waits.
func reloadOnHangup(ctx context.Context, ag *agent.Agent) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = ag.Reload() // it logs why it failed
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}

// openManagedNamespace opens the namespace hostnetd manages and returns the
// function that releases it (and, for a sandbox, deletes it).
func openManagedNamespace(log *zap.Logger, a args) (*kernel.Namespace, func() error, error) {
	if !a.sandbox {
		ns, err := kernel.OpenNamespace(a.netns)
		if err != nil {
			return nil, nil, err
		}
		return ns, ns.Close, nil
	}
	for _, name := range []string{a.sandboxName, a.sandboxName + "-sw"} {
		if kernel.NamespaceExists(name) {
			log.Warn("removing a sandbox namespace left by an earlier run", zap.String("namespace", name))
			if err := kernel.DeleteNamespace(name); err != nil {
				return nil, nil, err
			}
		}
	}
	sb, err := kernel.CreateSandbox(a.sandboxName, 4)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the sandbox: %w", err)
	}
	log.Info("sandbox created", zap.String("namespace", sb.Host.Name), zap.String("switch", sb.Switch.Name))
	return sb.Host, func() error {
		log.Info("deleting the sandbox", zap.String("namespace", sb.Host.Name))
		return sb.Destroy()
	}, nil
}

func namespaceLabel(ns *kernel.Namespace) string {
	if ns.Name == "" {
		return "(own)"
	}
	return ns.Name
}

// stateHook is the agent's StateHook for the crash-test flags, or nil.
func (a args) stateHook(log *zap.Logger) func(op, name string) error {
	if a.failStateWrite == "" && a.crashAfter == "" {
		return nil
	}
	return func(op, name string) error {
		if op == "write" && name == a.failStateWrite {
			return syscall.ENOSPC
		}
		if op+":"+name == a.crashAfter {
			log.Warn("test hook: killing hostnetd", zap.String("after", a.crashAfter))
			_ = log.Sync()
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
		return nil
	}
}

// kernel is the engine's kernel: the namespace's, through the pauses of
// --test-step-delay for crash tests.
func (a args) kernel(ns *kernel.Namespace, log *zap.Logger) engine.Kernel {
	k := engine.Kernel(engine.NamespaceKernel{Namespace: ns})
	if a.stepDelay > 0 {
		k = engine.PauseBeforeEachStep(k, log, a.stepDelay)
	}
	return k
}
