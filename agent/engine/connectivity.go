package engine

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// CodeLostConnection is the fault of a change rolled back because nobody
// confirmed connectivity in time (VDSM's ERR_LOST_CONNECTION).
const CodeLostConnection = "LOST_CONNECTION"

// probeInterval spaces connectivity probes (the engine polls every 500 ms).
const probeInterval = 500 * time.Millisecond

// connectivityCheck is the pending check of a transaction, if any.
type connectivityCheck struct {
	mu      sync.Mutex
	pending chan struct{} // closed by a confirmation; nil when no check runs
}

func (c *connectivityCheck) start() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = make(chan struct{})
	return c.pending
}

func (c *connectivityCheck) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = nil
}

// confirm reports whether a check was pending (and is now confirmed).
func (c *connectivityCheck) confirm() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return false
	}
	select {
	case <-c.pending:
	default:
		close(c.pending)
	}
	return true
}

// awaitConnectivity keeps a transaction open after apply until a client
// confirms (POST confirmconnectivity) or a configured probe reaches its
// target over the new configuration, or the timeout passes.
func (e *Engine) awaitConnectivity(ctx context.Context, timeout time.Duration) *Error {
	confirmed := e.check.start()
	defer e.check.end()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	e.log.Debug("waiting for connectivity to be confirmed", zap.Duration("timeout", timeout), zap.Strings("probes", e.opts.ConnectivityProbes))
	for {
		if target, ok := e.probe(ctx); ok {
			e.log.Debug("connectivity confirmed by a probe", zap.String("probe", target))
			return nil
		}
		select {
		case <-confirmed:
			e.log.Debug("connectivity confirmed by a client")
			return nil
		case <-deadline.C:
			return newError(LostConnection, CodeLostConnection, "Operation Failed",
				"connectivity was not confirmed within %s; the host was rolled back", timeout)
		case <-ctx.Done():
			return newError(LostConnection, CodeLostConnection, "Operation Failed",
				"the request ended before connectivity was confirmed; the host was rolled back")
		case <-tick.C:
		}
	}
}

// probe tries each configured tcp:HOST:PORT from inside the managed
// namespace, so it can only succeed over the new configuration.
func (e *Engine) probe(ctx context.Context) (string, bool) {
	for _, p := range e.opts.ConnectivityProbes {
		addr := strings.TrimPrefix(p, "tcp:")
		reached := false
		_ = e.opts.Namespace.Do(func() error {
			d := net.Dialer{Timeout: probeInterval}
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err == nil {
				conn.Close()
				reached = true
			}
			return nil
		})
		if reached {
			return p, true
		}
	}
	return "", false
}

// ParseProbe checks a --connectivity-probe value.
func ParseProbe(s string) error {
	addr, ok := strings.CutPrefix(s, "tcp:")
	if !ok {
		return fmt.Errorf("connectivity probe %q: want tcp:HOST:PORT", s)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("connectivity probe %q: %w", s, err)
	}
	return nil
}
