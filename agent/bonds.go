package agent

import (
	"net/http"

	"github.com/hostnetd/hostnetd/agent/engine"
	"github.com/hostnetd/hostnetd/netconf"
	"github.com/hostnetd/hostnetd/xmlapi"
)

// The design page's per-resource bond calls; each is a one-bond
// setupnetworks.

func (a *Agent) decodeBondBody(r *request) (netconf.BondChange, error) {
	n, err := parseBody(r, "host_nic")
	if err != nil {
		return netconf.BondChange{}, err
	}
	bc, err := xmlapi.DecodeBond(n)
	return bc, decodeFault(err)
}

// addBond is POST /hosts/{id}/nics.
func (a *Agent) addBond(r *request) (response, error) {
	if err := a.checkHost(r); err != nil {
		return response{}, err
	}
	bc, err := a.decodeBondBody(r)
	if err != nil {
		return response{}, err
	}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: netconf.ChangeSet{ModifiedBonds: []netconf.BondChange{bc}}})
	if err != nil {
		return response{}, err
	}
	return a.bondResponse(http.StatusCreated, bc.Ref.Name, res)
}

// updateBond is PUT /hosts/{id}/nics/{bond}.
func (a *Agent) updateBond(r *request) (response, error) {
	_, l, err := a.findNic(r)
	if err != nil {
		return response{}, err
	}
	if l.Kind != netconf.KindBond {
		return response{}, newFault(http.StatusConflict, netconf.CodeNotABond, "Operation Failed", "%s is not a bond; only bonds can be changed", l.Name)
	}
	bc, err := a.decodeBondBody(r)
	if err != nil {
		return response{}, err
	}
	if bc.Ref.Name != "" && bc.Ref.Name != l.Name {
		return response{}, badRequest(CodeInvalidValue, "the body names %s, the path %s", bc.Ref.Name, l.Name)
	}
	bc.Ref = netconf.Ref{Name: l.Name}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: netconf.ChangeSet{ModifiedBonds: []netconf.BondChange{bc}}})
	if err != nil {
		return response{}, err
	}
	return a.bondResponse(http.StatusOK, l.Name, res)
}

// deleteBond is DELETE /hosts/{id}/nics/{bond}: the bond goes together with
// every attachment on it. Any other interface answers 409.
func (a *Agent) deleteBond(r *request) (response, error) {
	_, l, err := a.findNic(r)
	if err != nil {
		return response{}, err
	}
	if l.Kind != netconf.KindBond {
		return response{}, newFault(http.StatusConflict, netconf.CodeNotABond, "Operation Failed", "%s is not a bond; only bonds can be deleted", l.Name)
	}
	cs := netconf.ChangeSet{RemovedBonds: []netconf.Ref{{Name: l.Name}}}
	_, running := a.eng.Snapshot()
	for _, at := range running.Attachments {
		if at.Nic == l.Name {
			cs.RemovedAttachments = append(cs.RemovedAttachments, netconf.AttachmentRef{ID: at.ID})
		}
	}
	res, err := a.eng.Transact(r.Context(), engine.Change{Request: cs})
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, writes: res.Writes}, nil
}

func (a *Agent) bondResponse(status int, name string, res engine.Result) (response, error) {
	st, err := a.eng.State()
	if err != nil {
		return response{}, err
	}
	l, ok := st.Link(name)
	if !ok {
		return response{status: status, writes: res.Writes}, nil
	}
	return response{status: status, doc: xmlapi.HostNic(a.ctx(), st, l), writes: res.Writes}, nil
}
