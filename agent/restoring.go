package agent

import (
	"net/http"
)

// refuseWhileRestoring answers writes with 503 until restore has finished.
func (a *Agent) refuseWhileRestoring(w http.ResponseWriter, r *http.Request, f format) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	err := a.eng.Writable()
	if err == nil {
		return false
	}
	w.Header().Set("Retry-After", "5")
	a.writeFault(w, r, f, faultOf(err))
	return true
}
