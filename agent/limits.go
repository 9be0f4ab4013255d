package agent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// HTTP limits: how long a client may take to send a request, how long an
// idle connection is kept, and how many connections are served at once.
// There is no write timeout: a checked transaction answers only after its
// connectivity check, up to --max-connectivity-timeout later.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxConnections    = 64
)

// setHTTPDefaults fills the HTTP limits left zero.
func (o *Options) setHTTPDefaults() error {
	if o.MaxConnections < 0 || o.ReadHeaderTimeout < 0 || o.ReadTimeout < 0 || o.IdleTimeout < 0 {
		return fmt.Errorf("HTTP limits must not be negative")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&o.ReadTimeout, DefaultReadTimeout)
	def(&o.IdleTimeout, DefaultIdleTimeout)
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	return nil
}

// newServer is the HTTP server of the API, with the agent's limits.
func (a *Agent) newServer(ctx context.Context) *http.Server {
	return &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: a.opts.ReadHeaderTimeout,
		ReadTimeout:       a.opts.ReadTimeout,
		IdleTimeout:       a.opts.IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnState:         trackConnState,
		ErrorLog:          zap.NewStdLog(a.log.Named("http")),
	}
}

// limitConnections bounds the connections each listener serves at once,
// so a client that opens many connections cannot make the daemon take
// more; a further client takes the slot of the connection idle the
// longest, or waits until a request ends (slots.go): connections that
// hold a slot unused cannot lock the others out.
func (a *Agent) limitConnections(listeners []net.Listener) []net.Listener {
	out := make([]net.Listener, len(listeners))
	for i, ln := range listeners {
		out[i] = newSlotListener(ln, a.opts.MaxConnections)
	}
	return out
}
