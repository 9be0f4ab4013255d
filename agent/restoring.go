package agent

import (
	"net/http"

	"github.com/hostnetd/hostnetd/agent/engine"
)

// refuseWhileRestoring answers writes with 503 until restore has finished.
func (a *Agent) refuseWhileRestoring(w http.ResponseWriter, r *http.Request, f format) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	select {
	case <-a.eng.Restored():
		return false
	default:
	}
	w.Header().Set("Retry-After", "5")
	a.writeFault(w, r, f, newFault(http.StatusServiceUnavailable, engine.CodeRestoreInProgress, "Service unavailable",
		"hostnetd is restoring the persistent network configuration; retry shortly"))
	return true
}
