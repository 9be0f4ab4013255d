package agent

import (
	"net/http"

	"github.com/hostnetd/hostnetd/xmlapi"
)

// commitNetConfig is POST /hosts/{id}/commitnetconfig.
func (a *Agent) commitNetConfig(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	if err := a.eng.Commit(r.Context()); err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, doc: xmlapi.ActionStatus(a.ctx(), "complete")}, nil
}
