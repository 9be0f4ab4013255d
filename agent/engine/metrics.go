package engine

import (
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
)

// metrics are hostnetd's Prometheus metrics, in a registry of its own (the
// global default one would mix in whatever a library registers, and would
// be shared by every engine of a test process), which the agent serves
// and adds its own to (Registry). The engine calls the one-line hooks
// below; gauges that describe the present (attachments out
// of sync, leases) are computed at scrape time.
type metrics struct {
	registry       *prometheus.Registry
	transactions   *prometheus.CounterVec
	rollbacks      *prometheus.CounterVec
	applySeconds   prometheus.Histogram
	netlinkWrites  *prometheus.CounterVec
	restoreSeconds prometheus.Gauge
	leaseChanges   *prometheus.CounterVec

	// leasesMu guards leases: which DHCP clients hold a lease, by client
	// key (attachment id, "-v6" for DHCPv6).
	leasesMu sync.Mutex
	leases   map[string]bool
}

func newMetrics(e *Engine) *metrics {
	m := &metrics{
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hostnetd_transactions_total",
			Help: "Transactions (writes) by result: applied, unchanged, rejected, rolled_back, rollback_failed, failed.",
		}, []string{"result"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hostnetd_rollbacks_total",
			Help: "Rollbacks of failed transactions by outcome (ok, failed).",
		}, []string{"outcome"}),
		applySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hostnetd_apply_duration_seconds",
			Help:    "Time to apply a transaction's plan to the kernel and verify it (without a connectivity check's wait).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		netlinkWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hostnetd_netlink_writes_total",
			Help: "Kernel writes made by transactions (phase apply) and by their rollbacks (phase rollback).",
		}, []string{"phase"}),
		restoreSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hostnetd_restore_duration_seconds",
			Help: "How long restoring the persistent configuration at boot took (0 until it ran in this boot).",
		}),
		leaseChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hostnetd_dhcp_lease_changes_total",
			Help: "DHCP leases acquired and lost (or released), and offers declined because another host used the address, by family.",
		}, []string{"family", "change"}),
		leases: map[string]bool{},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.transactions, m.rollbacks, m.applySeconds, m.netlinkWrites, m.restoreSeconds, m.leaseChanges,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "hostnetd_build_info",
			Help:        "hostnetd's version, as a label; always 1.",
			ConstLabels: prometheus.Labels{"version": e.opts.Version},
		}, func() float64 { return 1 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hostnetd_attachments",
			Help: "Network attachments in the running configuration.",
		}, func() float64 {
			_, running := e.snapshot()
			return float64(len(running.Attachments))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hostnetd_attachments_out_of_sync",
			Help: "Network attachments whose kernel state differs from their configuration, read at scrape time (NaN if the kernel could not be read).",
		}, func() float64 { return e.countOutOfSync() }),
	)
	for _, family := range []string{"ipv4", "ipv6"} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "hostnetd_dhcp_leases",
			Help:        "DHCP clients that hold a lease, by family.",
			ConstLabels: prometheus.Labels{"family": family},
		}, func() float64 { return m.boundLeases(family) }))
	}
	// Results and phases show as 0 before they first happen, so that rates
	// and alerts work from the start.
	for _, r := range []string{txApplied, txUnchanged, txRejected, txRolledBack, txRollbackFailed, txFailed} {
		m.transactions.WithLabelValues(r)
	}
	for _, o := range []string{"ok", "failed"} {
		m.rollbacks.WithLabelValues(o)
	}
	for _, p := range []string{"apply", "rollback"} {
		m.netlinkWrites.WithLabelValues(p)
	}
	m.registry = reg
	return m
}

func (e *Engine) countOutOfSync() float64 {
	st, err := e.observedState()
	if err != nil {
		e.log.Warn("metrics: reading the kernel", zap.Error(err))
		return math.NaN()
	}
	nets, running := e.snapshot()
	return float64(len(e.driftedAttachments(running, nets, st)))
}

// The hooks. Each is nil-safe, so that code paths without an agent's
// metrics (a bare dhcpClients in a test) need no guard.

func (m *metrics) transaction(result string) {
	if m != nil {
		m.transactions.WithLabelValues(result).Inc()
	}
}

func (m *metrics) apply(d time.Duration, writes int) {
	if m != nil {
		m.applySeconds.Observe(d.Seconds())
		m.netlinkWrites.WithLabelValues("apply").Add(float64(writes))
	}
}

func (m *metrics) rollback(outcome string) {
	if m != nil {
		m.rollbacks.WithLabelValues(outcome).Inc()
	}
}

func (m *metrics) rollbackWrites(n int) {
	if m != nil {
		m.netlinkWrites.WithLabelValues("rollback").Add(float64(n))
	}
}

func (m *metrics) restored(d time.Duration) {
	if m != nil {
		m.restoreSeconds.Set(d.Seconds())
	}
}

// lease records whether a DHCP client (by key) holds a lease.
func (m *metrics) lease(key string, bound bool) {
	if m == nil {
		return
	}
	m.leasesMu.Lock()
	defer m.leasesMu.Unlock()
	if m.leases[key] == bound {
		return
	}
	change := "lost"
	if bound {
		change = "acquired"
		m.leases[key] = true
	} else {
		delete(m.leases, key)
	}
	m.leaseChanges.WithLabelValues(leaseFamily(key), change).Inc()
}

// declined counts an offered DHCPv4 address declined as in use.
func (m *metrics) declined() {
	if m != nil {
		m.leaseChanges.WithLabelValues("ipv4", "declined").Inc()
	}
}

func (m *metrics) boundLeases(family string) float64 {
	m.leasesMu.Lock()
	defer m.leasesMu.Unlock()
	n := 0
	for key := range m.leases {
		if leaseFamily(key) == family {
			n++
		}
	}
	return float64(n)
}

func leaseFamily(key string) string {
	if strings.HasSuffix(key, "-v6") {
		return "ipv6"
	}
	return "ipv4"
}

// Registry is the registry of the engine's metrics, for the agent to serve
// and to register its own in.
func (e *Engine) Registry() *prometheus.Registry { return e.metrics.registry }
