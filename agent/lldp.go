package agent

import "github.com/hostnetd/hostnetd/xmlapi"

// getLLDP is GET /hosts/{id}/nics/{nic}/linklayerdiscoveryprotocolelements:
// the TLVs its neighbours sent, as the engine reports them (an empty list
// when there is none, or when the link is not one hostnetd listens on).
func (a *Agent) getLLDP(r *request) (response, error) {
	_, l, err := a.findNic(r)
	if err != nil {
		return response{}, err
	}
	return ok(xmlapi.LinkLayerDiscoveryProtocolElements(a.eng.Neighbors(l.Name))), nil
}
