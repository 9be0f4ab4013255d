package agent

import (
	"github.com/hostnetd/hostnetd/xmlapi"
)

// confirmConnectivity is POST /hosts/{id}/confirmconnectivity. It does not
// take the writer slot: it is called while the setup request holds it.
func (a *Agent) confirmConnectivity(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	if err := a.eng.Confirm(); err != nil {
		return response{}, err
	}
	return ok(xmlapi.ActionStatus(a.ctx(), "complete")), nil
}
