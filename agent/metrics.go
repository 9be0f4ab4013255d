package agent

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// metricsPath is where GET answers the metrics, outside the API prefix, on
// every listener (on TCP with a token, read-only is enough).
const metricsPath = "/metrics"

// metrics serves the engine's registry (engine/metrics.go), with the
// agent's own counter of refused requests added to it.
type metrics struct {
	handler http.Handler
	denied  *prometheus.CounterVec
}

func newMetrics(log *zap.Logger, reg *prometheus.Registry) *metrics {
	m := &metrics{denied: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hostnetd_http_denied_total",
		Help: "TCP requests refused by access control: unauthenticated (401), forbidden (403), rate_limited (429).",
	}, []string{"reason"})}
	reg.MustRegister(m.denied)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      zap.NewStdLog(log.Named("metrics")),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// deny counts a refused request; nil-safe for agents built without metrics.
func (m *metrics) deny(reason string) {
	if m != nil {
		m.denied.WithLabelValues(reason).Inc()
	}
}
