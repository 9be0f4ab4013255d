package agent

import (
	"net/http"

	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// listUnmanagedNetworks is GET /hosts/{id}/unmanagednetworks.
func (a *Agent) listUnmanagedNetworks(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	limit, err := maxParam(r)
	if err != nil {
		return response{}, err
	}
	st, err := a.eng.State()
	if err != nil {
		return response{}, err
	}
	us := a.eng.UnmanagedNetworks(st)
	if limit >= 0 && limit < len(us) {
		us = us[:limit]
	}
	return ok(xmlapi.UnmanagedNetworks(a.ctx(), us)), nil
}

// getUnmanagedNetwork is GET /hosts/{id}/unmanagednetworks/{id}.
func (a *Agent) getUnmanagedNetwork(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	st, err := a.eng.State()
	if err != nil {
		return response{}, err
	}
	key := r.param("unmanagednetwork")
	u, found := findUnmanaged(a.eng.UnmanagedNetworks(st), key)
	if !found {
		return response{}, notFound("unmanaged_network", key)
	}
	return ok(xmlapi.UnmanagedNetwork(a.ctx(), u)), nil
}

// deleteUnmanagedNetwork is DELETE /hosts/{id}/unmanagednetworks/{id}:
// one transaction that deletes the device, journaled and rolled back like
// any other.
func (a *Agent) deleteUnmanagedNetwork(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	st, err := a.eng.State()
	if err != nil {
		return response{}, err
	}
	key := r.param("unmanagednetwork")
	u, found := findUnmanaged(a.eng.UnmanagedNetworks(st), key)
	if !found {
		return response{}, notFound("unmanaged_network", key)
	}
	res, err := a.eng.RemoveUnmanaged(r.Context(), u.Name)
	return response{status: http.StatusOK, writes: res.Writes}, err
}

// findUnmanaged finds an unmanaged network by id (its name in hex) or name.
func findUnmanaged(us []netconf.Unmanaged, key string) (netconf.Unmanaged, bool) {
	for _, u := range us {
		if key == xmlapi.UnmanagedNetworkID(u.Name) || key == u.Name {
			return u, true
		}
	}
	return netconf.Unmanaged{}, false
}
