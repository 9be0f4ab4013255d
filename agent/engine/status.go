package engine

// idleStatus is the STATUS= line when no transaction runs.
func (e *Engine) idleStatus() string {
	select {
	case <-e.restored:
		return "serving"
	default:
		return "restoring the persistent configuration"
	}
}

// busyStatus is the STATUS= line while a transaction runs.
func (e *Engine) busyStatus(txID string) string {
	select {
	case <-e.restored:
		return "transaction " + txID + " in progress"
	default:
		return "restoring the persistent configuration: transaction " + txID + " in progress"
	}
}

// Alive is the watchdog's health check: one cheap netlink request.
func (e *Engine) Alive() error { return e.opts.Namespace.Ping() }
